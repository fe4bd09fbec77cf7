import Foundation
import EventStore
import JSON

/// Which store a read model follows: the service's own store, or the shared public log.
public enum Feed: String, Hashable, Sendable, Codable, CaseIterable {
    case own
    case publicLog = "public"
}

/// A service runtime's tuning; the defaults suit production, tests shrink them.
public struct ServiceOptions {
    /// Aggregate snapshot every N events of a stream (nil: none).
    public var aggregateSnapshotEvery: Int? = 100
    /// Aggregate states kept in memory by the command handler.
    public var cacheCapacity = 10_000
    /// Read-model snapshot every N events of the store it follows, and on `stop` (nil: none,
    /// full replay on start). Snapshots are kept in the service's own store.
    public var readModelSnapshotEvery: UInt64? = nil
    /// Minimum seconds between two periodic read-model snapshots.
    public var readModelSnapshotMinInterval: Double = 0
    /// A read model further behind its store than this on start catches up off the loop, on a
    /// thread of its own (nil: always on the loop).
    public var backgroundReplayAfter: UInt64? = nil
    /// Public events whose saga commands may run concurrently.
    public var consumerMaxInFlight = 32
    /// Delay before the publisher or the consumer retries after the store refused a write.
    public var retryDelay: Duration = .seconds(1)
    /// What a read model does with an event it cannot apply: retried, then it stops.
    public var readModelPolicy = FailurePolicy.stop
    /// Test hook: components that fail on chosen events (`ComponentFaults`).
    public var faults: ComponentFaults? = nil
    /// "Now" for idempotency and progress rates (inject in tests).
    public var clock: () -> Date = Date.init
    public init() {}
}

/// The machinery every service shares, written once: command handling over its own store, its
/// read models (each following its own store or the public log), the publisher (own store →
/// public log), the saga consumer (public log → commands), positions and waiting for them,
/// health, history and temporal reads. A service declares only its domain: a decider, its
/// public mapping, its saga reactions, its read models and its queries.
///
/// Loop-confined: create, start, command, query and stop on the loop thread; `executor` runs
/// store completions and subscription deliveries there.
public final class ServiceRuntime<D: Decider> {
    /// One read model and the store it follows.
    public typealias ReadModel = ServiceReadModel

    /// Service name: the public-event source, the name of its store in position tokens.
    public let name: String
    public let store: EventStore
    public let publicLog: EventStore
    public let handler: CommandHandler<D>
    public let publisher: Publisher
    /// The saga consumer, when the service reacts to public events.
    public let consumer: Consumer<D>?
    public private(set) var readModels: [ReadModel] = []
    public let options: ServiceOptions
    /// Parked events and operator moves, in the service's own store (`$operations`).
    public let journal: OperationsJournal
    /// Whether this process writes the service's store: false in a query replica or a standby,
    /// where only the read models run (restoring snapshots, never saving them) and the
    /// publisher and consumer are neither started nor reported. `start` sets it.
    public var writes = true {
        didSet { for m in readModels { m.runner.savesSnapshots = writes } }
    }
    /// Components with an operator move between its checks and its effect (one at a time).
    var movesInProgress: Set<String> = []

    let executor: CompletionExecutor
    let scheduler: Scheduler
    let logger: CQRSLogger
    let progress: ((ReplayProgress) -> Void)?

    /// - Parameters:
    ///   - publish: the pure mapping of internal events to public events (the publisher's).
    ///   - reactions: the saga's mapping of public events to commands (nil: no consumer).
    ///   - idempotency: the store's index if the app rebuilds it (see `prepareStartupScan`);
    ///     nil rebuilds it now by scanning `store` synchronously.
    /// - Throws: store read errors while rebuilding the idempotency index.
    public init(name: String, decider: D, store: EventStore, publicLog: EventStore, executor: CompletionExecutor,
                scheduler: Scheduler, options: ServiceOptions = ServiceOptions(), idempotency: IdempotencyIndex? = nil,
                logger: @escaping CQRSLogger = { _, _ in }, progress: ((ReplayProgress) -> Void)? = nil,
                publish: @escaping Publisher.Mapper, reactions: SagaReactions<D.Command>? = nil) throws {
        self.name = name
        self.store = store
        self.publicLog = publicLog
        self.options = options
        self.executor = executor
        self.scheduler = scheduler
        self.logger = logger
        self.progress = progress
        var handlerOptions = CommandHandler<D>.Options()
        handlerOptions.snapshotEvery = options.aggregateSnapshotEvery
        handlerOptions.cacheCapacity = options.cacheCapacity
        handlerOptions.clock = options.clock
        let handler = try CommandHandler(decider: decider, store: store, options: handlerOptions, idempotency: idempotency, logger: logger)
        self.handler = handler
        publisher = Publisher(source: name, store: store, publicLog: publicLog, executor: executor, scheduler: scheduler,
                              upcasters: decider.upcasters, retryDelay: options.retryDelay, logger: logger, map: publish)
        let journal = OperationsJournal(store: store)
        self.journal = journal
        let faults = options.faults
        consumer = reactions.map { reactions in
            let name = reactions.consumerName
            let map: Consumer<D>.Mapper = faults.map { faults in
                { envelope in
                    try faults.check(name, stream: envelope.source, data: envelope.data)
                    return try reactions.commands(for: envelope)
                }
            } ?? reactions.commands(for:)
            return Consumer(name: name, publicLog: publicLog, eventTypes: reactions.eventTypes, handler: handler,
                            executor: executor, maxInFlight: options.consumerMaxInFlight, scheduler: scheduler,
                            retryDelay: options.retryDelay, policy: reactions.failurePolicy, journal: journal,
                            sequence: reactions.sequence, logger: logger, map: map)
        }
    }

    public var decider: D { handler.decider }

    /// Adds a read model following `feed` (events of the own store are upcast first). Call
    /// before `startReadModels()`.
    @discardableResult
    public func addReadModel(_ projection: Projection, follows feed: Feed) -> ProjectionRunner {
        var o = ProjectionRunner.Options()
        o.snapshotEvery = options.readModelSnapshotEvery
        o.snapshotMinInterval = options.readModelSnapshotMinInterval
        o.clock = options.clock
        o.enableBackgroundReplay(after: options.backgroundReplayAfter)
        o.failurePolicy = options.readModelPolicy
        o.faults = options.faults
        switch feed {
        case .own: o.upcasters = decider.upcasters
        case .publicLog: o.snapshotStore = store   // this service's own store, never the shared public log
        }
        let runner = ProjectionRunner(projection: projection, store: self.store(feed), executor: executor, scheduler: scheduler,
                                      options: o, logger: logger, progress: progress)
        runner.savesSnapshots = writes
        readModels.append(ReadModel(runner: runner, feed: feed))
        return runner
    }

    /// The store `feed` names.
    public func store(_ feed: Feed) -> EventStore {
        switch feed {
        case .own: return store
        case .publicLog: return publicLog
        }
    }

    /// The name `feed` has in position tokens: the service's own for its store, `public`.
    public func tokenName(_ feed: Feed) -> String { feed == .own ? name : Feed.publicLog.rawValue }

    // MARK: - Lifecycle

    /// Starts the read models alone (restore, then catch up), e.g. while the app still scans
    /// the store for what commands need; `start` does it too. Idempotent. They start once the
    /// operations journal is read (an operator's skips apply from the first event on); a
    /// journal that cannot be read is logged, and they start without skips.
    public func startReadModels() {
        journal.whenLoaded { [weak self] error in
            guard let self else { return }
            if let error { logger(.error, "service '\(name)': cannot read the operations journal, read models start without its skips: \(error)") }
            for m in readModels where m.runner.status == .starting {
                let name = m.runner.projection.name
                m.runner.feed.skips = Set((journal.ledger.skipped[name] ?? []).map(LogPosition.init))
                m.runner.snapshotFloor = journal.ledger.rebuiltAt[name].map(LogPosition.init)
                m.runner.start()
            }
        }
    }

    /// A standby taking over: reads the operations journal again, so that what the writer before
    /// it parked and skipped holds here too (the consumer starts from this ledger), and gives
    /// the read models the skips recorded meanwhile. A journal that cannot be read is logged.
    public func reloadOperations(completion: @escaping () -> Void) {
        journal.reload { [weak self] error in
            guard let self else { return }
            if let error { logger(.error, "service '\(name)': cannot read the operations journal again on taking over: \(error)") }
            for m in readModels {
                m.runner.feed.skips = Set((journal.ledger.skipped[m.runner.projection.name] ?? []).map(LogPosition.init))
            }
            completion()
        }
    }

    /// Starts the read models, the publisher (from its checkpoint in the public log) and the
    /// consumer (after `consumerFrom`, else the watermark found by scanning the store). Call once.
    /// Checkpoints are recovered asynchronously (a failure shows in the component's health), so
    /// nothing here throws today; `RunningService.start` keeps `throws` for services whose
    /// start can fail synchronously.
    public func start(consumerFrom: LogPosition? = nil) throws {
        writes = true
        startReadModels()
        publisher.start()
        consumer?.start(from: consumerFrom)
    }

    /// Stops consumer, publisher and read models (views keep their data). Idempotent.
    public func stop() {
        consumer?.stop()
        publisher.stop()
        for m in readModels { m.runner.stop() }
    }

    /// The read models' runners (for shutdown snapshots).
    public var projectionRunners: [ProjectionRunner] { readModels.map { $0.runner } }

    /// Every read model has caught up with its store (what `/ready` reports).
    /// Runs for every `/ready` probe: a plain loop (`allSatisfy` looked its generic metadata up
    /// at run time on every call).
    public var isReady: Bool {
        for model in readModels where !model.runner.isCaughtUp { return false }
        return true
    }

    // MARK: - Positions

    /// The feeds some read model follows, own store first.
    public var feeds: [Feed] { Feed.allCases.filter { f in readModels.contains { $0.feed == f } } }

    /// The position every read model following `feed` reflects (`.start` if none follows it).
    /// Runs for every query (its position header): a plain loop, no key paths or lazy
    /// wrappers (their generic metadata was looked up per call; bench/REPORT.md, History).
    public func position(_ feed: Feed) -> LogPosition {
        var lowest: LogPosition?
        for model in readModels where model.feed == feed {
            let p = model.runner.position
            if lowest.map({ p < $0 }) ?? true { lowest = p }
        }
        return lowest ?? .start
    }

    /// Changes whenever any read model of the service moves: the sum of their positions and
    /// state epochs. A runner's position only grows, and its state changes only with it (an
    /// applied event, a replayed state swapped in at a later position) or with its epoch (a
    /// rebuilt state swapped in), so an answer rendered from the read models stays true while
    /// this number stands still (the API's query memo relies on it).
    public var generation: UInt64 {
        var sum: UInt64 = 0
        for model in readModels { sum &+= model.runner.position.value &+ model.runner.stateEpoch }
        return sum
    }

    /// Completes once every read model fed by `feed` reflects `position` (see
    /// `ProjectionRunner.wait`); the first one that times out or fails answers for all.
    public func wait(forPosition position: LogPosition, in feed: Feed, timeout: Duration,
                     completion: @escaping (PositionWaitResult) -> Void) {
        let runners = readModels.filter { $0.feed == feed }.map { $0.runner }
        let deadline = ContinuousClock.now + timeout
        func next(_ i: Int, _ reached: LogPosition) {
            guard i < runners.count else { return completion(.reached(reached)) }
            let left = max(.zero, deadline - .now)
            runners[i].wait(forPosition: position, timeout: left) { result in
                guard case .reached(let p) = result else { return completion(result) }
                next(i + 1, i == 0 ? p : min(reached, p))
            }
        }
        next(0, position)
    }

    // MARK: - Health

    /// Every runtime component in one shape: read models, publisher, consumer.
    public var components: [ComponentHealth] {
        // Read per /health probe: one array, no intermediate ones.
        var all: [ComponentHealth] = []
        all.reserveCapacity(readModels.count + 2)
        for model in readModels { all.append(model.runner.health) }
        guard writes else { return all }
        all.append(publisher.health)
        if let consumer { all.append(consumer.health) }
        return all
    }

    /// Numbers that change whenever `components` does (see `ProjectionRunner.appendHealthStamp`):
    /// what a `/health` probe compares before it builds anything.
    public func appendHealthStamp(to stamp: inout [UInt64]) {
        stamp.append(UInt64(readModels.count))
        for model in readModels { model.runner.appendHealthStamp(to: &stamp) }
        stamp.append(writes ? 1 : 0)
        guard writes else { return }
        publisher.appendHealthStamp(to: &stamp)
        consumer?.appendHealthStamp(to: &stamp)
    }

    /// False when a read model, the publisher or the consumer has failed or stopped.
    public var isHealthy: Bool { components.allSatisfy { $0.isHealthy } }

    // MARK: - Audit and temporal reads (from the stream, never cached, read off the loop)

    /// The stream's events, oldest first, data upcast to the current schema; nil when the
    /// stream has no events. For history/audit views; `completion` runs on the loop.
    public func history(of stream: StreamName, completion: @escaping (Result<[HistoryEntry]?, Error>) -> Void) {
        let upcasters = decider.upcasters
        store.readStream(stream) { read in
            completion(Result {
                let recorded = try read.get()
                if recorded.isEmpty { return nil }
                return try recorded.map { HistoryEntry(try upcasters.upcast($0), storedSchemaVersion: $0.schemaVersion) }
            })
        }
    }

    /// The stream's decoded events committed up to `version` (inclusive) and at or before
    /// `asOf`, with their records, for temporal views that fold their own way; `completion`
    /// runs on the loop.
    public func events(of stream: StreamName, upToVersion version: Int64? = nil, asOf: Date? = nil,
                       completion: @escaping (Result<[(event: D.Event, recorded: RecordedEvent)], Error>) -> Void) {
        let decider = self.decider
        store.readStream(stream) { read in
            completion(Result {
                var result: [(event: D.Event, recorded: RecordedEvent)] = []
                for r in try read.get() {
                    if let version, r.streamVersion.value > version { break }
                    if let asOf, r.timestamp > asOf { break }
                    result.append((try decider.decodeRecorded(r), r))
                }
                return result
            })
        }
    }

    // MARK: - Consistency

    /// Builds fresh copies of read models from the stores, off the loop: `build` makes them and
    /// feeds each one (`replay`) on a store I/O thread, where nothing else can see them; `compare`
    /// then runs on the loop with them, against the live ones.
    public func rebuild<T>(_ build: @escaping (Replayer) throws -> T, then compare: @escaping (Result<T, Error>) -> Void) {
        let replayer = Replayer(own: store, publicLog: publicLog, upcasters: decider.upcasters)
        let executor = self.executor
        let box = UncheckedBox((build, compare))
        StoreIOThreads.queue.async {
            let outcome = Result { try box.value.0(replayer) }
            executor.execute { box.value.1(outcome) }
        }
    }

    /// Feeds fresh read models from a service's stores (see `rebuild`); blocking reads.
    public struct Replayer {
        let own: EventStore
        let publicLog: EventStore
        let upcasters: UpcasterChain

        /// Applies every event of `feed` up to `position` that `projection`'s filter accepts,
        /// from the start.
        public func replay(_ feed: Feed, into projection: Projection, upTo position: LogPosition) throws {
            let source = feed == .own ? own : publicLog
            let chain = feed == .own ? upcasters : UpcasterChain()
            var from = LogPosition.start
            while from < position {
                let batch = try source.readAll(from: from, maxCount: 4096, filter: nil)
                guard let last = batch.last else { return }
                for e in batch where e.position <= position && !RuntimeMetadata.isInternal(e.stream) {
                    if projection.filter?.matches(stream: e.stream.value, type: e.type) ?? true {
                        try projection.apply(chain.isEmpty ? e : try chain.upcast(e))
                    }
                }
                from = last.position
            }
        }
    }
}

/// Carries values across a queue hop whose ordering makes it safe (see `rebuild`).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
