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

    init(stores: StoreSet, executor: CompletionExecutor, scheduler: Scheduler, logger: @escaping CQRSLogger,
         progress: @escaping (ReplayProgress) -> Void) throws {
        guard let customerStore = stores["customers"], let orderStore = stores["orders"], let publicLog = stores["public"] else {
            throw ConfigurationError("stores missing")
        }
        customers = try CustomersService(store: customerStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                         logger: logger, progress: progress)
        orders = try OrdersService(store: orderStore, publicLog: publicLog, executor: executor, scheduler: scheduler,
                                   log: logger, progress: progress)
    }

    func start() throws {
        try customers.start()
        try orders.start()
    }

    func stop() {
        orders.stop()
        customers.stop()
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
