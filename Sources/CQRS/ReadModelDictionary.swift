import HashTreeCollections

/// The dictionary of a read model that grows with every customer or order and is snapshotted:
/// a persistent hash trie (swift-collections' `TreeDictionary`), so that taking a snapshot
/// costs nothing on the loop, then or later.
///
/// Why not a `Dictionary`, or the store's `ShardedDictionary`: a snapshot captures the view on
/// the loop and encodes the copy on another thread. A copy-on-write dictionary shares its
/// storage with that copy, so the loop's next write to it copies all of it (a part of it,
/// sharded): at 200,000 customers the first writes after each capture copied the customer
/// replica and the directory, 180 ms of the loop's time in the first tens of ms, and every
/// command answered then waited (perf in the stall, bench/REPORT.md). Here a write to a shared
/// trie copies only the few nodes on the path to its key, and nothing is ever rehashed as a
/// whole when the view grows. The price: lookups and updates cost about twice a `Dictionary`'s
/// (measured: 400 vs 230 ns a lookup and 510 vs 210 ns an update at 200,000 String keys).
///
/// Order of iteration is unspecified, as a `Dictionary`'s. The API is the part of
/// `Dictionary`'s the read models use.
public struct ReadModelDictionary<Key: Hashable, Value>: Sequence {
    private var tree = TreeDictionary<Key, Value>()

    public init() {}

    /// `capacity` is a hint a trie does not need (kept for call sites that know the count).
    public init(minimumCapacity capacity: Int) {}

    public var count: Int { tree.count }
    public var isEmpty: Bool { tree.isEmpty }

    public subscript(key: Key) -> Value? {
        get { tree[key] }
        set { tree[key] = newValue }
    }

    public subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
        get { tree[key] ?? defaultValue() }
        _modify { yield &tree[key, default: defaultValue()] }
    }

    /// Runs `body` on the value for `key` in place (no copy of it), if there is one.
    @discardableResult
    public mutating func modifyValue<R>(forKey key: Key, _ body: (inout Value) throws -> R) rethrows -> R? {
        try Self.modify(&tree[key], body)
    }

    private static func modify<R>(_ slot: inout Value?, _ body: (inout Value) throws -> R) rethrows -> R? {
        guard slot != nil else { return nil }
        return try body(&slot!)
    }

    @discardableResult
    public mutating func removeValue(forKey key: Key) -> Value? { tree.removeValue(forKey: key) }

    public mutating func removeAll() { tree = [:] }

    public var keys: [Key] { Array(tree.keys) }
    public var values: [Value] { Array(tree.values) }

    public typealias Iterator = TreeDictionary<Key, Value>.Iterator
    public func makeIterator() -> Iterator { tree.makeIterator() }
    public var underestimatedCount: Int { tree.count }
}

extension ReadModelDictionary: Equatable where Value: Equatable {}
extension ReadModelDictionary: Sendable where Key: Sendable, Value: Sendable {}

extension ReadModelDictionary: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (Key, Value)...) {
        for (k, v) in elements { self[k] = v }
    }
}
