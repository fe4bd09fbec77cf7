import Foundation

/// A running catch-up-then-live subscription. Cancel it to stop deliveries.
public final class Subscription: @unchecked Sendable {
    public typealias Scanner = (_ after: UInt64, _ maxCount: Int, _ filter: EventFilter?) throws -> (events: [RecordedEvent], scannedTo: UInt64)

    // Recursive: an inline executor may run the handler (which may cancel) while we hold it.
    private let lock = NSRecursiveLock()
    private let filter: EventFilter?
    private let executor: CompletionExecutor
    private let handler: ([RecordedEvent]) -> Void
    private weak var hub: SubscriptionHub?
    /// Last position delivered or skipped by the filter.
    private var cursor: UInt64
    private var live = false
    private var buffer: [RecordedEvent] = []
    private var cancelled = false
    private var failure: EventStoreError?
    /// Catch-up chunks handed to the executor and not yet handled. The reader waits while
    /// `maxChunksInFlight` are, so catching up holds a few chunks in memory, not the whole
    /// store (unbounded, a full rebuild once queued the whole log for the loop).
    /// Its own lock, taken after `lock` or alone, never before it.
    private let flow = NSCondition()
    private var chunksInFlight = 0
    static let maxChunksInFlight = 2

    init(from: LogPosition, filter: EventFilter?, executor: CompletionExecutor, handler: @escaping ([RecordedEvent]) -> Void, hub: SubscriptionHub) {
        self.cursor = from.value
        self.filter = filter
        self.executor = executor
        self.handler = handler
        self.hub = hub
    }

    /// Stops deliveries: no handler call starts after `cancel()` returns (on the executor's thread).
    public func cancel() {
        lock.lock()
        cancelled = true
        buffer = []
        lock.unlock()
        hub?.remove(self)
    }

    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Whether catch-up has finished and events now arrive as they are committed.
    public var isLive: Bool { lock.lock(); defer { lock.unlock() }; return live }

    /// Every event up to here has been handed to the executor or skipped by the filter. With a
    /// filter this runs ahead of the last delivered event: a follower whose own work is done
    /// is caught up to here, not just to the last event it was given.
    public var scannedTo: LogPosition { lock.lock(); defer { lock.unlock() }; return LogPosition(cursor) }

    /// Set if catch-up failed (e.g. a corrupt record); the subscription is then stopped.
    public var error: EventStoreError? { lock.lock(); defer { lock.unlock() }; return failure }

    /// Catch-up loop, run on a background queue: reads stored events until it reaches the
    /// committed end, then (under the lock) flushes what arrived live meanwhile and goes live.
    /// Events published after registration land in `buffer`; those at or before the cursor were
    /// already read, so the seam has no gap and no duplicate.
    func runCatchUp(scan: Scanner, chunk: Int = 4096) {
        while true {
            waitForRoom()
            lock.lock()
            let after = cursor
            let stop = cancelled
            lock.unlock()
            if stop { return }
            let result: (events: [RecordedEvent], scannedTo: UInt64)
            do {
                result = try scan(after, chunk, filter)
            } catch {
                lock.lock()
                failure = (error as? EventStoreError) ?? .invalidArgument("\(error)")
                cancelled = true
                lock.unlock()
                hub?.remove(self)
                return
            }
            lock.lock()
            if cancelled { lock.unlock(); return }
            if result.scannedTo <= cursor {
                let pending = buffer.filter { $0.position.value > cursor }
                buffer = []
                live = true
                if let last = pending.last { cursor = last.position.value; deliver(pending) }
                lock.unlock()
                return
            }
            cursor = result.scannedTo
            if !result.events.isEmpty { deliver(result.events, catchUp: true) }
            lock.unlock()
        }
    }

    /// Blocks the catch-up reader while `maxChunksInFlight` chunks wait for the handler
    /// (returns at once once cancelled: the executor may never run them).
    private func waitForRoom() {
        flow.lock()
        while chunksInFlight >= Self.maxChunksInFlight {
            if !flow.wait(until: Date().addingTimeInterval(0.1)) {
                flow.unlock()
                if isCancelled { return }
                flow.lock()
            }
        }
        flow.unlock()
    }

    /// Called by the store after events are committed, in commit order.
    func offer(_ events: [RecordedEvent]) {
        lock.lock()
        defer { lock.unlock() }
        if cancelled { return }
        let matching = events.filter { $0.position.value > cursor && (filter?.matches(stream: $0.stream.value, type: $0.type) ?? true) }
        if !live {
            buffer.append(contentsOf: matching)
            return
        }
        if let last = events.last, last.position.value > cursor { cursor = last.position.value }
        if !matching.isEmpty { deliver(matching) }
    }

    /// Must be called with the lock held so submissions to the executor keep global order.
    private func deliver(_ events: [RecordedEvent], catchUp: Bool = false) {
        if catchUp { flow.lock(); chunksInFlight += 1; flow.unlock() }
        executor.execute { [self] in
            defer {
                if catchUp { flow.lock(); chunksInFlight -= 1; flow.signal(); flow.unlock() }
            }
            if self.isCancelled { return }
            self.handler(events)
        }
    }

    func stopForClose() {
        lock.lock()
        cancelled = true
        buffer = []
        lock.unlock()
    }
}

/// The set of live subscriptions of one store, for every engine: `subscribe` catches a new
/// subscription up through the engine's `Scanner` (a blocking read, run on the hub's own queue)
/// and `publish` hands it each committed batch. The engine must publish every committed event
/// exactly once, in position order with no gap; the hub then guarantees each subscriber no gap
/// and no duplicate at the seam between the two phases.
public final class SubscriptionHub: @unchecked Sendable {
    private let lock = NSLock()
    private var subscriptions: [ObjectIdentifier: Subscription] = [:]
    private let catchUpQueue = DispatchQueue(label: "tributary.eventstore.catchup", attributes: .concurrent)

    public init() {}

    /// Cheap check so the writer only builds `RecordedEvent`s when someone listens.
    public var hasSubscribers: Bool { lock.lock(); defer { lock.unlock() }; return !subscriptions.isEmpty }

    /// Registers first (so live events are buffered), then starts catch-up in the background.
    public func subscribe(from: LogPosition, filter: EventFilter?, executor: CompletionExecutor,
                   handler: @escaping ([RecordedEvent]) -> Void, scan: @escaping Subscription.Scanner) -> Subscription {
        let sub = Subscription(from: from, filter: filter, executor: executor, handler: handler, hub: self)
        lock.lock()
        subscriptions[ObjectIdentifier(sub)] = sub
        lock.unlock()
        catchUpQueue.async { sub.runCatchUp(scan: scan) }
        return sub
    }

    func remove(_ sub: Subscription) {
        lock.lock()
        subscriptions[ObjectIdentifier(sub)] = nil
        lock.unlock()
    }

    public func publish(_ events: [RecordedEvent]) {
        guard !events.isEmpty else { return }
        lock.lock()
        let subs = Array(subscriptions.values)
        lock.unlock()
        for s in subs { s.offer(events) }
    }

    public func closeAll() {
        lock.lock()
        let subs = Array(subscriptions.values)
        subscriptions = [:]
        lock.unlock()
        for s in subs { s.stopForClose() }
    }
}
