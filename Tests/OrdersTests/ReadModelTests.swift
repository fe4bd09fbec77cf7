import Testing
import TributaryTesting
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders

/// Order views denormalize the customer name (following renames); stats count and sum.
@Suite struct ReadModelTests {
    @Test func orderViewCarriesTheCustomerNameAndFollowsRenames() async throws {
        let h = Harness()
        try await h.start()
        try h.register(name: "Ada Lovelace")
        #expect(await h.waitForViews())
        let outcome = try await h.send(place1).get()
        #expect(await h.eventually { $0.order("o1") != nil })
        let v = try #require(try await h.run { h.service.order("o1") })
        #expect(v.customerName == "Ada Lovelace")
        #expect(v.status == .pending && v.total == 1000 && v.lines == [lineA] && v.currency == "EUR" && v.customerId == "c1")
        #expect(v.version == outcome.version?.value)
        #expect(v.createdAt == v.updatedAt)
        #expect(v.createdAt.hasSuffix("Z"))
        try h.publishCustomer(CustomerRenamedV1(customerId: "c1", name: "Ada King"))
        #expect(await h.eventually { $0.order("o1")?.customerName == "Ada King" })
        #expect(try await h.run { h.service.order("o1")?.updatedAt } == v.updatedAt)   // a rename is not an order change
    }

    @Test func cancellationReasonAndVersionsAreShown() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1).get()
        let o = try await h.send(.cancel(reason: "too slow")).get()
        #expect(await h.eventually { $0.order("o1")?.status == .cancelled })
        let v = try #require(try await h.run { h.service.order("o1") })
        #expect(v.cancellationReason == "too slow")
        #expect(v.version == 1 && o.version?.value == 1)
        #expect(v.updatedAt > v.createdAt)
        #expect(try await h.run { h.service.positions.own } == o.position.value)
    }

    @Test func statsCountPerStatusAndRevenueOfShippedOrders() async throws {
        let h = Harness()
        try await h.start()
        try h.register("c1", currency: "EUR")
        try h.register("c2", name: "Bob", currency: "USD")
        #expect(await h.waitForViews())
        for id in ["o1", "o2", "o3"] { _ = try await h.send(place1, id).get() }
        _ = try await h.send(.place(PlaceOrder(customerId: "c2", currency: "USD", lines: [OrderLine(sku: "U", quantity: 3, unitPrice: 100)])), "o4").get()
        for (id, amount) in [("o1", Int64(1000)), ("o2", 1000), ("o4", 300)] {
            try h.publishCustomer(CustomerCreditReservedV1(customerId: "c", orderId: id, amount: amount, currency: "EUR", availableCredit: 0))
        }
        #expect(await h.eventually { s in ["o1", "o2", "o4"].allSatisfy { id in s.order(id)?.status == .approved } })
        _ = try await h.send(.ship, "o1").get()
        _ = try await h.send(.ship, "o4").get()
        _ = try await h.send(.cancel(reason: "x"), "o3").get()
        #expect(await h.waitForViews())
        let s = try await h.run { h.service.stats() }
        #expect(s.orderCount == 4)
        #expect(s.ordersByStatus == ["pending": 0, "approved": 1, "rejected": 0, "cancelled": 1, "shipped": 2])
        #expect(s.revenueByCurrency == ["EUR": 1000, "USD": 300])
    }

    @Test func consistencyCheckAgreesWithTheLiveModels() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1).get()
        _ = try await h.send(.addLine(lineB)).get()
        try h.publishCustomer(CustomerRenamedV1(customerId: "c1", name: "Countess"))
        #expect(await h.waitForViews())
        let report = try await awaiting(on: h.queue) { h.service.checkConsistency(completion: $0) }
        #expect(report.consistent, "\(report.differences)")
        #expect(report.compared == 1 && report.alsoCompared["customersCompared"] == 1)
    }

    @Test func healthListsEveryComponent() async throws {
        let h = Harness()
        try await h.start()
        #expect(await h.eventually { $0.isReady })
        let components = try await h.run { h.service.components }
        #expect(components.map(\.name) == ["orders.views", "orders.customer-replica", "orders", "orders-saga"])
        #expect(components.map(\.kind) == ["projection", "projection", "publisher", "consumer"])
        #expect(components.allSatisfy { $0.isHealthy })
        #expect(try await h.run { h.service.isReady })
        try await h.run { h.service.stop() }
        #expect(try await h.run { h.service.components.allSatisfy { !$0.isHealthy } })
    }
}
