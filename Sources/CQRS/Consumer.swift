import Foundation
import EventStore

/// Metadata property names a consumer writes on the events its commands append (stored
/// forever: never change them).
public enum ConsumerMetadata {
    /// The public position a command reacted to.
    public static func position(_ consumer: String) -> String { "consumer.\(consumer).position" }
    /// The watermark: every public event up to it had completed when the command was issued.
    public static func watermark(_ consumer: String) -> String { "consumer.\(consumer).safe" }
}

/// One command a consumer sends for a public event.
public struct ConsumerCommand<Command> {
    public var stream: StreamName
    public var command: Command
    public var concurrency: ConcurrencyMode
    public init(stream: StreamName, command: Command, concurrency: ConcurrencyMode = .retrying) {
        self.stream = stream; self.command = command; self.concurrency = concurrency
    }
}

/// Turns public events from the public log into commands on the service's own aggregates,
/// with an exactly-once effect.
///
/// **No separate checkpoint.** Every event a consumer's command appends carries, in its
/// metadata, the public position it reacted to (`consumer.<name>.position`) and a watermark
/// (`consumer.<name>.safe`: every public event up to it had completed when the command was
/// issued). The checkpoint is therefore committed atomically with the effects, in the same
/// append. On start the consumer resumes after the highest watermark found in its own store.
/// Events after the watermark may be delivered again; each command's idempotency key is derived
/// from (consumer, public event id, index), so a repeat is replayed from the idempotency index
/// or, if the index forgot it, refused by the store (`.alreadyApplied`): never applied twice.
///
/// A command the domain rejects is fine (nothing to apply; a decider that wants the rejection
/// recorded emits a rejection event instead of throwing). A store that cannot take writes (full
/// disk) is waited out: with a scheduler, the command is sent again after `retryDelay` (same
/// idempotency key) and the status is `.retrying` meanwhile. Other infrastructure failures
/// (endless conflicts, corrupt state, a throwing mapping) stop the consumer with status
/// `.failed`, logged with the public position; a restart resumes from the store.
///
/// Loop-confined; share the service's `CommandHandler`, so HTTP commands and consumer commands
/// are serialized per stream together.
public final class Consumer<D: Decider> {
    /// Maps a public event to commands; must be deterministic for the exactly-once argument.
    public typealias Mapper = (PublicEventEnvelope) throws -> [ConsumerCommand<D.Command>]

    /// `.failed` carries the public position whose handling failed (the consumer stopped there).
    public enum Status: Hashable, Sendable {
        case idle
        case running
        /// A command could not be stored (e.g. disk full); it is sent again after `retryDelay`.
        case retrying(reason: String)
        case failed(position: LogPosition, reason: String)
        case stopped
    }

    public let name: String
    public let publicLog: EventStore
    public let handler: CommandHandler<D>
    public private(set) var status: Status = .idle
    /// Every public event up to here has been fully handled.
    public private(set) var checkpoint: LogPosition = .start
    /// Public events handled since start; commands that succeeded, were rejected, were repeats.
    public private(set) var handled: UInt64 = 0
    public private(set) var succeeded: UInt64 = 0
    public private(set) var rejected: UInt64 = 0
    public private(set) var repeats: UInt64 = 0

    private let eventTypes: Set<String>
    private let executor: CompletionExecutor
    private let maxInFlight: Int
    private let logger: CQRSLogger
    private let map: Mapper
    private let scheduler: Scheduler?
    private let retryDelay: Duration
    /// `start()` is scanning the store for the checkpoint.
    private var starting = false
    /// Pending re-sends by retry number (cancelled on `stop`).
    private var retryTimers: [Int: Cancellable] = [:]
    private var retriesScheduled = 0
    private var subscription: Subscription?
    private var queue: [PublicEventEnvelope] = []
    private var queueHead = 0
    /// Public position → commands still running for it.
    private var inFlight: [LogPosition: Int] = [:]
    private var lastDelivered: LogPosition = .start

    /// - Parameters:
    ///   - name: stable consumer name (part of stored metadata and idempotency keys).
    ///   - eventTypes: public event types to receive (empty: all).
    ///   - maxInFlight: public events whose commands may run concurrently (per-stream order holds).
    ///   - scheduler, retryDelay: when given, a command the store could not take is sent again
    ///     after `retryDelay` instead of stopping the consumer.
    public init(name: String, publicLog: EventStore, eventTypes: Set<String>, handler: CommandHandler<D>,
                executor: CompletionExecutor, maxInFlight: Int = 32, scheduler: Scheduler? = nil,
                retryDelay: Duration = .seconds(1), logger: @escaping CQRSLogger = { _, _ in },
                map: @escaping Mapper) {
        self.scheduler = scheduler
        self.retryDelay = retryDelay
        self.name = name
        self.publicLog = publicLog
        self.eventTypes = eventTypes
        self.handler = handler
        self.executor = executor
        self.maxInFlight = max(1, maxInFlight)
        self.logger = logger
        self.map = map
    }

    /// Metadata property holding the public position a command reacted to.
    public static func positionProperty(_ name: String) -> String { ConsumerMetadata.position(name) }
    /// Metadata property holding the watermark (everything up to it was done).
    public static func watermarkProperty(_ name: String) -> String { ConsumerMetadata.watermark(name) }

    /// The highest watermark recorded in `store` by consumer `name` (`.start` if none).
    /// Scans the whole store; an app that already scans at startup can use `watermark(in:)`.
    public static func recoverCheckpoint(name: String, store: EventStore, chunk: Int = 4096) throws -> LogPosition {
        var best = LogPosition.start
        try StoreScan.forEach(in: store, chunk: chunk) { e in
            if let w = watermark(in: e, name: name), w > best { best = w }
        }
        return best
    }

    /// The watermark consumer `name` stored on `event`, if any.
    public static func watermark(in event: RecordedEvent, name: String) -> LogPosition? {
        event.metadata.properties[watermarkProperty(name)].flatMap(UInt64.init).map(LogPosition.init)
    }

    /// Subscribes to the public log after `from`; nil: after the watermark recovered by scanning
    /// the handler's store, off the loop (a failed scan stops the consumer, logged).
    public func start(from: LogPosition? = nil) {
        guard subscription == nil, !starting else { return }
        if let from { return follow(from: from) }
        starting = true
        let name = self.name, store = handler.store
        StoreIOThreads.run(executor, { try Consumer.recoverCheckpoint(name: name, store: store) }) { [weak self] recovered in
            guard let self else { return }
            starting = false
            if case .stopped = status { return }
            switch recovered {
            case .success(let checkpoint): follow(from: checkpoint)
            case .failure(let e): fail(LogPosition.start, "cannot recover the checkpoint from the store: \(e)")
            }
        }
    }

    private func follow(from checkpoint: LogPosition) {
        self.checkpoint = checkpoint
        lastDelivered = checkpoint
        status = .running
        logger(.info, "consumer '\(name)' starting after public position \(checkpoint)")
        let filter = eventTypes.isEmpty ? nil : EventFilter(eventTypes: eventTypes)
        subscription = publicLog.subscribe(from: checkpoint, filter: filter, executor: executor) { [weak self] batch in
            self?.receive(batch)
        }
    }

    /// Cancels the subscription; commands already issued still complete. Idempotent.
    public func stop() {
        subscription?.cancel()
        subscription = nil
        for t in retryTimers.values { t.cancel() }
        retryTimers = [:]
        if case .failed = status {} else { status = .stopped }
    }

    /// Public events received but not yet completed.
    public var backlog: Int { queue.count - queueHead + inFlight.count }

    /// How far the consumer has followed the public log: its checkpoint, or, with nothing left
    /// to do, the subscription's scan position (events of other types after the last one it
    /// received need no work; without this a filtered consumer would never show zero lag).
    public var followedTo: LogPosition {
        guard backlog == 0, isActive, let scanned = subscription?.scannedTo else { return checkpoint }
        return max(checkpoint, scanned)
    }

    /// Running or waiting out a store failure.
    private var isActive: Bool {
        switch status {
        case .running, .retrying: return true
        case .idle, .failed, .stopped: return false
        }
    }

    private func receive(_ batch: [RecordedEvent]) {
        guard isActive else { return }
        for r in batch where r.position > lastDelivered {
            lastDelivered = r.position
            if let envelope = PublicEventEnvelope(r) { queue.append(envelope) }
        }
        pump()
    }

    /// Everything delivered before the oldest unfinished public event is done.
    private var watermark: LogPosition {
        var low = lastDelivered
        if queueHead < queue.count { low = min(low, LogPosition(queue[queueHead].position.value - 1)) }
        if let m = inFlight.keys.min() { low = min(low, LogPosition(m.value - 1)) }
        return low
    }

    private func pump() {
        while isActive, inFlight.count < maxInFlight, queueHead < queue.count {
            let envelope = queue[queueHead]
            let safe = watermark
            queueHead += 1
            if queueHead > 1024 && queueHead * 2 > queue.count { queue.removeFirst(queueHead); queueHead = 0 }
            issue(envelope, safe: safe)
        }
        if isActive { checkpoint = watermark }
    }

    private func issue(_ envelope: PublicEventEnvelope, safe: LogPosition) {
        let commands: [ConsumerCommand<D.Command>]
        do { commands = try map(envelope) } catch {
            return fail(envelope.position, "mapping \(envelope.type) failed: \(error)")
        }
        handled += 1
        if commands.isEmpty { return }
        inFlight[envelope.position] = commands.count
        let eventId = envelope.id.description.lowercased()
        for (i, c) in commands.enumerated() {
            let key = "consumer:\(name):\(eventId):\(i)"
            var context = CommandContext(correlationId: envelope.correlationId ?? eventId, causationId: eventId,
                                         idempotencyKey: key, fingerprint: "consumer",
                                         properties: [Consumer.positionProperty(name): String(envelope.position.value),
                                                      Consumer.watermarkProperty(name): String(safe.value)])
            // A reaction continues the trace of the event it reacts to, as a span of its own.
            if let trace = envelope.traceparent.flatMap(TraceParent.init) {
                context.properties[TraceParent.property] = trace.child().description
            }
            send(c, context: context, for: envelope)
        }
    }

    private func send(_ c: ConsumerCommand<D.Command>, context: CommandContext, for envelope: PublicEventEnvelope) {
        handler.handle(c.command, on: c.stream, concurrency: c.concurrency, context: context) { [weak self] result in
            guard let self else { return }
            if case .failure(.store(let e)) = result, e.isStoreUnavailable, let scheduler, isActive {
                if case .running = status {
                    logger(.warning, "consumer '\(name)': store refused \(envelope.type) at \(envelope.position) (retrying every \(retryDelay)): \(e)")
                }
                status = .retrying(reason: e.description)
                retriesScheduled += 1
                let retry = retriesScheduled
                retryTimers[retry] = scheduler.schedule(after: retryDelay) { [weak self] in
                    guard let self, retryTimers.removeValue(forKey: retry) != nil, isActive else { return }
                    send(c, context: context, for: envelope)
                }
                return
            }
            completed(envelope, result)
        }
    }

    private func completed(_ envelope: PublicEventEnvelope, _ result: Result<CommandOutcome<D.Event>, CommandError>) {
        if case .retrying = status, case .success = result {
            status = .running
            logger(.info, "consumer '\(name)': store accepts writes again, resuming")
        }
        switch result {
        case .success(let o):
            if o.replayed { repeats += 1 } else { succeeded += 1 }
        case .failure(.alreadyApplied):
            repeats += 1
        case .failure(.domain(let e)):
            rejected += 1
            logger(.debug, "consumer '\(name)': \(envelope.type) at \(envelope.position) rejected: \(e)")
        case .failure(.versionMismatch), .failure(.streamAlreadyExists), .failure(.idempotencyKeyReused):
            rejected += 1
        case .failure(let e):
            inFlight[envelope.position] = nil
            return fail(envelope.position, "\(e)")
        }
        guard let left = inFlight[envelope.position] else { return }
        if left <= 1 { inFlight[envelope.position] = nil } else { inFlight[envelope.position] = left - 1 }
        pump()
    }

    private func fail(_ position: LogPosition, _ reason: String) {
        if case .failed = status { return }
        status = .failed(position: position, reason: reason)
        subscription?.cancel()
        subscription = nil
        logger(.error, "consumer '\(name)' stopped at public position \(position): \(reason)")
    }
}
