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
struct ShardedDictionary<Key: ShardKey, Value>: Sequence {
    static var shardCount: Int { 64 }
    private var shards: [[Key: Value]]
    private(set) var count = 0

    init() {
        shards = Array(repeating: [:], count: Self.shardCount)
    }

    @inline(__always)
    private static func shard(_ key: Key) -> Int {
        // The multiply spreads low-entropy hashes; the top bits pick the part.
        Int(truncatingIfNeeded: (key.shardHash &* 0x9E37_79B9_7F4A_7C15) >> 58)
    }

    subscript(key: Key) -> Value? {
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

    /// Room for about `capacity` entries in all.
    mutating func reserveCapacity(_ capacity: Int) {
        let each = (capacity + Self.shardCount - 1) / Self.shardCount
        for s in shards.indices { shards[s].reserveCapacity(each) }
    }

    struct Iterator: IteratorProtocol {
        private var shards: IndexingIterator<[[Key: Value]]>
        private var current: Dictionary<Key, Value>.Iterator?

        init(_ shards: [[Key: Value]]) { self.shards = shards.makeIterator() }

        mutating func next() -> (key: Key, value: Value)? {
            while true {
                if let e = current?.next() { return e }
                guard let shard = shards.next() else { return nil }
                current = shard.makeIterator()
            }
        }
    }

    func makeIterator() -> Iterator { Iterator(shards) }
    var underestimatedCount: Int { count }
}

extension ShardedDictionary: Equatable where Value: Equatable {
    /// Same keys with equal values (the parts are chosen by key, so part by part).
    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && lhs.shards == rhs.shards
    }
}

/// A key's hash for choosing a part of a `ShardedDictionary`: cheap, stable within a process,
/// and independent of the `Hashable` one the part's dictionary uses inside.
protocol ShardKey: Hashable {
    var shardHash: UInt64 { get }
}

extension String: ShardKey {
    /// FNV-1a over the length and the first and last 8 UTF-8 bytes (all of them up to 16): keys
    /// differ at their ends (ids, numbers), and hashing every byte of every key cost 2.5 % of a
    /// command's instructions (callgrind). Keys alike at both ends only share a part: slower
    /// growth, never a wrong answer.
    var shardHash: UInt64 {
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
    var shardHash: UInt64 { value.shardHash }
}

extension EventID: ShardKey {
    var shardHash: UInt64 { high ^ low }
}
