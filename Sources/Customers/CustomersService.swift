import Foundation
import CQRS
import EventStore

/// The Customers service, as the app wires it: command handling, the two read models, the
/// publisher (customers store → public log, source `customers`) and the saga consumer (order
/// public events → credit commands).
///
/// Loop-confined: create, start, command, query and stop on the loop thread; `executor` must
/// run store completions and subscription deliveries on that thread.
public final class CustomersService {
    /// Tuning (defaults suit production; tests shrink them).
    public struct Options {
        /// Aggregate snapshot every N events of a stream (nil: none).
        public var aggregateSnapshotEvery: Int? = 100
        /// Read-model snapshot every N events of the store it follows, and on `stop` (nil: none,
        /// full rebuild on start). Both read models keep their snapshots in the customers store.
        public var projectionSnapshotEvery: UInt64? = nil
        /// Minimum seconds between two periodic read-model snapshots (`ProjectionRunner.Options`).
        public var projectionSnapshotMinInterval: Double = 0
        /// Read models further behind their store than this many events when they start
        /// catch up off the loop, in parallel, each on a thread of its own
        /// (`ProjectionRunner.Options.backgroundReplay`); nil: always on the loop.
        public var backgroundReplayAfter: UInt64? = nil
        /// Customer states kept in memory by the command handler.
        public var cacheCapacity = 100_000
        /// Public events whose credit commands may run concurrently.
        public var consumerMaxInFlight = 64
        /// Delay before the publisher retries a failed public-log append.
        public var publisherRetryDelay: Duration = .seconds(1)
        public init() {}
    }

    public let store: EventStore
    public let publicLog: EventStore
    public let handler: CommandHandler<CustomerDecider>
    /// Read model of the customers store.
    public let directory: CustomerDirectoryProjection
    /// Read model of the public log (order activity per customer).
    public let orderActivity: CustomerOrderActivityProjection
    public let directoryRunner: ProjectionRunner
    public let orderActivityRunner: ProjectionRunner
    public let publisher: Publisher
    public let consumer: Consumer<CustomerDecider>
    let options: Options
    let logger: CQRSLogger

    /// - Parameters:
    ///   - store: the customers store (`--data/customers`).
    ///   - publicLog: the shared public log (`--data/public`).
    ///   - idempotency: the customers store's index if the app already rebuilt it; nil scans
    ///     `store` now (synchronously).
    ///   - progress: replay progress of both read models (for startup logging).
    /// - Throws: store read errors while rebuilding the idempotency index.
    public init(store: EventStore, publicLog: EventStore, executor: CompletionExecutor, scheduler: Scheduler,
                clock: @escaping () -> Date = Date.init, options: Options = Options(), idempotency: IdempotencyIndex? = nil,
                logger: @escaping CQRSLogger = { _, _ in }, progress: ((ReplayProgress) -> Void)? = nil) throws {
        self.store = store
        self.publicLog = publicLog
        self.options = options
        self.logger = logger
        var handlerOptions = CommandHandler<CustomerDecider>.Options()
        handlerOptions.snapshotEvery = options.aggregateSnapshotEvery
        handlerOptions.cacheCapacity = options.cacheCapacity
        handlerOptions.clock = clock
        handler = try CommandHandler(decider: CustomerDecider(), store: store, options: handlerOptions,
                                     idempotency: idempotency, logger: logger)
        directory = CustomerDirectoryProjection()
        orderActivity = CustomerOrderActivityProjection()
        var runnerOptions = ProjectionRunner.Options()
        runnerOptions.snapshotEvery = options.projectionSnapshotEvery
        runnerOptions.snapshotMinInterval = options.projectionSnapshotMinInterval
        runnerOptions.upcasters = CustomerUpcasters.chain
        runnerOptions.clock = clock
        runnerOptions.enableBackgroundReplay(after: options.backgroundReplayAfter)
        directoryRunner = ProjectionRunner(projection: directory, store: store, executor: executor, scheduler: scheduler,
                                           options: runnerOptions, logger: logger, progress: progress)
        var publicOptions = ProjectionRunner.Options()
        publicOptions.snapshotEvery = options.projectionSnapshotEvery
        publicOptions.snapshotMinInterval = options.projectionSnapshotMinInterval
        publicOptions.snapshotStore = store   // this service's own store, not the shared public log
        publicOptions.clock = clock
        publicOptions.enableBackgroundReplay(after: options.backgroundReplayAfter)
        orderActivityRunner = ProjectionRunner(projection: orderActivity, store: publicLog, executor: executor, scheduler: scheduler,
                                               options: publicOptions, logger: logger, progress: progress)
        publisher = Publisher(source: CustomerPublicMapping.source, store: store, publicLog: publicLog, executor: executor,
                              scheduler: scheduler, upcasters: CustomerUpcasters.chain, retryDelay: options.publisherRetryDelay,
                              logger: logger, map: CustomerPublicMapping.map)
        consumer = Consumer(name: CustomerSagaMapping.consumerName, publicLog: publicLog, eventTypes: CustomerSagaMapping.eventTypes,
                            handler: handler, executor: executor, maxInFlight: options.consumerMaxInFlight,
                            scheduler: scheduler, retryDelay: options.publisherRetryDelay, logger: logger,
                            map: CustomerSagaMapping.commands)
    }

    /// Starts both read models, the publisher (from its checkpoint in the public log) and the
    /// consumer (from `consumerFrom`, else the watermark found by scanning the customers store).
    /// Call once.
    /// - Throws: store read errors while recovering the publisher's or consumer's checkpoint.
    public func start(consumerFrom: LogPosition? = nil) throws {
        startReadModels()
        try publisher.start()
        try consumer.start(from: consumerFrom)
    }

    /// Starts the read models alone (restore, then catch up), e.g. while the app still scans
    /// the store for what commands need; `start` does it too. Idempotent.
    public func startReadModels() {
        directoryRunner.start()
        orderActivityRunner.start()
    }

    /// Stops consumer, publisher and read models (views keep their data). Idempotent.
    public func stop() {
        consumer.stop()
        publisher.stop()
        directoryRunner.stop()
        orderActivityRunner.stop()
    }

    /// The read models' runners (for shutdown snapshots).
    public var projectionRunners: [ProjectionRunner] { [directoryRunner, orderActivityRunner] }

    /// True once both read models have caught up with their stores (for `/ready`).
    public var isReady: Bool { directoryRunner.isCaughtUp && orderActivityRunner.isCaughtUp }

    /// Handles a command for customer `customerId`; `completion` runs once, on the loop.
    ///
    /// - An invalid `customerId` fails `.domain(.validation)` for register (field `customerId`)
    ///   and `.domain(.notFound)` (`customer-not-found`) otherwise; for register it must equal
    ///   the command's `customerId`.
    /// - Register's existence check is the decider's (409 `customer-exists`), so `.noStream` is
    ///   treated as `.retrying` (a stream may hold saga rejections before registration).
    /// - Success: `outcome.position` is a position of the customers store
    ///   (`CustomerStoreKind.customers`); `CustomersService.isCreation(outcome)` tells 201 from 200.
    public func handle(_ command: CustomerCommand, customerId: String, context: CommandContext = CommandContext(),
                       concurrency: ConcurrencyMode = .retrying, completion: @escaping CommandCompletion<CustomerEvent>) {
        var mode = concurrency
        if case .register(let r) = command {
            if r.customerId != customerId || !CustomerID.isValid(customerId) {
                let field = CustomerValidation.customerId(customerId)
                    ?? FieldError(field: "customerId", code: "mismatch", message: "customerId does not match the target customer")
                return completion(.failure(.domain(.validation("invalid-customer", "the command has invalid fields", fields: [field]))))
            }
            if case .noStream = mode { mode = .retrying }
        } else if !CustomerID.isValid(customerId) {
            return completion(.failure(.domain(.notFound("customer-not-found", "customer does not exist"))))
        }
        handler.handle(command, on: CustomerID.stream(customerId), concurrency: mode, context: context, completion: completion)
    }

    /// Whether a successful outcome registered the customer (answer 201 rather than 200).
    public static func isCreation(_ outcome: CommandOutcome<CustomerEvent>) -> Bool {
        outcome.events.contains { if case .registered = $0 { return true } else { return false } }
    }

    /// Positions the read models reflect, one per store.
    public var positions: CustomerPositions {
        CustomerPositions(customers: directoryRunner.position.value, publicLog: orderActivityRunner.position.value)
    }

    /// Completes once the read model fed by `store` reflects `position` (see `ProjectionRunner.wait`).
    public func wait(forPosition position: LogPosition, in store: CustomerStoreKind, timeout: Duration,
                     completion: @escaping (PositionWaitResult) -> Void) {
        switch store {
        case .customers: directoryRunner.wait(forPosition: position, timeout: timeout, completion: completion)
        case .publicLog: orderActivityRunner.wait(forPosition: position, timeout: timeout, completion: completion)
        }
    }
}
