import Foundation
import EventStore

/// The outbox without two-phase commit: tails a service's own store and appends the public
/// events its pure mapping yields to the public log.
///
/// **Exactly once in the public log.** Each public event's id is derived from (source service,
/// internal position, index), so publishing the same internal event again — after a crash,
/// or from scratch — is absorbed by the public log's idempotent append.
///
/// **Checkpoint.** Recovered from the public log itself: the newest event of the source's
/// public stream carries `source-position`, the internal position it came from. Appends are
/// made strictly in internal order, one at a time, so everything up to that position is
/// published. No separate checkpoint file means no second write to keep consistent with the
/// first; internal events that map to nothing after that position are simply mapped again.
///
/// Loop-confined; `executor` runs subscription batches and store completions on the loop.
public final class Publisher {
    /// Maps one internal event (already upcast) to zero or more public events. Must be pure:
    /// re-publishing relies on it giving the same output for the same input.
    public typealias Mapper = (RecordedEvent) throws -> [PublicEventDraft]

    public enum Status: Hashable, Sendable {
        case idle
        case running
        /// The mapping threw for the internal event at `position`; publishing stopped there.
        case failed(position: LogPosition, reason: String)
        /// An append failed; it is retried after `retryDelay`.
        case retrying(reason: String)
        case stopped
    }

    /// Service name, the envelope's `source`.
    public let source: String
    public let store: EventStore
    public let publicLog: EventStore
    public private(set) var status: Status = .idle { didSet { statusChanges &+= 1 } }
    /// Counts assignments of `status`, for `appendHealthStamp`.
    private(set) var statusChanges: UInt64 = 0
    /// Internal position up to which everything is published (or mapped to nothing).
    public private(set) var checkpoint: LogPosition = .start
    /// Public events appended since start (idempotent repeats included).
    public private(set) var published: UInt64 = 0

    private let executor: CompletionExecutor
    private let scheduler: Scheduler
    private let upcasters: UpcasterChain
    private let retryDelay: Duration
    private let maxBatch: Int
    private let logger: CQRSLogger
    private let map: Mapper
    private var subscription: Subscription?
    private struct Item { var event: NewEvent; var sourcePosition: LogPosition }
    private var pending: [Item] = []
    private var pendingHead = 0
    /// Last internal position mapped (its public events are in `pending` or published).
    private var mappedUpTo: LogPosition = .start
    private var appending = false
    /// After an idempotency conflict (a re-run whose batches split differently from the first
    /// run's), this many items are appended one internal event's group at a time.
    private var singlesLeft = 0
    private var retryTimer: Cancellable?
    /// Set when publishing cannot continue safely (see the idempotency-conflict case).
    private var halted = false
    /// `start()` is reading the checkpoint.
    private var starting = false

    /// - Parameters:
    ///   - source: service name (the public stream is `StreamName(source)`).
    ///   - store: the service's own store (the outbox).
    ///   - publicLog: the shared public log store.
    ///   - upcasters: the service's upcasters, applied before `map`.
    public init(source: String, store: EventStore, publicLog: EventStore, executor: CompletionExecutor, scheduler: Scheduler,
                upcasters: UpcasterChain = UpcasterChain(), retryDelay: Duration = .seconds(1), maxBatch: Int = 1024,
                logger: @escaping CQRSLogger = { _, _ in }, map: @escaping Mapper) {
        self.source = source
        self.store = store
        self.publicLog = publicLog
        self.executor = executor
        self.scheduler = scheduler
        self.upcasters = upcasters
        self.retryDelay = retryDelay
        self.maxBatch = max(1, maxBatch)
        self.logger = logger
        self.map = map
    }

    /// The public-log stream this publisher appends to.
    public var publicStream: StreamName { StreamName(source) }

    /// Internal events not yet published.
    public var lag: UInt64 {
        let last = store.lastPosition.value
        return last > checkpoint.value ? last - checkpoint.value : 0
    }

    /// The deterministic id of the `index`-th public event mapped from internal `position`.
    public static func eventID(source: String, position: LogPosition, index: Int) -> EventID {
        DeterministicID.make("public", source, String(position.value), String(index))
    }

    /// The internal position of the newest event this source published (`.start` if none).
    /// Blocks (reads the public log): for tools and tests, not the loop.
    public func recoverCheckpoint() throws -> LogPosition {
        Self.checkpoint(in: try publicLog.readStream(publicStream, from: .end, direction: .backward, maxCount: 1))
    }

    private static func checkpoint(in newest: [RecordedEvent]) -> LogPosition {
        LogPosition(newest.first?.metadata.properties[PublicMetadata.sourcePosition].flatMap(UInt64.init) ?? 0)
    }

    /// Starts tailing after `from`; nil: after the checkpoint recovered from the public log, read
    /// off the loop first (while it cannot be read, the publisher retries after `retryDelay`).
    public func start(from: LogPosition? = nil) {
        guard subscription == nil, !starting else { return }
        if let from { return follow(from: from) }
        starting = true
        publicLog.readStream(publicStream, from: .end, direction: .backward, maxCount: 1) { [weak self] read in
            guard let self else { return }
            starting = false
            if case .stopped = status { return }
            switch read {
            case .success(let newest):
                follow(from: Self.checkpoint(in: newest))
            case .failure(let e):
                status = .retrying(reason: "cannot read the checkpoint from the public log: \(e)")
                logger(.warning, "publisher '\(source)' cannot read its checkpoint (retrying in \(retryDelay)): \(e)")
                retryTimer = scheduler.schedule(after: retryDelay) { [weak self] in self?.start() }
            }
        }
    }

    private func follow(from checkpoint: LogPosition) {
        self.checkpoint = checkpoint
        mappedUpTo = checkpoint
        status = .running
        logger(.info, "publisher '\(source)' starting after internal position \(checkpoint)")
        subscription = store.subscribe(from: checkpoint, filter: nil, executor: executor) { [weak self] batch in
            self?.receive(batch)
        }
    }

    /// Cancels the subscription and any pending retry. Idempotent.
    public func stop() {
        subscription?.cancel()
        subscription = nil
        retryTimer?.cancel()
        retryTimer = nil
        if case .failed = status {} else { status = .stopped }
    }

    private func receive(_ batch: [RecordedEvent]) {
        switch status { case .running, .retrying: break; default: return }
        for ev in batch where ev.position > mappedUpTo {
            if RuntimeMetadata.isInternal(ev.stream) { mappedUpTo = ev.position; continue }
            let drafts: [PublicEventDraft]
            do {
                drafts = try map(try upcasters.upcast(ev))
            } catch {
                status = .failed(position: ev.position, reason: "\(error)")
                subscription?.cancel()
                subscription = nil
                logger(.error, "publisher '\(source)' cannot map internal event at position \(ev.position) (\(ev.type)): \(error)")
                break
            }
            let occurredAt = RFC3339.format(ev.timestamp)
            let trace = ev.metadata.properties[TraceParent.property]
            for (i, d) in drafts.enumerated() {
                var meta = EventMetadata(correlationId: ev.metadata.correlationId ?? ev.id.description.lowercased(),
                                         causationId: ev.id.description.lowercased(),
                                         properties: [PublicMetadata.source: source,
                                                      PublicMetadata.sourcePosition: String(ev.position.value),
                                                      PublicMetadata.sourceIndex: String(i),
                                                      PublicMetadata.occurredAt: occurredAt])
                // The span that appended the internal event published it too.
                if let trace { meta.properties[TraceParent.property] = trace }
                let e = NewEvent(id: Publisher.eventID(source: source, position: ev.position, index: i),
                                 type: d.type, schemaVersion: d.version, data: d.data, metadata: meta)
                pending.append(Item(event: e, sourcePosition: ev.position))
            }
            mappedUpTo = ev.position
        }
        pump()
    }

    private func pump() {
        guard !appending, !halted else { return }
        // After a mapping failure, what was mapped before the failing event is still published.
        switch status { case .running, .retrying, .failed: break; default: return }
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
            checkpoint = mappedUpTo
            return
        }
        // Never split the public events of one internal event across appends: the recovered
        // checkpoint treats the internal event of the newest public event as fully published.
        var n = singlesLeft > 0 ? 1 : min(maxBatch, pending.count - pendingHead)
        while pendingHead + n < pending.count
                && pending[pendingHead + n].sourcePosition == pending[pendingHead + n - 1].sourcePosition {
            n += 1
        }
        let items = Array(pending[pendingHead..<(pendingHead + n)])
        appending = true
        publicLog.append(to: publicStream, expected: .any, events: items.map { $0.event }) { [self] result in
            appending = false
            switch result {
            case .success:
                pendingHead += n
                if pendingHead >= 4096 && pendingHead * 2 >= pending.count {
                    // Keep memory bounded under sustained load (the queue may never fully drain).
                    pending.removeFirst(pendingHead)
                    pendingHead = 0
                }
                published += UInt64(n)
                if singlesLeft > 0 { singlesLeft = max(0, singlesLeft - n) }
                // Everything before the next pending item's internal event is published.
                checkpoint = pendingHead < pending.count ? LogPosition(pending[pendingHead].sourcePosition.value - 1) : mappedUpTo
                if case .retrying = status { status = .running }
                pump()
            case .failure(.idempotencyConflict(_, let reason)):
                if items[0].sourcePosition != items[n - 1].sourcePosition {
                    // Part of this batch was published by an earlier run: go group by group.
                    singlesLeft = n
                    pump()
                } else {
                    // One internal event's group partly stored: the mapping is not pure, or the
                    // ids clash. Publishing on would reorder or lose events: halt, loudly.
                    halted = true
                    status = .failed(position: items[0].sourcePosition, reason: "public log refused the events: \(reason)")
                    subscription?.cancel()
                    subscription = nil
                    logger(.error, "publisher '\(source)' halted at internal position \(items[0].sourcePosition): \(reason)")
                }
            case .failure(let e):
                if case .failed = status {} else { status = .retrying(reason: e.description) }
                logger(.warning, "publisher '\(source)' append failed (retrying in \(retryDelay)): \(e)")
                retryTimer = scheduler.schedule(after: retryDelay) { [weak self] in self?.pump() }
            }
        }
    }
}
