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

    /// - Parameter snapshotEvery: read-model snapshot interval in events (nil: no snapshots,
    ///   every start replays the stores in full).
    init(stores: StoreSet, executor: CompletionExecutor, scheduler: Scheduler, logger: @escaping CQRSLogger,
         progress: @escaping (ReplayProgress) -> Void, snapshotEvery: UInt64? = nil) throws {
        guard let customerStore = stores["customers"], let orderStore = stores["orders"], let publicLog = stores["public"] else {
            throw ConfigurationError("stores missing")
        }
        self.logger = logger
        // One pass over each service's store, both stores at once, instead of one scan for the
        // idempotency index and another for the consumer's watermark, one store after the other.
        let scans = try Services.scan([(customerStore, CustomerSagaMapping.consumerName), (orderStore, OrdersService.consumerName)])
        var customerOptions = CustomersService.Options()
        customerOptions.projectionSnapshotEvery = snapshotEvery
        customers = try CustomersService(store: customerStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                         options: customerOptions, idempotency: scans[0].idempotency, logger: logger, progress: progress)
        orders = try OrdersService(store: orderStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                   log: logger, idempotency: scans[1].idempotency, viewsSnapshotEvery: snapshotEvery, progress: progress)
        consumerCheckpoints = (scans[0].watermark, scans[1].watermark)
    }

    private let consumerCheckpoints: (customers: LogPosition, orders: LogPosition)

    /// What a startup scan of a service's store yields: its idempotency index and the watermark
    /// of the service's consumer.
    struct StoreScanResult {
        var idempotency: IdempotencyIndex
        var watermark: LogPosition
    }

    /// Scans the stores in parallel (they are independent files; start-up runs before serving).
    static func scan(_ stores: [(EventStore, String)]) throws -> [StoreScanResult] {
        final class Slot: @unchecked Sendable { var result: Result<StoreScanResult, Error> = .failure(ConfigurationError("not scanned")) }
        let slots = stores.map { _ in Slot() }
        DispatchQueue.concurrentPerform(iterations: stores.count) { i in
            let (store, consumer) = stores[i]
            slots[i].result = Result {
                let index = IdempotencyIndex()
                var watermark = LogPosition.start
                try StoreScan.forEach(in: store) { e in
                    index.observe(e)
                    if let w = Consumer<CustomerDecider>.watermark(in: e, name: consumer), w > watermark { watermark = w }
                }
                return StoreScanResult(idempotency: index, watermark: watermark)
            }
        }
        return try slots.map { try $0.result.get() }
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
        let pending = (customers.projectionRunners + orders.projectionRunners).compactMap { $0.saveFinalSnapshot() }
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
