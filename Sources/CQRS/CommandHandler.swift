import Foundation
import EventStore

/// Handles commands for one decider over one event store. Loop-confined: call every method on
/// the loop thread; the store must deliver completions on that thread (its executor).
///
/// Per command: look the idempotency key up; queue behind earlier commands for the same stream
/// (FIFO, so a decision never sees stale state); load the state (cache, else snapshot + tail,
/// upcast); decide; append with the loaded version as the expected version; after the commit
/// only, update cache, snapshot and idempotency index; complete. A concurrent-write conflict is
/// re-decided on the reloaded tail (`.retrying`) or reported (`.exact`, `.noStream`).
public final class CommandHandler<D: Decider> {
    /// Tuning and injected dependencies.
    public struct Options {
        /// Decisions per command under `.retrying` before `.tooManyConflicts` (≥ 1).
        public var maxAttempts: Int = 5
        /// Streams whose state is kept in memory (approximate LRU).
        public var cacheCapacity: Int = 10_000
        /// Save a snapshot when a stream has grown by this many events since its last one;
        /// nil disables snapshots (saving *and* loading). Encoded on the loop after the commit
        /// (and after a long load), saved on the store's threads; a failed save is logged and
        /// ignored.
        public var snapshotEvery: Int? = nil
        /// "Now" for idempotency timestamps (inject in tests).
        public var clock: () -> Date = Date.init
        /// Ids for events of commands without an idempotency key (keyed ones are deterministic).
        public var newEventID: () -> EventID = { let g = EventIDGenerator(); return { g.next() } }()
        public init() {}
    }

    /// Counters for metrics.
    public struct Stats: Hashable, Sendable {
        public var commands = 0, succeeded = 0, rejected = 0, failed = 0
        public var noOps = 0, replays = 0, conflictRetries = 0, snapshotsSaved = 0
        public var eventsReadForLoading = 0
    }

    public let decider: D
    public let store: EventStore
    /// The idempotency index (shared with other handlers of the same store, if given).
    public let idempotency: IdempotencyIndex
    public let options: Options
    /// Counters since creation (commands by result, replays, retries, snapshots, loading reads).
    public internal(set) var stats = Stats()
    let logger: CQRSLogger
    let cache: StateCache<D.State>

    private struct Job {
        var command: D.Command
        var stream: StreamName
        var mode: ConcurrencyMode
        var context: CommandContext
        var completion: CommandCompletion<D.Event>
    }
    /// Per-stream FIFO; the head job is the one running. Absent key = stream idle.
    private var queues: [StreamName: FIFO<Job>] = [:]
    private var ready: [StreamName] = []
    private var pumping = false
    /// Keys whose command is running, and commands with the same key waiting for it.
    private var keysInFlight: [String: [() -> Void]] = [:]

    /// - Parameters:
    ///   - idempotency: the store's index; nil creates one and rebuilds it by scanning `store`
    ///     now (synchronously). Pass a shared, already rebuilt index when several handlers use
    ///     one store, or when the app rebuilds it during its own startup scan.
    ///   - logger: warnings (snapshot failures) and debug lines.
    public init(decider: D, store: EventStore, options: Options = Options(), idempotency: IdempotencyIndex? = nil,
                logger: @escaping CQRSLogger = { _, _ in }) throws {
        self.decider = decider
        self.store = store
        self.options = options
        self.logger = logger
        self.cache = StateCache(capacity: options.cacheCapacity)
        if let idempotency {
            self.idempotency = idempotency
        } else {
            self.idempotency = IdempotencyIndex(clock: options.clock)
            try self.idempotency.rebuild(from: store)
        }
    }

    /// Number of streams whose state is cached.
    public var cachedStreams: Int { cache.count }

    /// Forgets every cached state (they are reloaded on demand).
    public func clearCache() { cache.removeAll() }

    /// Handles `command` on `stream`; `completion` runs exactly once, on the loop thread.
    ///
    /// - With `context.idempotencyKey`: a key seen within retention with the same fingerprint
    ///   completes with the first outcome (`replayed == true`) and appends nothing; with another
    ///   fingerprint fails `.idempotencyKeyReused`. A command with a key that is still running
    ///   waits for it. Appended event ids derive from (key, fingerprint, index), so the store
    ///   itself refuses to apply the same keyed command twice (`.alreadyApplied`).
    /// - A decision with no events succeeds with the current version and appends nothing
    ///   (except an idempotency marker when a key is given).
    public func handle(_ command: D.Command, on stream: StreamName, concurrency mode: ConcurrencyMode = .retrying,
                       context: CommandContext = CommandContext(), completion: @escaping CommandCompletion<D.Event>) {
        if let key = context.idempotencyKey {
            if keysInFlight[key] != nil {
                keysInFlight[key]!.append { [self] in
                    handle(command, on: stream, concurrency: mode, context: context, completion: completion)
                }
                return
            }
            switch idempotency.lookup(key: key, fingerprint: context.fingerprint) {
            case .hit(let entry):
                stats.commands += 1
                stats.replays += 1
                replay(entry, completion: completion)
                return
            case .mismatch:
                stats.commands += 1
                stats.rejected += 1
                completion(.failure(.idempotencyKeyReused(key: key)))
                return
            case .miss:
                keysInFlight[key] = []
            }
        }
        stats.commands += 1
        let job = Job(command: command, stream: stream, mode: mode, context: context, completion: completion)
        if queues[stream] != nil {
            queues[stream]!.append(job)
        } else {
            queues[stream] = FIFO(job)
            schedule(stream)
        }
    }

    /// Number of commands queued or running for `stream`.
    public func pendingCommands(on stream: StreamName) -> Int { queues[stream]?.count ?? 0 }

    /// Number of streams with commands queued or running.
    public var busyStreams: Int { queues.count }

    // MARK: - Scheduling

    /// Starts the head job of `stream` without recursing: completions that finish synchronously
    /// (rejections, no-ops, inline executors) only enqueue the next stream here.
    private func schedule(_ stream: StreamName) {
        ready.append(stream)
        if pumping { return }
        pumping = true
        while !ready.isEmpty {
            let s = ready.removeFirst()
            if let job = queues[s]?.head { attempt(job, number: 1, refresh: false) }
        }
        pumping = false
    }

    private func finish(_ job: Job, _ result: Result<CommandOutcome<D.Event>, CommandError>) {
        switch result {
        case .success: stats.succeeded += 1
        case .failure(.domain), .failure(.versionMismatch), .failure(.streamAlreadyExists),
             .failure(.idempotencyKeyReused), .failure(.alreadyApplied): stats.rejected += 1
        case .failure: stats.failed += 1
        }
        var waiters: [() -> Void] = []
        if let key = job.context.idempotencyKey { waiters = keysInFlight.removeValue(forKey: key) ?? [] }
        // Complete while the job still heads its queue: completions keep submission order, and a
        // command sent from inside the completion queues behind instead of starting a second head.
        job.completion(result)
        if queues[job.stream] != nil {
            queues[job.stream]!.removeHead()
            if queues[job.stream]!.isEmpty { queues[job.stream] = nil } else { schedule(job.stream) }
        }
        for w in waiters { w() }
    }

    // MARK: - One decision

    private func attempt(_ job: Job, number: Int, refresh: Bool) {
        // Loaded current with the store's tail (see `load`): a command waiting for a cold
        // stream stays at the head of its stream's queue, so its stream stays serialized.
        load(job.stream, refresh: refresh) { [self] loaded in
            switch loaded {
            case .failure(let e):
                finish(job, .failure(e))
            case .success(let entry):
                decide(job, entry, number: number)
            }
        }
    }

    private func decide(_ job: Job, _ entry: StateCache<D.State>.Entry, number: Int) {
        switch job.mode {
        case .retrying: break
        case .exact(let expected):
            if entry.version != expected {
                return finish(job, .failure(.versionMismatch(stream: job.stream, expected: expected, actual: entry.version)))
            }
        case .noStream:
            if let actual = entry.version {
                return finish(job, .failure(.streamAlreadyExists(stream: job.stream, actual: actual)))
            }
        }

        let events: [D.Event]
        do {
            events = try decider.decide(job.command, entry.state)
        } catch let e as DomainError {
            return finish(job, .failure(.domain(e)))
        } catch {
            return finish(job, .failure(.domain(.validation("invalid-command", "\(error)"))))
        }
        if events.isEmpty { return noOp(job, entry) }

        var newEvents: [NewEvent] = []
        newEvents.reserveCapacity(events.count)
        let key = job.context.idempotencyKey
        for (i, event) in events.enumerated() {
            let encoded: EncodedEvent
            do { encoded = try decider.encode(event) } catch {
                return finish(job, .failure(.corruptState(stream: job.stream, reason: "cannot encode event: \(error)")))
            }
            var meta = EventMetadata(correlationId: job.context.correlationId, causationId: job.context.causationId,
                                     properties: job.context.properties)
            let id: EventID
            if let key {
                id = DeterministicID.make("command", key, job.context.fingerprint, String(i))
                if i == 0 {
                    meta.properties[RuntimeMetadata.idempotencyKey] = key
                    meta.properties[RuntimeMetadata.fingerprint] = job.context.fingerprint
                    meta.properties[RuntimeMetadata.handledAt] = IdempotencyIndex.millis(options.clock())
                    meta.properties[RuntimeMetadata.eventCount] = String(events.count)
                }
            } else {
                id = options.newEventID()
            }
            newEvents.append(NewEvent(id: id, type: encoded.type, schemaVersion: encoded.schemaVersion, data: encoded.data, metadata: meta))
        }

        let expected: ExpectedVersion = entry.version.map { .exact($0) } ?? .noStream
        let handledAt = options.clock()
        store.append(to: job.stream, expected: expected, events: newEvents) { [self] result in
            switch result {
            case .success(let r):
                var next = entry
                for e in events { decider.apply(e, to: &next.state) }
                next.version = r.nextExpectedVersion
                next.position = r.lastPosition
                maybeSnapshot(job.stream, &next)
                cache.put(job.stream, next)
                let first = StreamVersion(r.nextExpectedVersion.value - Int64(events.count) + 1)
                if let key {
                    idempotency.record(key: key, .init(fingerprint: job.context.fingerprint, stream: job.stream, firstVersion: first,
                                                       eventCount: events.count, version: r.nextExpectedVersion,
                                                       position: r.lastPosition, handledAt: handledAt))
                }
                finish(job, .success(CommandOutcome(stream: job.stream, version: r.nextExpectedVersion, position: r.lastPosition,
                                                    events: events, firstVersion: first, replayed: false)))
            case .failure(.wrongExpectedVersion(_, _, let actual)):
                switch job.mode {
                case .exact(let v):
                    cache.remove(job.stream)
                    finish(job, .failure(.versionMismatch(stream: job.stream, expected: v, actual: actual)))
                case .noStream where actual != nil:
                    cache.remove(job.stream)
                    finish(job, .failure(.streamAlreadyExists(stream: job.stream, actual: actual!)))
                default:
                    if number >= max(1, options.maxAttempts) {
                        cache.remove(job.stream)
                        finish(job, .failure(.tooManyConflicts(stream: job.stream, attempts: number)))
                    } else {
                        stats.conflictRetries += 1
                        logger(.debug, "conflict on \(job.stream) (actual \(actual.map { $0.description } ?? "none")); re-deciding")
                        attempt(job, number: number + 1, refresh: true)
                    }
                }
            case .failure(.idempotencyConflict) where key != nil:
                finish(job, .failure(.alreadyApplied(key: key!)))
            case .failure(let e):
                finish(job, .failure(.store(e)))
            }
        }
    }

    /// A decision without events: succeed with the current version; remember a keyed one with
    /// a marker event so its replay also survives restarts.
    private func noOp(_ job: Job, _ entry: StateCache<D.State>.Entry) {
        stats.noOps += 1
        let outcome = CommandOutcome<D.Event>(stream: job.stream, version: entry.version, position: entry.position,
                                              events: [], firstVersion: nil, replayed: false)
        guard let key = job.context.idempotencyKey else { return finish(job, .success(outcome)) }
        let handledAt = options.clock()
        var props = job.context.properties
        props[RuntimeMetadata.idempotencyKey] = key
        props[RuntimeMetadata.fingerprint] = job.context.fingerprint
        props[RuntimeMetadata.handledAt] = IdempotencyIndex.millis(handledAt)
        props[RuntimeMetadata.eventCount] = "0"
        props[RuntimeMetadata.targetStream] = job.stream.value
        props[RuntimeMetadata.targetVersion] = entry.version.map { String($0.value) } ?? ""
        props[RuntimeMetadata.targetPosition] = String(entry.position.value)
        let marker = NewEvent(id: DeterministicID.make("marker", key, job.context.fingerprint), type: RuntimeMetadata.markerType,
                              schemaVersion: 1, data: Array("{}".utf8),
                              metadata: EventMetadata(correlationId: job.context.correlationId, causationId: job.context.causationId,
                                                      properties: props))
        store.append(to: RuntimeMetadata.markerStream, expected: .any, events: [marker]) { [self] result in
            switch result {
            case .success, .failure(.idempotencyConflict):
                // A conflict means this very marker exists already: nothing to apply either way.
                idempotency.record(key: key, .init(fingerprint: job.context.fingerprint, stream: job.stream, firstVersion: nil,
                                                   eventCount: 0, version: entry.version, position: entry.position, handledAt: handledAt))
                finish(job, .success(outcome))
            case .failure(let e):
                finish(job, .failure(.store(e)))
            }
        }
    }

    /// The first outcome of a key again: its events read back (off the loop) and decoded.
    private func replay(_ entry: IdempotencyIndex.Entry, completion: @escaping CommandCompletion<D.Event>) {
        let outcome = { (events: [D.Event]) in
            CommandOutcome(stream: entry.stream, version: entry.version, position: entry.position, events: events,
                           firstVersion: entry.firstVersion, replayed: true)
        }
        guard let first = entry.firstVersion, entry.eventCount > 0 else { return completion(.success(outcome([]))) }
        store.readStream(entry.stream, from: first, direction: .forward, maxCount: entry.eventCount) { [self] read in
            switch read {
            case .failure(let e):
                completion(.failure(.store(e)))
            case .success(let recorded):
                do { completion(.success(outcome(try recorded.map(decider.decodeRecorded)))) } catch {
                    completion(.failure(.corruptState(stream: entry.stream, reason: "\(error)")))
                }
            }
        }
    }
}
