import EventStore
import CQRS
import PublicEvents
import JSON

/// Pure mapping of internal order events to the public contract (the publisher's `map`).
public enum OrderPublicMapping {
    /// The public events for one internal event (one each; unknown types map to nothing).
    public static func map(_ event: OrderEvent) throws -> [PublicEventDraft] {
        switch event {
        case .placed(let e):
            return [try draft(OrderPlacedV1(orderId: e.orderId, customerId: e.customerId, currency: e.currency,
                                            lines: e.lines.map { $0.publicLine }, total: e.total))]
        case .lineAdded(let e):
            return [try draft(OrderLinesChangedV1(orderId: e.orderId, customerId: e.customerId, currency: e.currency,
                                                  lines: e.lines.map { $0.publicLine }, total: e.total))]
        case .lineRemoved(let e):
            return [try draft(OrderLinesChangedV1(orderId: e.orderId, customerId: e.customerId, currency: e.currency,
                                                  lines: e.lines.map { $0.publicLine }, total: e.total))]
        case .approved(let e):
            return [try draft(OrderApprovedV1(orderId: e.orderId, customerId: e.customerId, total: e.total, currency: e.currency))]
        case .rejected(let e):
            return [try draft(OrderRejectedV1(orderId: e.orderId, customerId: e.customerId, reason: e.reason))]
        case .cancelled(let e):
            return [try draft(OrderCancelledV1(orderId: e.orderId, customerId: e.customerId, reason: e.reason,
                                               total: e.total, currency: e.currency))]
        case .shipped(let e):
            return [try draft(OrderShippedV1(orderId: e.orderId, customerId: e.customerId, total: e.total, currency: e.currency))]
        }
    }

    /// The publisher's mapper: decodes a stored order event and maps it. Events of streams
    /// outside the `order` category map to nothing.
    public static func map(recorded: RecordedEvent) throws -> [PublicEventDraft] {
        guard recorded.stream.category == OrdersService.category else { return [] }
        return try map(OrderEventCodec.decode(type: recorded.type, data: recorded.data))
    }

    static func draft<P: PublicEventPayload>(_ payload: P) throws -> PublicEventDraft {
        try .json(P.eventType.name, version: P.eventType.version, payload)
    }
}

/// The saga's half in Orders: customer credit answers (v1) become approve/reject commands.
/// Pure and deterministic (the consumer's exactly-once argument relies on it).
enum OrderSagaMapping {
    static let reactions: SagaReactions<OrderDecision> = {
        var r = SagaReactions<OrderDecision>(consumerName: OrdersService.consumerName)
        // One credit answer per order: a failing one is parked, the others go on.
        r.failurePolicy = .park
        r.sequence = SagaReactions<OrderDecision>.sequence(byMember: "orderId")
        r.on(CustomerCreditReservedV1.eventType.name, version: CustomerCreditReservedV1.eventType.version) { e in
            let p = try CustomerCreditReservedV1.decode(e.data)
            guard OrderValidation.isValidOrderId(p.orderId) else { return [] }
            return [ConsumerCommand(stream: OrdersService.stream(p.orderId), command: OrderDecision(orderId: p.orderId, .approve(amount: p.amount)))]
        }
        r.on(CustomerCreditRejectedV1.eventType.name, version: CustomerCreditRejectedV1.eventType.version) { e in
            let p = try CustomerCreditRejectedV1.decode(e.data)
            guard OrderValidation.isValidOrderId(p.orderId) else { return [] }
            return [ConsumerCommand(stream: OrdersService.stream(p.orderId),
                                    command: OrderDecision(orderId: p.orderId, .reject(reason: p.reason, amount: p.amount)))]
        }
        return r
    }()

    /// Public event types the consumer subscribes to.
    static var eventTypes: Set<String> { reactions.eventTypes }

    static func commands(for e: PublicEventEnvelope) throws -> [ConsumerCommand<OrderDecision>] { try reactions.commands(for: e) }
}
