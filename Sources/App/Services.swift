import CQRS
import Customers
import EventStore
import Foundation
import Orders

/// The example services, each over its own private store and the shared public log.
/// They never see each other: the only thing between them is the public log.
final class Services {
    let customers: CustomersService
    let orders: OrdersService

    private let logger: CQRSLogger
    /// Longest wait for the read-model snapshots of a graceful shutdown.
    var finalSnapshotTimeout = 60.0

    /// - Parameters:
    ///   - snapshotEvery: read-model snapshot interval in events (nil: no snapshots, every start
    ///     replays the stores in full).
    ///   - snapshotMinInterval: minimum seconds between two periodic snapshots of one read model.
    ///   - backgroundReplayAfter: read models further behind than this catch up off the loop.
    init(stores: StoreSet, executor: CompletionExecutor, scheduler: Scheduler, logger: @escaping CQRSLogger,
         progress: @escaping (ReplayProgress) -> Void, snapshotEvery: UInt64? = nil,
         snapshotMinInterval: Double = 0, backgroundReplayAfter: UInt64? = 4096) throws {
        guard let customerStore = stores["customers"], let orderStore = stores["orders"], let publicLog = stores["public"] else {
            throw ConfigurationError("stores missing")
        }
        self.logger = logger
        // Before taking commands each service needs its idempotency index and its consumer's
        // watermark, found by scanning its store: from the startup-scan snapshot on, both
        // stores at once, in one pass each. The services are built first (with empty indexes,
        // filled below) so their read models replay off the loop during the scan.
        let scanners = [(customerStore, CustomerSagaMapping.consumerName), (orderStore, OrdersService.consumerName)].map { store, consumer in
            let projection = StartupScanProjection(name: "\(consumer).startup-scan",
                                                   watermarkProperty: Consumer<CustomerDecider>.watermarkProperty(consumer))
            var options = ProjectionRunner.Options()
            options.snapshotEvery = snapshotEvery
            options.snapshotMinInterval = snapshotMinInterval
            options.deliversInternalEvents = true
            return (projection, ProjectionRunner(projection: projection, store: store, executor: executor, scheduler: scheduler,
                                                 options: options, logger: logger))
        }
        let indexes = scanners.map { _ in IdempotencyIndex() }
        var customerOptions = CustomersService.Options()
        customerOptions.projectionSnapshotEvery = snapshotEvery
        customerOptions.projectionSnapshotMinInterval = snapshotMinInterval
        customerOptions.backgroundReplayAfter = backgroundReplayAfter
        customers = try CustomersService(store: customerStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                         options: customerOptions, idempotency: indexes[0], logger: logger, progress: progress)
        orders = try OrdersService(store: orderStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                   log: logger, idempotency: indexes[1], viewsSnapshotEvery: snapshotEvery,
                                   viewsSnapshotMinInterval: snapshotMinInterval, backgroundReplayAfter: backgroundReplayAfter,
                                   progress: progress)
        customers.startReadModels()
        orders.startReadModels()
        do {
            try Services.prepare(scanners.map(\.1), logger: logger)
        } catch {
            orders.stop()
            customers.stop()
            throw error
        }
        for ((scan, _), index) in zip(scanners, indexes) { scan.copyKeys(into: index) }
        if snapshotEvery != nil {
            for (_, runner) in scanners { runner.start() }   // follows the store from here, for the next snapshots
            scanRunners = scanners.map(\.1)
        } else {
            scanRunners = []
        }
        consumerCheckpoints = (scanners[0].0.watermark, scanners[1].0.watermark)
    }

    private let consumerCheckpoints: (customers: LogPosition, orders: LogPosition)
    /// Follow each service's store for the startup-scan snapshots.
    private let scanRunners: [ProjectionRunner]

    /// Prepares the startup scans of both stores in parallel (independent files; start-up,
    /// before serving, while the loop waits here).
    static func prepare(_ runners: [ProjectionRunner], logger: CQRSLogger) throws {
        let outcomes = concurrently(runners.count) { i in
            let started = Date()
            return (try runners[i].prepareSynchronously(), Date().timeIntervalSince(started))
        }
        for (runner, outcome) in zip(runners, outcomes) {
            let (scanned, seconds) = try outcome.get()
            if let failure = runner.failure { throw ConfigurationError("startup scan failed: \(failure)") }
            logger(.info, "startup scan '\(runner.projection.name)': \(scanned) events scanned to position \(runner.position) in \(String(format: "%.3f", seconds)) s")
        }
    }

    func start() throws {
        try customers.start(consumerFrom: consumerCheckpoints.customers)
        try orders.start(consumerFrom: consumerCheckpoints.orders)
    }

    /// Stops both services, then snapshots every read model (encoded in parallel on the
    /// runners' queues) so the next start replays only what comes after; waits for the saves
    /// (bounded by `finalSnapshotTimeout`) because the stores close next. A failed or late
    /// save is logged: the next start just replays more.
    func stop() {
        orders.stop()
        customers.stop()
        for r in scanRunners { r.stop() }
        let pending = (customers.projectionRunners + orders.projectionRunners + scanRunners).compactMap { $0.saveFinalSnapshot() }
        let deadline = Date().addingTimeInterval(finalSnapshotTimeout)
        for p in pending {
            switch p.wait(timeout: max(0, deadline.timeIntervalSinceNow)) {
            case .success(let r)?:
                logger(.info, "projection '\(p.projection)' saved snapshot at position \(p.position) on shutdown (\(r.bytes) bytes, \(String(format: "%.0f", r.seconds * 1000)) ms)")
            case .failure(let error)?:
                logger(.warning, "projection '\(p.projection)': shutdown snapshot at \(p.position) failed: \(error)")
            case nil:
                logger(.warning, "projection '\(p.projection)': shutdown snapshot at \(p.position) did not finish in time")
            }
        }
    }

    /// Every read model has caught up with its store (what `/ready` reports).
    var isReady: Bool { customers.isReady && orders.isReady }

    /// Projections, publishers and consumers of both services, in one shape.
    var components: [RuntimeComponent] {
        customers.components.map {
            RuntimeComponent(service: "customers", kind: $0.kind, name: $0.name, status: $0.status,
                             position: $0.position.value, lag: $0.lag, healthy: $0.isHealthy, error: $0.error)
        } + orders.health.components.map {
            RuntimeComponent(service: "orders", kind: $0.kind, name: $0.name, status: $0.status,
                             position: $0.position, lag: $0.lag, healthy: $0.healthy, error: $0.error)
        }
    }
}

/// One runtime component (read model, publisher, consumer) for `/health` and `/metrics`.
struct RuntimeComponent: Encodable {
    var service: String
    var kind: String
    var name: String
    var status: String
    var position: UInt64
    var lag: UInt64
    var healthy: Bool
    var error: String?
}
