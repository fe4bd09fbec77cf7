import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders
import JSON

/// The saga inside the module: memory stores, the real runtime, customer answers by hand.
@Suite struct SagaTests {
    func status(_ h: Harness, _ id: String = "o1") async throws -> OrderStatus? { try await h.run { h.service.order(id)?.status } }

    @Test func creditReservedApprovesTheOrder() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1).get()
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().map(\.type)) == ["order.placed"] })
        let placed = try h.orderPublicEvents()[0]
        #expect(placed.source == "orders")
        try h.publishCustomer(CustomerCreditReservedV1(customerId: "c1", orderId: "o1", amount: 1000, currency: "EUR", availableCredit: 99_000))
        #expect(await h.eventually { $0.order("o1")?.status == .approved })
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().map(\.type)) == ["order.placed", "order.approved"] })
    }

    @Test func creditRejectedRejectsTheOrder() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1).get()
        try h.publishCustomer(CustomerCreditRejectedV1(customerId: "c1", orderId: "o1", amount: 1000, currency: "EUR", reason: "insufficient-credit"))
        #expect(await h.eventually { $0.order("o1")?.status == .rejected })
        #expect(try await h.run { h.service.order("o1")?.rejectionReason } == "insufficient-credit")
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().last?.type) == "order.rejected" })
    }

    @Test func linesChangedGoesBackToPendingThenApprovedAgain() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1).get()
        try h.publishCustomer(CustomerCreditReservedV1(customerId: "c1", orderId: "o1", amount: 1000, currency: "EUR", availableCredit: 99_000))
        #expect(await h.eventually { $0.order("o1")?.status == .approved })
        _ = try await h.send(.addLine(lineB)).get()
        #expect(await h.eventually { $0.order("o1")?.status == .pending && $0.order("o1")?.total == 1250 })
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().last?.type) == "order.lines-changed" })
        // A late answer for the old total is ignored; the answer for the new total approves.
        try h.publishCustomer(CustomerCreditReservedV1(customerId: "c1", orderId: "o1", amount: 1000, currency: "EUR", availableCredit: 99_000))
        #expect(await h.waitForViews())
        #expect(await h.eventually { $0.consumerHandled >= 2 })
        #expect(try await status(h) == .pending)
        try h.publishCustomer(CustomerCreditReservedV1(customerId: "c1", orderId: "o1", amount: 1250, currency: "EUR", availableCredit: 98_750))
        #expect(await h.eventually { $0.order("o1")?.status == .approved })
        _ = try await h.send(.ship).get()
        #expect(await h.eventually { $0.order("o1")?.status == .shipped })
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().map(\.type)) ==
            ["order.placed", "order.approved", "order.lines-changed", "order.approved", "order.shipped"] })
    }

    @Test func unchangedTotalKeepsTheViewApprovedAndPublishesLinesChanged() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1).get()
        try h.publishCustomer(CustomerCreditReservedV1(customerId: "c1", orderId: "o1", amount: 1000, currency: "EUR", availableCredit: 99_000))
        #expect(await h.eventually { $0.order("o1")?.status == .approved })
        _ = try await h.send(.addLine(OrderLine(sku: "GIFT", quantity: 1, unitPrice: 0))).get()
        #expect(await h.eventually { $0.order("o1")?.lines.count == 2 })
        #expect(try await status(h) == .approved)
        #expect(try await h.send(.ship).get().version?.value == 3)
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().map(\.type)) ==
            ["order.placed", "order.approved", "order.lines-changed", "order.shipped"] })
    }

    @Test func publicEventsCarryCorrelationAndDeterministicIds() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1, context: CommandContext(correlationId: "req-1")).get()
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().count) == 1 })
        let e = try h.orderPublicEvents()[0]
        #expect(e.correlationId == "req-1")
        #expect(e.id == Publisher.eventID(source: "orders", position: e.sourcePosition, index: 0))
        #expect(try JSONCoding.decode(OrderPlacedV1.self, from: e.data).total == 1000)
    }
}
