/// A small FIFO with O(1) amortized removal at the head (compacts when half is dead).
struct FIFO<Element> {
    private var items: [Element]
    private var start = 0
    init(_ first: Element) { items = [first] }
    var head: Element? { start < items.count ? items[start] : nil }
    var count: Int { items.count - start }
    var isEmpty: Bool { start >= items.count }
    mutating func append(_ e: Element) { items.append(e) }
    mutating func removeHead() {
        guard start < items.count else { return }
        start += 1
        if start >= 32 && start * 2 >= items.count { items.removeFirst(start); start = 0 }
    }
}
