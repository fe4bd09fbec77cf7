import EventStore

/// A bounded, approximately-LRU map from stream to loaded aggregate state. Loop-confined.
///
/// Each access stamps the entry with a tick; when the map grows past `capacity`, the least
/// recently used quarter is evicted in one sort, which keeps the amortized cost O(log n)
/// without a linked list.
final class StateCache<State> {
    struct Entry {
        var state: State
        /// Version of the newest event folded in; nil if the stream has no events.
        var version: StreamVersion?
        /// Global position of that event (`.start` if unknown or none).
        var position: LogPosition
        /// Version of the last snapshot saved or loaded (nil: none).
        var snapshotVersion: StreamVersion?
        var tick: UInt64 = 0
    }

    let capacity: Int
    private var entries: [StreamName: Entry] = [:]
    private var clock: UInt64 = 0
    private(set) var evictions = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { entries.count }

    func get(_ stream: StreamName) -> Entry? {
        guard var e = entries[stream] else { return nil }
        clock += 1
        e.tick = clock
        entries[stream] = e
        return e
    }

    func put(_ stream: StreamName, _ entry: Entry) {
        var e = entry
        clock += 1
        e.tick = clock
        entries[stream] = e
        if entries.count > capacity { evict() }
    }

    func remove(_ stream: StreamName) { entries[stream] = nil }

    func removeAll() { entries = [:] }

    private func evict() {
        let target = capacity - capacity / 4
        let victims = entries.sorted { $0.value.tick < $1.value.tick }.prefix(entries.count - target)
        for (k, _) in victims { entries[k] = nil }
        evictions += victims.count
    }
}
