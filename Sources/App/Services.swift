import API
import CQRS
import Customers
import EventStore
import Foundation
import Orders

/// The example services this process hosts (both, or one: `ServerRole`), each over its own
/// private store and the shared public log. They never see each other: the only thing between
/// them is the public log.
///
/// A writer's start has two steps: the read models start at once (a standby or a replica
/// serves queries from them), and the services take commands once their stores are scanned
/// for what commands need (`init` with `writes`, or `becomeWriter` later: a standby that got
/// the lease).
final class Services {
    /// The hosted services, as the runtime the app starts, stops and probes the same way.
    let all: [RunningService]
    /// Their APIs (made once: their live views register change listeners).
    let apis: [ServiceAPI]
    private let executor: CompletionExecutor
    /// The service objects themselves (their APIs and views refer to them unowned).
    private let owners: [AnyObject]

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
    ///   - hosted: the services to run (`ServerRole.services`).
    ///   - writes: scan the stores now and take commands on `start` (false: read models only,
    ///     until `becomeWriter`).
    init(stores: StoreSet, executor: CompletionExecutor, scheduler: Scheduler, logger: @escaping CQRSLogger,
         progress: @escaping (ReplayProgress) -> Void, snapshotEvery: UInt64? = nil,
         snapshotMinInterval: Double = 0, backgroundReplayAfter: UInt64? = 4096,
         hosted: [String] = ServerRole.serviceNames, writes: Bool = true) throws {
        guard let publicLog = stores["public"], hosted.allSatisfy({ stores[$0] != nil }) else {
            throw ConfigurationError("stores missing")
        }
        self.logger = logger
        self.executor = executor
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
        var all: [RunningService] = [], apis: [ServiceAPI] = [], owners: [AnyObject] = []
        /// Builds service `name` on its store when this process hosts it.
        func host(_ name: String, _ make: (EventStore) throws -> (service: AnyObject, runtime: RunningService, api: ServiceAPI)) throws {
            guard hosted.contains(name), let store = stores[name] else { return }
            let made = try make(store)
            all.append(made.runtime)
            apis.append(made.api)
            owners.append(made.service)
        }
        try host("customers") { store in
            let customers = try CustomersService(store: store, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                                 options: tuned(CustomersService.defaultOptions), idempotency: IdempotencyIndex(),
                                                 logger: logger, progress: progress)
            return (customers, customers.runtime, customers.makeAPI())
        }
        try host("orders") { store in
            let orders = try OrdersService(store: store, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                           options: tuned(OrdersService.defaultOptions), idempotency: IdempotencyIndex(),
                                           logger: logger, progress: progress)
            return (orders, orders.running, orders.makeAPI())
        }
        self.all = all
        self.apis = apis
        self.owners = owners
        scans = all.map { s in
            ServiceStartupScan(store: s.store, index: s.idempotency, consumerName: s.consumerName, executor: executor,
                               scheduler: scheduler, snapshotEvery: snapshotEvery, snapshotMinInterval: snapshotMinInterval,
                               logger: logger)
        }
        for s in all {
            s.writes = writes
            s.startReadModels()
        }
        guard writes else { return }
        do {
            try Services.prepare(scans, logger: logger)
        } catch {
            for s in all { s.stop() }
            throw error
        }
        consumerCheckpoints = scans.map { $0.finish() }
    }

    /// A standby got its lease: scans the stores off the loop (the read models go on serving),
    /// then starts taking commands, on the loop. `completion` gets the scan's error, if any.
    func becomeWriter(completion: @escaping (Error?) -> Void) {
        // Only this hop touches the scans off the loop; the loop waits for its answer.
        let box = ScanHop(services: self, completion: completion)
        DispatchQueue.global().async {
            let outcome = Result { try Services.prepare(box.services.scans, logger: box.services.logger) }
            box.services.executor.execute {
                let services = box.services
                if case .failure(let error) = outcome { return box.completion(error) }
                // What the writer before parked and skipped, read again, before the consumer runs.
                var left = services.all.count
                for s in services.all {
                    s.reloadOperations {
                        left -= 1
                        guard left == 0 else { return }
                        do {
                            services.consumerCheckpoints = services.scans.map { $0.finish() }
                            try services.start()
                            box.completion(nil)
                        } catch {
                            box.completion(error)
                        }
                    }
                }
            }
        }
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

/// Carries the services to the thread that scans their stores and back to the loop: nothing
/// else runs the scans meanwhile (the read models are separate runners).
private struct ScanHop: @unchecked Sendable {
    let services: Services
    let completion: (Error?) -> Void
}
