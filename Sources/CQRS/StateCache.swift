import EventStore

/// A bounded LRU map from stream to loaded aggregate state. Loop-confined.
///
/// A doubly linked list threaded through an array of nodes (indices, no references) keeps the
/// use order: a hit moves its node to the front, an insert beyond `capacity` drops the node at
/// the back. Every operation is O(1) and none ever walks or copies the cached states (an
/// earlier version sorted the whole cache to evict, a stall of tens of milliseconds).
final class StateCache<State> {
    struct Entry {
        var state: State
        /// Version of the newest event folded in; nil if the stream has no events.
        var version: StreamVersion?
        /// Global position of that event (`.start` if unknown or none).
        var position: LogPosition
        /// Version of the last snapshot saved or loaded (nil: none).
        var snapshotVersion: StreamVersion?
    }

    private struct Node {
        var stream: StreamName
        /// nil only while the node is on the free list.
        var entry: Entry?
        /// Neighbours towards the most (`newer`) and least (`older`) recently used end; -1: none.
        var newer: Int
        var older: Int
    }

    let capacity: Int
    private var nodes: [Node] = []
    private var indexOf: [StreamName: Int] = [:]
    private var freeNodes: [Int] = []
    private var newest = -1
    private var oldest = -1

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { indexOf.count }

    /// Nodes allocated, free ones included (for tests: never more than `capacity + 1`).
    var storageCount: Int { nodes.count }

    func get(_ stream: StreamName) -> Entry? {
        guard let i = indexOf[stream] else { return nil }
        moveToFront(i)
        return nodes[i].entry
    }

    func put(_ stream: StreamName, _ entry: Entry) {
        if let i = indexOf[stream] {
            nodes[i].entry = entry
            moveToFront(i)
            return
        }
        let node = Node(stream: stream, entry: entry, newer: -1, older: -1)
        let i: Int
        if let reused = freeNodes.popLast() {
            i = reused
            nodes[i] = node
        } else {
            i = nodes.count
            nodes.append(node)
        }
        indexOf[stream] = i
        linkAtFront(i)
        if indexOf.count > capacity { remove(nodes[oldest].stream) }
    }

    func remove(_ stream: StreamName) {
        guard let i = indexOf.removeValue(forKey: stream) else { return }
        unlink(i)
        nodes[i].entry = nil   // releases the state now
        freeNodes.append(i)
    }

    func removeAll() {
        nodes = []
        indexOf = [:]
        freeNodes = []
        newest = -1
        oldest = -1
    }

    private func moveToFront(_ i: Int) {
        guard i != newest else { return }
        unlink(i)
        linkAtFront(i)
    }

    private func linkAtFront(_ i: Int) {
        nodes[i].newer = -1
        nodes[i].older = newest
        if newest >= 0 { nodes[newest].newer = i }
        newest = i
        if oldest < 0 { oldest = i }
    }

    private func unlink(_ i: Int) {
        let newer = nodes[i].newer, older = nodes[i].older
        if newer >= 0 { nodes[newer].older = older } else { newest = older }
        if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        nodes[i].newer = -1
        nodes[i].older = -1
    }
}
