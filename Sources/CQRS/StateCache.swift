import EventStore

/// A bounded LRU map from stream to loaded aggregate state. Loop-confined.
///
/// Every access stamps the stream with a tick and appends (stream, tick) to a recency queue;
/// an older pair of the same stream stays behind in the queue and is skipped when it reaches
/// the head (its tick no longer matches). Eviction pops from the head, so it costs O(1)
/// amortized and never copies or sorts the states. The queue is compacted when stale pairs
/// make up most of it, so it stays within a small multiple of the entry count.
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

    private struct Slot {
        var entry: Entry
        var tick: UInt64
    }

    private struct Use {
        let stream: StreamName
        let tick: UInt64
    }

    let capacity: Int
    private var slots: [StreamName: Slot] = [:]
    private var recency: [Use] = []
    /// Index of the queue's head in `recency` (popped pairs before it are dead).
    private var head = 0
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { slots.count }

    /// Pairs in the recency queue, stale ones included (for tests of its bound).
    var queuedUses: Int { recency.count - head }

    func get(_ stream: StreamName) -> Entry? {
        guard slots[stream] != nil else { return nil }
        let tick = touch(stream)
        slots[stream]!.tick = tick
        return slots[stream]!.entry
    }

    func put(_ stream: StreamName, _ entry: Entry) {
        slots[stream] = Slot(entry: entry, tick: touch(stream))
        if slots.count > capacity { evict() }
    }

    func remove(_ stream: StreamName) { slots[stream] = nil }

    func removeAll() {
        slots = [:]
        recency = []
        head = 0
    }

    /// Records a use of `stream` and returns its tick.
    private func touch(_ stream: StreamName) -> UInt64 {
        // Compact before appending: the new pair's tick is not yet the stream's.
        if recency.count - head > 2 * slots.count + 64 { compact() }
        clock += 1
        recency.append(Use(stream: stream, tick: clock))
        return clock
    }

    /// Drops the least recently used streams until a quarter of the capacity is free, so
    /// evictions come in batches rather than one per insert.
    private func evict() {
        let target = capacity - capacity / 4
        while slots.count > target, head < recency.count {
            let use = recency[head]
            head += 1
            if slots[use.stream]?.tick == use.tick {
                slots[use.stream] = nil
            }
        }
        if head > 1024 && head * 2 > recency.count { compact() }
    }

    /// Rebuilds the queue from the live pairs only, in the same order.
    private func compact() {
        var live: [Use] = []
        live.reserveCapacity(slots.count + 64)
        for i in head..<recency.count where slots[recency[i].stream]?.tick == recency[i].tick {
            live.append(recency[i])
        }
        recency = live
        head = 0
    }
}
