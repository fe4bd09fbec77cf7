import Foundation

/// An event store held in memory: for tests and `--durability none` demos.
/// Same contract as `FileEventStore` (it passes the same conformance suite); nothing survives
/// the process. Appends commit synchronously under a lock; completions go through the executor.
public final class MemoryEventStore: EventStore, @unchecked Sendable {
    // Recursive: an inline executor may run a completion or subscription handler that appends.
    private let lock = NSRecursiveLock()
    private var index = StreamIndex()
    private var events: [RecordedEvent] = []
    private var snapshots: [StreamName: Snapshot] = [:]
    private var counters = StoreStats()
    private var isClosed = false
    public let executor: CompletionExecutor
    private let clock: () -> Date
    private let hub = SubscriptionHub()

    /// - Parameters:
    ///   - executor: where append completions run (in commit order).
    ///   - clock: timestamps for recorded events (inject a fixed clock in tests).
    public init(executor: CompletionExecutor = InlineExecutor(), clock: @escaping () -> Date = Date.init) {
        self.executor = executor
        self.clock = clock
    }

    public func append(to stream: StreamName, expected: ExpectedVersion, events newEvents: [NewEvent], completion: @escaping AppendCompletion) {
        lock.lock()
        let result: Result<AppendResult, EventStoreError>
        if isClosed {
            result = .failure(.closed)
        } else {
            var overlay = BatchOverlay(nextPosition: index.lastPosition + 1)
            switch AppendValidator.decide(index: index, overlay: &overlay, stream: stream, expected: expected, events: newEvents) {
            case .reject(let error):
                result = .failure(error)
            case .duplicate(let original):
                counters.appends += 1
                result = .success(original)
            case let .write(firstVersion, firstPosition):
                let now = clock()
                var recorded: [RecordedEvent] = []
                recorded.reserveCapacity(newEvents.count)
                for (i, e) in newEvents.enumerated() {
                    index.append(stream: stream, id: e.id)
                    recorded.append(RecordedEvent(id: e.id, stream: stream, streamVersion: StreamVersion(firstVersion + Int64(i)),
                                                  position: LogPosition(firstPosition + UInt64(i)), type: e.type,
                                                  schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata, timestamp: now))
                }
                events.append(contentsOf: recorded)
                counters.appends += 1
                counters.batches += 1
                counters.batchEvents.observe(Double(newEvents.count))
                counters.eventsWritten += UInt64(newEvents.count)
                // Published under the lock so subscribers see commit order.
                hub.publish(recorded)
                result = .success(AppendResult(nextExpectedVersion: StreamVersion(firstVersion + Int64(newEvents.count) - 1),
                                               firstPosition: LogPosition(firstPosition),
                                               lastPosition: LogPosition(firstPosition + UInt64(newEvents.count) - 1)))
            }
        }
        lock.unlock()
        executor.execute { completion(result) }
    }

    public func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int) throws -> [RecordedEvent] {
        lock.lock(); defer { lock.unlock() }
        guard maxCount > 0, let positions = index.positions(of: stream), !positions.isEmpty, from.value >= 0 else { return [] }
        var out: [RecordedEvent] = []
        switch direction {
        case .forward:
            var v = Int(clamping: from.value)
            while v < positions.count && out.count < maxCount { out.append(events[Int(positions[v] - 1)]); v += 1 }
        case .backward:
            var v = min(Int(clamping: from.value), positions.count - 1)
            while v >= 0 && out.count < maxCount { out.append(events[Int(positions[v] - 1)]); v -= 1 }
        }
        return out
    }

    public func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?) throws -> [RecordedEvent] {
        scan(after: from.value, maxCount: maxCount, filter: filter).events
    }

    private func scan(after: UInt64, maxCount: Int, filter: EventFilter?) -> (events: [RecordedEvent], scannedTo: UInt64) {
        lock.lock(); defer { lock.unlock() }
        var out: [RecordedEvent] = []
        var p = after
        while p < UInt64(events.count) && out.count < maxCount {
            let e = events[Int(p)]
            p += 1
            if filter?.matches(stream: e.stream.value, type: e.type) ?? true { out.append(e) }
        }
        return (out, max(p, after))
    }

    public func listStreams(containing: String?, after: String?, limit: Int) throws -> StreamPage {
        lock.lock()
        defer { lock.unlock() }
        if isClosed { throw EventStoreError.closed }
        return try index.list(containing: containing, after: after, limit: max(1, limit))
    }

    public func streamVersion(_ stream: StreamName) -> StreamVersion? {
        lock.lock(); defer { lock.unlock() }
        return index.version(of: stream).map(StreamVersion.init)
    }

    public var lastPosition: LogPosition {
        lock.lock(); defer { lock.unlock() }
        return LogPosition(index.lastPosition)
    }

    public func subscribe(from: LogPosition, filter: EventFilter?, executor: CompletionExecutor,
                          handler: @escaping ([RecordedEvent]) -> Void) -> Subscription {
        hub.subscribe(from: from, filter: filter, executor: executor, handler: handler) { [weak self] after, max, filter in
            guard let self else { throw EventStoreError.closed }
            return self.scan(after: after, maxCount: max, filter: filter)
        }
    }

    public func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8]) throws {
        lock.lock(); defer { lock.unlock() }
        if isClosed { throw EventStoreError.closed }
        snapshots[stream] = Snapshot(version: version, data: data)
    }

    public func loadSnapshot(_ stream: StreamName) throws -> Snapshot? {
        lock.lock(); defer { lock.unlock() }
        return snapshots[stream]
    }

    public var health: StoreHealth {
        lock.lock(); defer { lock.unlock() }
        return isClosed ? .unhealthy(reason: "closed") : .healthy
    }

    public var stats: StoreStats { lock.lock(); defer { lock.unlock() }; return counters }

    public func close() {
        lock.lock()
        isClosed = true
        lock.unlock()
        hub.closeAll()
    }
}
