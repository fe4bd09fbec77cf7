import Foundation
import Testing
import EventStore
import CQRS
import PublicEvents
@testable import Orders
import JSON
import TributaryTesting

// MARK: - Decider fixtures

let ada = ReplicaCustomer(customerId: "c1", name: "Ada Lovelace", active: true, currency: "EUR", creditLimit: 100_000)
let lineA = OrderLine(sku: "A-1", quantity: 2, unitPrice: 500)
let lineB = OrderLine(sku: "B.2", quantity: 1, unitPrice: 250)

func placeCommand(_ lines: [OrderLine] = [lineA], currency: String = "EUR", customerId: String = "c1",
                  customer: ReplicaCustomer? = ada, orderId: String = "o1") -> OrderDecision {
    OrderDecision(orderId: orderId, .client(.place(PlaceOrder(customerId: customerId, currency: currency, lines: lines))), customer: customer)
}
func client(_ c: OrderCommand) -> OrderDecision { OrderDecision(orderId: "o1", .client(c)) }

let placedEvent = OrderEvent.placed(OrderPlaced(orderId: "o1", customerId: "c1", currency: "EUR", lines: [lineA], total: 1000))
let approvedEvent = OrderEvent.approved(OrderApproved(orderId: "o1", customerId: "c1", total: 1000, currency: "EUR"))
let rejectedEvent = OrderEvent.rejected(OrderRejected(orderId: "o1", customerId: "c1", reason: "insufficient-credit"))
let cancelledEvent = OrderEvent.cancelled(OrderCancelled(orderId: "o1", customerId: "c1", reason: "changed my mind", total: 1000, currency: "EUR"))
let shippedEvent = OrderEvent.shipped(OrderShipped(orderId: "o1", customerId: "c1", total: 1000, currency: "EUR"))

/// The history that leads to each status.
func history(for status: OrderStatus) -> [OrderEvent] {
    switch status {
    case .pending: return [placedEvent]
    case .approved: return [placedEvent, approvedEvent]
    case .rejected: return [placedEvent, rejectedEvent]
    case .cancelled: return [placedEvent, cancelledEvent]
    case .shipped: return [placedEvent, approvedEvent, shippedEvent]
    }
}

func given(_ events: [OrderEvent]) -> DeciderScenario<OrderDecider> { DeciderScenario(OrderDecider()).given(events) }

extension DeciderScenario.Outcome {
    var fieldNames: [String] { error?.fieldErrors.map(\.field) ?? [] }
    var fieldCodes: [String] { error?.fieldErrors.map(\.code) ?? [] }
}

// MARK: - The loop stand-in and a service harness

/// Memory stores + a serial queue as the loop + the real runtime.
final class Harness: @unchecked Sendable {
    let loop: TestLoop
    let storeClock = SteppingClock()
    let store: MemoryEventStore
    let publicLog: MemoryEventStore
    var service: OrdersService!
    private var customerEvents: UInt64 = 0

    var queue: DispatchQueue { loop.queue }
    var executor: DispatchQueueExecutor { loop.executor }
    var scheduler: QueueScheduler { loop.scheduler }

    init() {
        loop = TestLoop(label: "orders.test.loop")
        store = MemoryEventStore(executor: loop.executor, clock: storeClock.function)
        publicLog = MemoryEventStore(executor: loop.executor, clock: storeClock.function)
    }

    /// A second harness over the same stores and loop (a restart).
    init(restarting other: Harness) {
        loop = other.loop
        store = other.store
        publicLog = other.publicLog
        loop.queue.sync {}
        customerEvents = other.customerEvents
    }

    func run<T>(_ body: @escaping () throws -> T) async throws -> T { try await loop.run(body) }

    @discardableResult
    func start(viewsSnapshotEvery: UInt64? = nil) async throws -> OrdersService {
        try await loop.startUp {
            var options = OrdersService.defaultOptions
            options.readModelSnapshotEvery = viewsSnapshotEvery
            let s = try OrdersService(store: self.store, publicLog: self.publicLog, executor: self.executor, scheduler: self.scheduler,
                                      options: options)
            try s.start()
            self.service = s
            return s
        }
    }

    func send(_ command: OrderCommand, _ orderId: String = "o1", _ mode: ConcurrencyMode = .retrying,
              context: CommandContext = CommandContext()) async -> Result<CommandOutcome<OrderEvent>, CommandError> {
        await withCheckedContinuation { c in
            executor.queue.async { self.service.handle(command, orderId: orderId, context: context, concurrency: mode) { c.resume(returning: $0) } }
        }
    }

    func eventually(_ seconds: Double = 5, _ condition: @escaping (OrdersService) -> Bool) async -> Bool {
        await loop.eventually(seconds) { condition(self.service) }
    }

    /// Appends a customer public event to the public log as the Customers publisher would.
    @discardableResult
    func publishCustomer<P: PublicEventPayload>(_ payload: P) throws -> LogPosition {
        customerEvents += 1
        let n = customerEvents
        let event = NewEvent(id: Publisher.eventID(source: "customers", position: LogPosition(n), index: 0),
                             type: P.eventType.name, schemaVersion: P.eventType.version, data: try JSONCoding.encode(payload),
                             metadata: EventMetadata(correlationId: "corr-\(n)", causationId: nil,
                                                     properties: [PublicMetadata.source: "customers",
                                                                  PublicMetadata.sourcePosition: String(n),
                                                                  PublicMetadata.occurredAt: "2027-01-15T08:00:00.000Z"]))
        return try publicLog.appendAndWait(to: "customers", expected: .any, events: [event]).get().lastPosition
    }

    func register(_ id: String = "c1", name: String = "Ada Lovelace", currency: String = "EUR", limit: Int64 = 100_000) throws {
        try publishCustomer(CustomerRegisteredV1(customerId: id, name: name, email: "\(id)@example.com", creditLimit: limit, currency: currency))
    }

    /// Public events published by the orders publisher, in order.
    func orderPublicEvents() throws -> [PublicEventEnvelope] {
        try publicLog.readStream("orders").compactMap(PublicEventEnvelope.init)
    }

    func waitForViews() async -> Bool {
        await eventually { s in s.positions.own >= self.store.lastPosition.value && s.positions.publicLog >= self.publicLog.lastPosition.value }
    }
}

let place1 = OrderCommand.place(PlaceOrder(customerId: "c1", currency: "EUR", lines: [lineA]))

func domainError(_ r: Result<CommandOutcome<OrderEvent>, CommandError>) -> DomainError? {
    if case .failure(.domain(let e)) = r { return e }
    return nil
}
