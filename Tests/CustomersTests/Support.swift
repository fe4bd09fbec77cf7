import Foundation
import Testing
import CQRS
import EventStore
import PublicEvents
@testable import Customers
import JSON
import TributaryTesting

// MARK: - Deciders

let decider = CustomerDecider()
let scenario = DeciderScenario(decider)

func registered(_ id: String = "c1", given: String = "Ada", family: String = "Lovelace", email: String = "ada@example.com",
                limit: Int64 = 1_000, currency: String = "EUR") -> CustomerEvent {
    .registered(CustomerRegistered(customerId: id, givenName: given, familyName: family, email: email, creditLimit: limit, currency: currency))
}

func reserved(_ order: String, _ amount: Int64, available: Int64, currency: String = "EUR") -> CustomerEvent {
    .creditReserved(CreditReserved(orderId: order, amount: amount, currency: currency, availableCredit: available))
}

func released(_ order: String, _ amount: Int64, available: Int64, currency: String = "EUR") -> CustomerEvent {
    .creditReleased(CreditReleased(orderId: order, amount: amount, currency: currency, availableCredit: available))
}

func rejected(_ order: String, _ amount: Int64, _ reason: CreditRejectionReason, currency: String = "EUR") -> CustomerEvent {
    .creditRejected(CreditRejected(orderId: order, amount: amount, currency: currency, reason: reason))
}

func register(_ id: String = "c1", name: String = "Ada Lovelace", email: String = "ada@example.com", limit: Int64 = 1_000,
              currency: String = "EUR") -> CustomerCommand {
    .register(RegisterCustomer(customerId: id, name: name, email: email, creditLimit: limit, currency: currency))
}

extension DeciderScenario.Outcome {
    var fieldNames: [String] { error?.fieldErrors.map(\.field) ?? [] }
}

// MARK: - Service harness

/// One customers service over two stores, on a test loop.
final class ServiceHarness: @unchecked Sendable {
    let loop: TestLoop
    let store: EventStore
    let publicLog: EventStore
    var service: CustomersService!

    init(loop: TestLoop = TestLoop(), store: EventStore? = nil, publicLog: EventStore? = nil, clock: SteppingClock = SteppingClock()) {
        self.loop = loop
        self.store = store ?? loop.makeStore(clock: clock.function)
        self.publicLog = publicLog ?? loop.makeStore(clock: clock.function)
    }

    /// Creates and starts a (new) service over the stores.
    @discardableResult
    func start() async throws -> CustomersService {
        let s = try await loop.startUp { [self] in
            let s = try CustomersService(store: store, publicLog: publicLog, executor: loop.executor, scheduler: loop.scheduler)
            try s.start()
            return s
        }
        service = s
        return s
    }

    func stop() async throws {
        let s = service!
        try await loop.run { s.stop() }
    }

    func send(_ command: CustomerCommand, _ id: String, context: CommandContext = CommandContext(),
              _ mode: ConcurrencyMode = .retrying) async -> Result<CommandOutcome<CustomerEvent>, CommandError> {
        let s = service!
        return await withCheckedContinuation { c in
            loop.queue.async { s.handle(command, customerId: id, context: context, concurrency: mode) { c.resume(returning: $0) } }
        }
    }

    /// Sends and requires success.
    @discardableResult
    func ok(_ command: CustomerCommand, _ id: String) async throws -> CommandOutcome<CustomerEvent> {
        try await send(command, id).get()
    }

    /// Waits until the read models reflect both stores' last positions and the saga is idle.
    func settle(_ seconds: Double = 5) async -> Bool {
        let s = service!
        return await loop.eventually(seconds) { [self] in
            s.positions.own == store.lastPosition.value && s.positions.publicLog == publicLog.lastPosition.value
                && s.consumer.backlog == 0 && s.publisher.checkpoint == store.lastPosition
        }
    }

    func view(_ id: String) async throws -> CustomerView? {
        let s = service!
        return try await loop.run { s.customer(id) }
    }

    /// Appends an order public event to the public log as the Orders publisher would.
    func publishOrderEvent<P: PublicEventPayload>(_ payload: P, sourcePosition: UInt64) throws {
        let e = NewEvent(id: Publisher.eventID(source: "orders", position: LogPosition(sourcePosition), index: 0),
                         type: P.eventType.name, schemaVersion: P.eventType.version, data: try JSONCoding.encode(payload),
                         metadata: EventMetadata(correlationId: "saga-\(sourcePosition)", causationId: nil,
                                                 properties: [PublicMetadata.source: "orders",
                                                              PublicMetadata.sourcePosition: String(sourcePosition)]))
        _ = try publicLog.appendAndWait(to: "orders", expected: .any, events: [e]).get()
    }

    /// Public events published by the customers service, decoded envelopes in log order.
    func customerPublicEvents() throws -> [PublicEventEnvelope] {
        try publicLog.readStream(StreamName(CustomerPublicMapping.source)).compactMap(PublicEventEnvelope.init)
    }
}

func decodePayload<P: PublicEventPayload>(_: P.Type, _ envelope: PublicEventEnvelope) throws -> P {
    try JSONCoding.decode(P.self, from: envelope.data)
}
