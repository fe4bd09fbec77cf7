/// A dictionary kept as 64 dictionaries, the key's `shardHash` choosing one: for the store's
/// indexes, which grow with every new stream and event. (Read models, which are also
/// snapshotted, use CQRS's `ReadModelDictionary`: a write after a snapshot's copy copies a
/// part here, a few nodes there.)
///
/// Why: a Swift `Dictionary` grows by rehashing all its entries at once. The store's stream
/// index, its id index and the read models keyed by customer all grow together, so at 49,152
/// and 98,304 entries (three quarters of 2^16 and 2^17) they all rehashed in the same moment,
/// on the loop and on the store's writer: a 100–400 ms stall in every command answered at that
/// time, longer at each doubling (bench/REPORT.md, the open model). Here one growth rehashes a
/// 64th of the entries, and the 64 parts reach their thresholds at different moments.
///
/// A copy shares the parts; the first write to a part after it copies that part only, not the
/// whole.
///
/// Order of iteration is unspecified, as a `Dictionary`'s.
public struct ShardedDictionary<Key: ShardKey, Value>: Sequence {
    public static var shardCount: Int { 64 }
    private var shards: [[Key: Value]]
    public private(set) var count = 0

    public init() {
        shards = Array(repeating: [:], count: Self.shardCount)
    }

    /// An empty dictionary with room for about `capacity` entries in all.
    public init(minimumCapacity capacity: Int) {
        self.init()
        reserveCapacity(capacity)
    }

    /// The entries of `dictionary`.
    public init(_ dictionary: [Key: Value]) {
        self.init(minimumCapacity: dictionary.count)
        for (k, v) in dictionary { self[k] = v }
    }

    public var isEmpty: Bool { count == 0 }

    /// Runs `body` on the value for `key` in place (no copy of it), if there is one.
    @discardableResult
    public mutating func modifyValue<R>(forKey key: Key, _ body: (inout Value) throws -> R) rethrows -> R? {
        let s = Self.shard(key)
        guard let at = shards[s].index(forKey: key) else { return nil }
        return try body(&shards[s].values[at])
    }

    @inline(__always)
    private static func shard(_ key: Key) -> Int {
        // The multiply spreads low-entropy hashes; the top bits pick the part.
        Int(truncatingIfNeeded: (key.shardHash &* 0x9E37_79B9_7F4A_7C15) >> 58)
    }

    public subscript(key: Key) -> Value? {
        get { shards[Self.shard(key)][key] }
        set {
            let s = Self.shard(key)
            if let newValue {
                if shards[s].updateValue(newValue, forKey: key) == nil { count += 1 }
            } else if shards[s].removeValue(forKey: key) != nil {
                count -= 1
            }
        }
    }

    public subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
        get { shards[Self.shard(key)][key] ?? defaultValue() }
        _modify {
            let s = Self.shard(key)
            let before = shards[s].count
            yield &shards[s][key, default: defaultValue()]
            count += shards[s].count - before
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: Key) -> Value? {
        let removed = shards[Self.shard(key)].removeValue(forKey: key)
        if removed != nil { count -= 1 }
        return removed
    }

    public mutating func removeAll() {
        for s in shards.indices { shards[s] = [:] }
        count = 0
    }

    public mutating func reserveCapacity(_ capacity: Int) {
        let each = (capacity + Self.shardCount - 1) / Self.shardCount
        for s in shards.indices { shards[s].reserveCapacity(each) }
    }

    public var keys: [Key] {
        var out: [Key] = []
        out.reserveCapacity(count)
        for shard in shards { out.append(contentsOf: shard.keys) }
        return out
    }

    public var values: [Value] {
        var out: [Value] = []
        out.reserveCapacity(count)
        for shard in shards { out.append(contentsOf: shard.values) }
        return out
    }

    public struct Iterator: IteratorProtocol {
        private var shards: IndexingIterator<[[Key: Value]]>
        private var current: Dictionary<Key, Value>.Iterator?

        init(_ shards: [[Key: Value]]) { self.shards = shards.makeIterator() }

        public mutating func next() -> (key: Key, value: Value)? {
            while true {
                if let e = current?.next() { return e }
                guard let shard = shards.next() else { return nil }
                current = shard.makeIterator()
            }
        }
    }

    public func makeIterator() -> Iterator { Iterator(shards) }
    public var underestimatedCount: Int { count }
}

extension ShardedDictionary: Equatable where Value: Equatable {
    /// Same keys with equal values (the parts are chosen by key, so part by part).
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && lhs.shards == rhs.shards
    }
}

extension ShardedDictionary: Sendable where Key: Sendable, Value: Sendable {}

extension ShardedDictionary: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (Key, Value)...) {
        self.init(minimumCapacity: elements.count)
        for (k, v) in elements { self[k] = v }
    }
}

/// A key's hash for choosing a part of a `ShardedDictionary`: cheap, stable within a process,
/// and independent of the `Hashable` one the part's dictionary uses inside.
public protocol ShardKey: Hashable {
    var shardHash: UInt64 { get }
}

extension String: ShardKey {
    /// FNV-1a over the length and the first and last 8 UTF-8 bytes (all of them up to 16): keys
    /// differ at their ends (ids, numbers), and hashing every byte of every key cost 2.5 % of a
    /// command's instructions (callgrind). Keys alike at both ends only share a part: slower
    /// growth, never a wrong answer.
    public var shardHash: UInt64 {
        let utf8 = self.utf8
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(truncatingIfNeeded: utf8.count)
        if utf8.count <= 16 {
            for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        } else {
            for b in utf8.prefix(8) { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            for b in utf8.suffix(8) { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        }
        return h
    }
}

extension StreamName: ShardKey {
    public var shardHash: UInt64 { value.shardHash }
}

extension EventID: ShardKey {
    public var shardHash: UInt64 { high ^ low }
}
