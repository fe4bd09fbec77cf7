import CQRS
import EventStore
import PublicEvents
import JSON

/// Order public events → customer credit commands (pure; the consumer's mapping).
///
/// `order.placed` / `order.lines-changed` → `reserveCredit(total)` (a lines change replaces the
/// order's reservation); `order.cancelled` / `order.rejected` → `releaseCredit`. Other order
/// events (`order.approved`, `order.shipped`) need no credit change: a shipped order keeps its
/// reservation (the credit is spent); they only feed the read model.
public enum CustomerSagaMapping {
    /// Stable consumer name (stored in event metadata and idempotency keys: never rename).
    public static let consumerName = "customers-credit"

    /// The public event types the consumer subscribes to.
    public static let eventTypes: Set<String> = [
        OrderPlacedV1.eventType.name, OrderLinesChangedV1.eventType.name,
        OrderCancelledV1.eventType.name, OrderRejectedV1.eventType.name,
    ]

    public static func commands(for envelope: PublicEventEnvelope) throws -> [ConsumerCommand<CustomerCommand>] {
        func command(_ customerId: String, _ c: CustomerCommand) -> [ConsumerCommand<CustomerCommand>] {
            [ConsumerCommand(stream: CustomerID.stream(customerId), command: c, concurrency: .retrying)]
        }
        switch envelope.type {
        case OrderPlacedV1.eventType.name:
            let e = try OrderPlacedV1.decode(envelope.data)
            return command(e.customerId, .reserveCredit(orderId: e.orderId, amount: e.total, currency: e.currency))
        case OrderLinesChangedV1.eventType.name:
            let e = try OrderLinesChangedV1.decode(envelope.data)
            return command(e.customerId, .reserveCredit(orderId: e.orderId, amount: e.total, currency: e.currency))
        case OrderCancelledV1.eventType.name:
            let e = try OrderCancelledV1.decode(envelope.data)
            return command(e.customerId, .releaseCredit(orderId: e.orderId))
        case OrderRejectedV1.eventType.name:
            let e = try OrderRejectedV1.decode(envelope.data)
            return command(e.customerId, .releaseCredit(orderId: e.orderId))
        default:
            return []
        }
    }
}
