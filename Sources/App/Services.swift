import API
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
    /// Both, as the runtime the app starts, stops and probes the same way.
    let all: [RunningService]
    /// Both services' APIs (made once: their live views register change listeners).
    let apis: [ServiceAPI]

    private let logger: CQRSLogger
    /// Longest wait for the read-model snapshots of a graceful shutdown.
    var finalSnapshotTimeout = 60.0
    /// Each service's startup scan (idempotency keys, consumer watermark), in `all`'s order.
    private let scans: [ServiceStartupScan]
    private var consumerCheckpoints: [LogPosition] = []

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
        let faults: ComponentFaults?
        do { faults = try ComponentFaults.fromEnvironment() } catch { throw ConfigurationError("\(ComponentFaults.variable): \(error)") }
        if faults != nil {
            logger(.warning, "TEST HOOK \(ComponentFaults.variable) active: components fail on the events it names")
        }
        func tuned(_ defaults: ServiceOptions) -> ServiceOptions {
            var o = defaults
            o.faults = faults
            o.readModelSnapshotEvery = snapshotEvery
            o.readModelSnapshotMinInterval = snapshotMinInterval
            o.backgroundReplayAfter = backgroundReplayAfter
            return o
        }
        // Before taking commands each service needs its idempotency index and its consumer's
        // watermark, found by scanning its store (from the scan's snapshot on). The services
        // are built first, with empty indexes the scans fill, so their read models replay off
        // the loop during the scans.
        customers = try CustomersService(store: customerStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                         options: tuned(CustomersService.defaultOptions), idempotency: IdempotencyIndex(),
                                         logger: logger, progress: progress)
        orders = try OrdersService(store: orderStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                   options: tuned(OrdersService.defaultOptions), idempotency: IdempotencyIndex(),
                                   logger: logger, progress: progress)
        all = [customers.runtime, orders.running]
        apis = [customers.makeAPI(), orders.makeAPI()]
        scans = all.map { s in
            ServiceStartupScan(store: s.store, index: s.idempotency, consumerName: s.consumerName, executor: executor,
                               scheduler: scheduler, snapshotEvery: snapshotEvery, snapshotMinInterval: snapshotMinInterval,
                               logger: logger)
        }
        for s in all { s.startReadModels() }
        do {
            try Services.prepare(scans, logger: logger)
        } catch {
            for s in all { s.stop() }
            throw error
        }
        consumerCheckpoints = scans.map { $0.finish() }
    }

    /// Prepares the startup scans of every store in parallel (independent files; start-up,
    /// before serving, while the loop waits here).
    static func prepare(_ scans: [ServiceStartupScan], logger: CQRSLogger) throws {
        let outcomes = concurrently(scans.count) { i in try scans[i].prepare() }
        for (scan, outcome) in zip(scans, outcomes) {
            let (scanned, seconds): (UInt64, Double)
            do { (scanned, seconds) = try outcome.get() } catch { throw ConfigurationError("startup scan failed: \(error)") }
            logger(.info, "startup scan '\(scan.runner.projection.name)': \(scanned) events scanned to position \(scan.runner.position) in \(String(format: "%.3f", seconds)) s")
        }
    }

    func start() throws {
        for (s, checkpoint) in zip(all, consumerCheckpoints) { try s.start(consumerFrom: checkpoint) }
    }

    /// Stops every service, then snapshots every read model (encoded in parallel on the
    /// runners' queues) so the next start replays only what comes after; waits for the saves
    /// (bounded by `finalSnapshotTimeout`) because the stores close next. A failed or late
    /// save is logged: the next start just replays more.
    func stop() {
        for s in all.reversed() { s.stop() }
        for scan in scans { scan.stop() }
        let pending = (all.flatMap { $0.projectionRunners } + scans.map { $0.runner }).compactMap { $0.saveFinalSnapshot() }
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
    var isReady: Bool { all.allSatisfy { $0.isReady } }
}
