import CQRS
import EventStore
import PublicEvents

/// Order public events → customer credit commands (pure; the consumer's mapping).
///
/// `order.placed` / `order.lines-changed` v1 → `reserveCredit(total)` (a lines change replaces
/// the order's reservation); `order.cancelled` / `order.rejected` v1 → `releaseCredit`. Other
/// order events (`order.approved`, `order.shipped`) need no credit change: a shipped order
/// keeps its reservation (the credit is spent); they only feed the read model.
public enum CustomerSagaMapping {
    /// Stable consumer name (stored in event metadata and idempotency keys: never rename).
    public static let consumerName = "customers-credit"

    /// The reactions, per public event type and version.
    public static let reactions: SagaReactions<CustomerCommand> = {
        var r = SagaReactions<CustomerCommand>(consumerName: consumerName)
        // Each order's credit is its own affair: an order event that keeps failing is parked
        // for an operator, and the saga goes on for every other order. The later events of
        // that order (a cancellation releasing the credit) wait behind it.
        r.failurePolicy = .park
        r.sequence = SagaReactions<CustomerCommand>.sequence(byMember: "orderId")
        func command(_ customerId: String, _ c: CustomerCommand) -> [ConsumerCommand<CustomerCommand>] {
            [ConsumerCommand(stream: CustomerID.stream(customerId), command: c, concurrency: .retrying)]
        }
        r.on(OrderPlacedV1.eventType.name, version: OrderPlacedV1.eventType.version) { envelope in
            let e = try OrderPlacedV1.decode(envelope.data)
            return command(e.customerId, .reserveCredit(orderId: e.orderId, amount: e.total, currency: e.currency))
        }
        r.on(OrderLinesChangedV1.eventType.name, version: OrderLinesChangedV1.eventType.version) { envelope in
            let e = try OrderLinesChangedV1.decode(envelope.data)
            return command(e.customerId, .reserveCredit(orderId: e.orderId, amount: e.total, currency: e.currency))
        }
        r.on(OrderCancelledV1.eventType.name, version: OrderCancelledV1.eventType.version) { envelope in
            let e = try OrderCancelledV1.decode(envelope.data)
            return command(e.customerId, .releaseCredit(orderId: e.orderId))
        }
        r.on(OrderRejectedV1.eventType.name, version: OrderRejectedV1.eventType.version) { envelope in
            let e = try OrderRejectedV1.decode(envelope.data)
            return command(e.customerId, .releaseCredit(orderId: e.orderId))
        }
        return r
    }()

    /// The public event types the consumer subscribes to.
    public static var eventTypes: Set<String> { reactions.eventTypes }

    /// The commands for one public event (none for other types and versions).
    public static func commands(for envelope: PublicEventEnvelope) throws -> [ConsumerCommand<CustomerCommand>] {
        try reactions.commands(for: envelope)
    }
}
