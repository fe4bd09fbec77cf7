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
/// idempotency key) and the status is `.retrying` meanwhile.
///
/// **Failures.** Any other failure of a public event (endless conflicts, corrupt state, a store
/// error) follows the `FailurePolicy`: the consumer holds (issues nothing new, so the order of
/// reactions is kept) and handles the event again after a growing pause, up to
/// `policy.retries` times (a throwing mapping is not retried: it is pure, it would throw
/// again); then it either stops (`.failed`, logged with the public position)
/// or, with `.park` and a journal, records the event as parked in the service's operations
/// journal and goes on. A parked event is durable before the watermark can pass it, is never
/// handled again by itself (also not after a restart), and waits for an operator:
/// `retryParked` sends its commands again with the same idempotency keys (exactly once still
/// holds), `skipParked` drops it for good.
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
        /// Waiting out a failure: a store that refused a write, or a public event to try again.
        case retrying(reason: String)
        case failed(position: LogPosition, reason: String)
        case stopped
    }

    public let name: String
    public let publicLog: EventStore
    public let handler: CommandHandler<D>
    public let policy: FailurePolicy
    /// Where parked events and operator moves are recorded (nil: the consumer never parks).
    public let journal: OperationsJournal?
    public internal(set) var status: Status = .idle { didSet { statusChanges &+= 1 } }
    /// Counts assignments of `status`, for `appendHealthStamp`.
    private(set) var statusChanges: UInt64 = 0
    /// Every public event up to here has been fully handled (or parked).
    public private(set) var checkpoint: LogPosition = .start
    /// Public events handled since start; commands that succeeded, were rejected, were repeats.
    public private(set) var handled: UInt64 = 0
    public private(set) var succeeded: UInt64 = 0
    public private(set) var rejected: UInt64 = 0
    public private(set) var repeats: UInt64 = 0
    /// Public events parked since start, and retries of failed public events since start.
    public private(set) var parkedTotal: UInt64 = 0
    public private(set) var retriesTotal: UInt64 = 0

    private let eventTypes: Set<String>
    private let executor: CompletionExecutor
    private let maxInFlight: Int
    let logger: CQRSLogger
    let map: Mapper
    private let sequence: ((PublicEventEnvelope) -> String?)?
    private let scheduler: Scheduler?
    private let retryDelay: Duration
    /// `start()` is reading the journal or scanning the store for the checkpoint.
    private var starting = false
    /// Pending re-sends by retry number (cancelled on `stop`).
    private var retryTimers: [Int: Cancellable] = [:]
    private var retriesScheduled = 0
    var subscription: Subscription?
    var queue: [PublicEventEnvelope] = []
    var queueHead = 0
    /// Public position → its commands still running, and the first failure among them.
    var inFlight: [LogPosition: Pending] = [:]
    /// Failed attempts per public position, while it is being retried.
    var attempts: [LogPosition: Int] = [:]
    /// Public events waiting for a retry or for their park record: nothing new is issued meanwhile.
    var held: Set<LogPosition> = []
    /// Parked events an operator is retrying now.
    var operatorRetries: Set<LogPosition> = []
    private var lastDelivered: LogPosition = .start
    /// Bumped by `resume()`: completions of commands issued before it are ignored.
    var epoch = 0
    /// Commands waiting to be sent again because the store refused them (`.retrying` meanwhile).
    var storeResends = 0
    /// The consumer has found its checkpoint and followed the public log (`checkpoint` is real).
    var hasFollowed = false
    /// Sequence → the unfinished public event of it: the next one of the sequence waits for it
    /// (a retry must not let a later event of the same order overtake it).
    var busySequences: [String: LogPosition] = [:]
    /// The sequence of each public event received and not finished, read once (it parses the data).
    var sequences: [LogPosition: String?] = [:]

    struct Pending {
        var left: Int
        var failure: String?
    }

    /// - Parameters:
    ///   - name: stable consumer name (part of stored metadata and idempotency keys).
    ///   - eventTypes: public event types to receive (empty: all).
    ///   - maxInFlight: public events whose commands may run concurrently (per-stream order holds).
    ///   - scheduler, retryDelay: when given, a command the store could not take is sent again
    ///     after `retryDelay` instead of stopping the consumer, and failed public events are
    ///     retried as `policy` says (without a scheduler, a failure stops the consumer).
    ///   - policy, journal: what a public event that keeps failing does (see the type's comment).
    ///   - sequence: the sequence of a public event (`SagaReactions.sequence`).
    public init(name: String, publicLog: EventStore, eventTypes: Set<String>, handler: CommandHandler<D>,
                executor: CompletionExecutor, maxInFlight: Int = 32, scheduler: Scheduler? = nil,
                retryDelay: Duration = .seconds(1), policy: FailurePolicy = FailurePolicy(retries: 0),
                journal: OperationsJournal? = nil, sequence: ((PublicEventEnvelope) -> String?)? = nil,
                logger: @escaping CQRSLogger = { _, _ in }, map: @escaping Mapper) {
        self.sequence = sequence
        self.scheduler = scheduler
        self.retryDelay = retryDelay
        self.policy = policy
        self.journal = journal
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

    /// Reads the journal (when there is one), then subscribes to the public log after `from`;
    /// nil: after the watermark recovered by scanning the handler's store, off the loop (a
    /// failed read stops the consumer, logged).
    public func start(from: LogPosition? = nil) {
        guard subscription == nil, !starting else { return }
        starting = true
        guard let journal else { return begin(from: from) }
        journal.whenLoaded { [weak self] error in
            guard let self else { return }
            if let error {
                starting = false
                if case .stopped = status { return }
                return fail(.start, "cannot read the operations journal: \(error)")
            }
            begin(from: from)
        }
    }

    private func begin(from: LogPosition?) {
        if case .stopped = status { starting = false; return }
        if let from { starting = false; return follow(from: from) }
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
        hasFollowed = true
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

    /// Events parked and not yet retried or skipped.
    public var parkedCount: Int { journal?.ledger.parked[name]?.count ?? 0 }

    /// How far the consumer has followed the public log: its checkpoint, or, with nothing left
    /// to do, the subscription's scan position (events of other types after the last one it
    /// received need no work; without this a filtered consumer would never show zero lag).
    public var followedTo: LogPosition {
        guard backlog == 0, isActive, let scanned = subscription?.scannedTo else { return checkpoint }
        return max(checkpoint, scanned)
    }

    /// Running or waiting out a failure.
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
        while isActive, held.isEmpty, inFlight.count < maxInFlight, queueHead < queue.count {
            let envelope = queue[queueHead]
            if let ledger = journal?.ledger, ledger.isParked(name, envelope.position) || ledger.skips(name, envelope.position) {
                advanceHead()
                continue   // parked or skipped: only an operator handles it again
            }
            // Events of one sequence one at a time, in order: wait for the earlier one.
            let key = sequenceKey(envelope)
            if let key, busySequences[key] != nil { break }
            let safe = watermark
            advanceHead()
            handled += 1
            if let key { busySequences[key] = envelope.position }
            issue(envelope, safe: safe)
        }
        if isActive { checkpoint = watermark }
    }

    private func advanceHead() {
        queueHead += 1
        if queueHead > 1024 && queueHead * 2 > queue.count { queue.removeFirst(queueHead); queueHead = 0 }
    }

    /// The event's sequence (nil: none), read from its data once.
    private func sequenceKey(_ envelope: PublicEventEnvelope) -> String? {
        guard let sequence else { return nil }
        if let known = sequences[envelope.position] { return known }
        let key = sequence(envelope)
        sequences[envelope.position] = .some(key)
        return key
    }

    /// `position` is done (handled, or parked): the next event of its sequence may go.
    private func finished(_ envelope: PublicEventEnvelope) {
        guard sequence != nil, let known = sequences.removeValue(forKey: envelope.position) else { return }
        if let key = known, busySequences[key] == envelope.position { busySequences[key] = nil }
    }

    /// The context of command `index` for `envelope`: its idempotency key, and the checkpoint
    /// metadata (`safe` nil for an operator's retry, which must not move the checkpoint).
    func context(_ envelope: PublicEventEnvelope, index: Int, safe: LogPosition?) -> CommandContext {
        let eventId = envelope.id.description.lowercased()
        var properties = [Consumer.positionProperty(name): String(envelope.position.value)]
        if let safe { properties[Consumer.watermarkProperty(name)] = String(safe.value) }
        var context = CommandContext(correlationId: envelope.correlationId ?? eventId, causationId: eventId,
                                     idempotencyKey: "consumer:\(name):\(eventId):\(index)", fingerprint: "consumer",
                                     properties: properties)
        // A reaction continues the trace of the event it reacts to, as a span of its own.
        if let trace = envelope.traceparent.flatMap(TraceParent.init) {
            context.properties[TraceParent.property] = trace.child().description
        }
        return context
    }

    private func issue(_ envelope: PublicEventEnvelope, safe: LogPosition) {
        if let journal, let key = sequenceKey(envelope),
           let ahead = journal.ledger.parkedAhead(name, sequence: key, before: envelope.position) {
            inFlight[envelope.position] = Pending(left: 0)
            held.insert(envelope.position)
            return park(envelope, "parked behind public position \(ahead): an earlier event of sequence '\(key)' is parked",
                        attempts: 0)
        }
        let commands: [ConsumerCommand<D.Command>]
        do { commands = try map(envelope) } catch {
            // A mapping is pure: it would throw again. Parked (or stopped) at once.
            inFlight[envelope.position] = Pending(left: 0)
            return eventFailed(envelope, "mapping \(envelope.type) failed: \(error)", retryable: false)
        }
        if commands.isEmpty {
            finished(envelope)
            return succeededAfterRetry(envelope.position)
        }
        inFlight[envelope.position] = Pending(left: commands.count)
        for (i, c) in commands.enumerated() {
            send(c, context: context(envelope, index: i, safe: safe), for: envelope)
        }
    }

    private func send(_ c: ConsumerCommand<D.Command>, context: CommandContext, for envelope: PublicEventEnvelope,
                      resend: Bool = false) {
        let epoch = self.epoch
        handler.handle(c.command, on: c.stream, concurrency: c.concurrency, context: context) { [weak self] result in
            guard let self, epoch == self.epoch else { return }
            if resend { storeResends -= 1 }
            if case .failure(.store(let e)) = result, e.isStoreUnavailable, let scheduler, isActive {
                if case .running = status {
                    logger(.warning, "consumer '\(name)': store refused \(envelope.type) at \(envelope.position) (retrying every \(retryDelay)): \(e)")
                }
                status = .retrying(reason: e.description)
                storeResends += 1
                retry(after: retryDelay, on: scheduler) { [weak self] in self?.send(c, context: context, for: envelope, resend: true) }
                return
            }
            completed(envelope, result)
        }
    }

    /// Runs `body` after `delay` unless the consumer stops or fails meanwhile.
    private func retry(after delay: Duration, on scheduler: Scheduler, _ body: @escaping () -> Void) {
        retriesScheduled += 1
        let retry = retriesScheduled
        retryTimers[retry] = scheduler.schedule(after: delay) { [weak self] in
            guard let self, retryTimers.removeValue(forKey: retry) != nil, isActive else { return }
            body()
        }
    }

    private func completed(_ envelope: PublicEventEnvelope, _ result: Result<CommandOutcome<D.Event>, CommandError>) {
        // Retrying until no command waits for the store and no event for a retry, whatever
        // the result that ended the wait.
        if case .retrying = status, storeResends == 0, held.isEmpty {
            status = .running
            logger(.info, "consumer '\(name)': store accepts writes again, resuming")
        }
        var failure: String?
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
            failure = "\(e)"
        }
        guard var pending = inFlight[envelope.position] else { return }
        pending.left -= 1
        if pending.failure == nil { pending.failure = failure }
        guard pending.left <= 0 else { inFlight[envelope.position] = pending; return }
        if let reason = pending.failure { return eventFailed(envelope, reason) }
        inFlight[envelope.position] = nil
        finished(envelope)
        succeededAfterRetry(envelope.position)
        pump()
    }

    /// A public event whose handling just succeeded: forget its failed attempts.
    private func succeededAfterRetry(_ position: LogPosition) {
        guard attempts.removeValue(forKey: position) != nil else { return }
        held.remove(position)
        logger(.info, "consumer '\(name)': public position \(position) handled after retrying")
        if case .retrying = status, held.isEmpty, storeResends == 0 { status = .running }
    }

    /// Every command for `envelope` has completed and one failed (or its mapping threw): retry
    /// it, park it or stop, as the policy says. The event stays in flight meanwhile, so the
    /// watermark never passes it. `retryable` false: the same input fails the same way (a
    /// mapping), so the retries are not waited for (the consumer would hold for nothing).
    private func eventFailed(_ envelope: PublicEventEnvelope, _ reason: String, retryable: Bool = true) {
        guard isActive else { return }
        let position = envelope.position
        let attempt = attempts[position, default: 0] + 1
        attempts[position] = attempt
        held.insert(position)
        if retryable, attempt <= policy.retries, let scheduler {
            retriesTotal += 1
            status = .retrying(reason: "public position \(position): \(reason) (retry \(attempt) of \(policy.retries))")
            logger(.warning, "consumer '\(name)': \(envelope.type) at public position \(position) failed (retry \(attempt) of \(policy.retries)): \(reason)")
            retry(after: policy.delay(beforeRetry: attempt), on: scheduler) { [weak self] in
                guard let self else { return }
                // Held until it is done: nothing new is issued meanwhile (order is kept).
                let safe = watermark   // computed while the event is still in flight: below it
                inFlight[position] = nil
                issue(envelope, safe: safe)
                pump()
            }
            return
        }
        guard policy.then == .park, journal != nil else { return fail(position, reason) }
        park(envelope, reason, attempts: attempt)
    }

    /// Records `envelope` as parked, then goes on; a journal that cannot be written is waited
    /// out like any store that refuses writes (the event stays held until it is recorded).
    private func park(_ envelope: PublicEventEnvelope, _ reason: String, attempts count: Int) {
        guard let journal else { return }
        var entry = OperationEntry(.parked, component: name, kind: "consumer", position: envelope.position)
        entry.eventId = envelope.id.description.lowercased()
        entry.eventType = envelope.type
        entry.stream = envelope.source
        entry.error = reason
        entry.attempts = count
        entry.sequence = sequenceKey(envelope)
        let epoch = self.epoch
        journal.record(entry) { [weak self] result in
            guard let self, isActive, epoch == self.epoch else { return }
            let position = envelope.position
            switch result {
            case .success:
                parkedTotal += 1
                attempts[position] = nil
                inFlight[position] = nil
                held.remove(position)
                finished(envelope)
                if case .retrying = status, held.isEmpty, storeResends == 0 { status = .running }
                logger(.error, "consumer '\(name)' parked \(envelope.type) at public position \(position) (\(count) attempt(s)): \(reason)")
                pump()
            case .failure(let e) where e.isStoreUnavailable && scheduler != nil:
                status = .retrying(reason: "cannot park public position \(position): \(e)")
                retry(after: retryDelay, on: scheduler!) { [weak self] in self?.park(envelope, reason, attempts: count) }
            case .failure(let e):
                fail(position, "\(reason); parking it failed too: \(e)")
            }
        }
    }

    private func fail(_ position: LogPosition, _ reason: String) {
        if case .failed = status { return }
        status = .failed(position: position, reason: reason)
        subscription?.cancel()
        subscription = nil
        for t in retryTimers.values { t.cancel() }
        retryTimers = [:]
        logger(.error, "consumer '\(name)' stopped at public position \(position): \(reason)")
    }
}
