import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Customers
import JSON

/// Order public events → customer credit commands (the consumer's pure mapping).
@Suite struct ConsumerMappingTests {
    func envelope<P: PublicEventPayload>(_ payload: P) throws -> PublicEventEnvelope {
        PublicEventEnvelope(id: EventID(), type: P.eventType.name, version: P.eventType.version, source: "orders",
                            occurredAt: "2026-01-01T00:00:00.000Z", correlationId: nil, causationId: nil,
                            data: try JSONCoding.encode(payload), position: LogPosition(7), sourcePosition: LogPosition(3))
    }

    func commands<P: PublicEventPayload>(_ payload: P) throws -> [(String, CustomerCommand)] {
        try CustomerSagaMapping.commands(for: envelope(payload)).map { ($0.stream.value, $0.command) }
    }

    let lines = [OrderLineV1(sku: "a", quantity: 2, unitPrice: 150)]

    @Test func orderPlacedReservesTheTotal() throws {
        let c = try commands(OrderPlacedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 300))
        #expect(c.count == 1)
        #expect(c.first?.0 == "customer-c1")
        #expect(c.first?.1 == .reserveCredit(orderId: "o1", amount: 300, currency: "EUR"))
    }

    @Test func orderLinesChangedReservesTheNewTotal() throws {
        let c = try commands(OrderLinesChangedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 450))
        #expect(c.first?.1 == .reserveCredit(orderId: "o1", amount: 450, currency: "EUR"))
    }

    @Test func orderCancelledReleases() throws {
        let c = try commands(OrderCancelledV1(orderId: "o1", customerId: "c1", reason: "changed mind", total: 300, currency: "EUR"))
        #expect(c.map(\.1) == [.releaseCredit(orderId: "o1")])
    }

    @Test func orderRejectedReleases() throws {
        let c = try commands(OrderRejectedV1(orderId: "o1", customerId: "c1", reason: "insufficient-credit"))
        #expect(c.map(\.1) == [.releaseCredit(orderId: "o1")])
    }

    @Test func approvedAndShippedNeedNoCommand() throws {
        #expect(try commands(OrderApprovedV1(orderId: "o1", customerId: "c1", total: 300, currency: "EUR")).isEmpty)
        #expect(try commands(OrderShippedV1(orderId: "o1", customerId: "c1", total: 300, currency: "EUR")).isEmpty)
    }

    @Test func subscribesToExactlyTheEventsItMaps() {
        #expect(CustomerSagaMapping.eventTypes == ["order.placed", "order.lines-changed", "order.cancelled", "order.rejected"])
    }

    @Test func aMalformedPayloadThrows() {
        let bad = PublicEventEnvelope(id: EventID(), type: "order.placed", version: 1, source: "orders", occurredAt: "", correlationId: nil,
                                      causationId: nil, data: Array("{}".utf8), position: LogPosition(1), sourcePosition: LogPosition(1))
        #expect(throws: (any Error).self) { try CustomerSagaMapping.commands(for: bad) }
    }
}
