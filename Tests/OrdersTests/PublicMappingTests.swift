import Testing
import CQRS
import EventStore
import PublicEvents
@testable import Orders
import JSON

/// Each internal event maps to exactly the expected public payload.
@Suite struct PublicMappingTests {
    func single<P: PublicEventPayload>(_ e: OrderEvent, as: P.Type) throws -> P {
        let drafts = try OrderPublicMapping.map(e)
        #expect(drafts.count == 1)
        #expect(drafts[0].type == P.eventType.name)
        #expect(drafts[0].version == P.eventType.version)
        return try JSONCoding.decode(P.self, from: drafts[0].data)
    }

    @Test func placedBecomesOrderPlacedV1() throws {
        let p = try single(placedEvent, as: OrderPlacedV1.self)
        #expect(p == OrderPlacedV1(orderId: "o1", customerId: "c1", currency: "EUR",
                                   lines: [OrderLineV1(sku: "A-1", quantity: 2, unitPrice: 500)], total: 1000))
    }

    @Test func lineAddedAndRemovedBecomeLinesChangedV1WithAllLines() throws {
        let added = OrderEvent.lineAdded(LineAdded(orderId: "o1", customerId: "c1", currency: "EUR", line: lineB, lines: [lineA, lineB], total: 1250))
        #expect(try single(added, as: OrderLinesChangedV1.self) == OrderLinesChangedV1(
            orderId: "o1", customerId: "c1", currency: "EUR",
            lines: [OrderLineV1(sku: "A-1", quantity: 2, unitPrice: 500), OrderLineV1(sku: "B.2", quantity: 1, unitPrice: 250)], total: 1250))
        let removed = OrderEvent.lineRemoved(LineRemoved(orderId: "o1", customerId: "c1", currency: "EUR", sku: "B.2", lines: [lineA], total: 1000))
        #expect(try single(removed, as: OrderLinesChangedV1.self) == OrderLinesChangedV1(
            orderId: "o1", customerId: "c1", currency: "EUR", lines: [OrderLineV1(sku: "A-1", quantity: 2, unitPrice: 500)], total: 1000))
    }

    @Test func approvedRejectedCancelledShipped() throws {
        #expect(try single(approvedEvent, as: OrderApprovedV1.self) == OrderApprovedV1(orderId: "o1", customerId: "c1", total: 1000, currency: "EUR"))
        #expect(try single(rejectedEvent, as: OrderRejectedV1.self) == OrderRejectedV1(orderId: "o1", customerId: "c1", reason: "insufficient-credit"))
        #expect(try single(cancelledEvent, as: OrderCancelledV1.self) == OrderCancelledV1(orderId: "o1", customerId: "c1", reason: "changed my mind", total: 1000, currency: "EUR"))
        #expect(try single(shippedEvent, as: OrderShippedV1.self) == OrderShippedV1(orderId: "o1", customerId: "c1", total: 1000, currency: "EUR"))
    }

    @Test func mappingIsDeterministic() throws {
        #expect(try OrderPublicMapping.map(placedEvent) == OrderPublicMapping.map(placedEvent))
    }

    @Test func recordedEventsOutsideTheOrderCategoryMapToNothing() throws {
        let enc = try OrderEventCodec.encode(placedEvent)
        let r = RecordedEvent(id: EventID(), stream: "other-1", streamVersion: .first, position: LogPosition(1), type: enc.type,
                              schemaVersion: 1, data: enc.data, metadata: EventMetadata(), timestamp: .init(timeIntervalSince1970: 0))
        #expect(try OrderPublicMapping.map(recorded: r).isEmpty)
        var inOrder = r
        inOrder.stream = "order-o1"
        #expect(try OrderPublicMapping.map(recorded: inOrder).map(\.type) == ["order.placed"])
    }
}
