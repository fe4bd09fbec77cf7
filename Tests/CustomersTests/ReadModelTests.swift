import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Customers

/// The customer view: fields from the customers store and from order public events.
@Suite struct ReadModelTests {
    @Test func viewReflectsEveryCommand() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1", name: "Ada King Lovelace", limit: 1_000), "c1")
        try await h.ok(.rename(name: "Ada Lovelace"), "c1")
        try await h.ok(.changeEmail(email: "countess@example.org"), "c1")
        let last = try await h.ok(.changeCreditLimit(creditLimit: 2_500), "c1")
        #expect(await h.settle())
        let v = try #require(try await h.view("c1"))
        #expect(v.customerId == "c1")
        #expect(v.name == "Ada Lovelace")
        #expect(v.givenName == "Ada")
        #expect(v.familyName == "Lovelace")
        #expect(v.email == "countess@example.org")
        #expect(v.creditLimit == 2_500)
        #expect(v.currency == "EUR")
        #expect(v.reservedCredit == 0)
        #expect(v.availableCredit == 2_500)
        #expect(v.status == .active)
        #expect(v.version == 3)
        #expect(v.version == last.version?.value)
        let stored = try h.store.readStream(CustomerID.stream("c1")).last!
        #expect(v.updatedAt == RFC3339.format(stored.timestamp))
        try await h.ok(.deactivate, "c1")
        #expect(await h.settle())
        #expect(try await h.view("c1")?.status == .deactivated)
    }

    @Test func orderCountAndLifetimeValueComeFromPublicEvents() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1", limit: 10_000), "c1")
        let lines = [OrderLineV1(sku: "a", quantity: 1, unitPrice: 1)]
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 100), sourcePosition: 1)
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o2", customerId: "c1", currency: "EUR", lines: lines, total: 250), sourcePosition: 2)
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o3", customerId: "c1", currency: "EUR", lines: lines, total: 5), sourcePosition: 3)
        try h.publishOrderEvent(OrderApprovedV1(orderId: "o1", customerId: "c1", total: 100, currency: "EUR"), sourcePosition: 4)
        try h.publishOrderEvent(OrderShippedV1(orderId: "o1", customerId: "c1", total: 100, currency: "EUR"), sourcePosition: 5)
        try h.publishOrderEvent(OrderShippedV1(orderId: "o2", customerId: "c1", total: 250, currency: "EUR"), sourcePosition: 6)
        try h.publishOrderEvent(OrderCancelledV1(orderId: "o3", customerId: "c1", reason: "x", total: 5, currency: "EUR"), sourcePosition: 7)
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o9", customerId: "other", currency: "EUR", lines: lines, total: 1), sourcePosition: 8)
        #expect(await h.settle())
        let v = try #require(try await h.view("c1"))
        #expect(v.orderCount == 3)
        #expect(v.lifetimeValue == 350)
        #expect(v.openOrders == 2)            // o1, o2 keep their reservation after shipping; o3 released
        #expect(v.reservedCredit == 350)
        #expect(v.availableCredit == 9_650)
        let positions = try await h.loop.run { h.service.positions }
        #expect(positions.publicLog == h.publicLog.lastPosition.value)
        #expect(positions.own == h.store.lastPosition.value)
    }

    @Test func waitForPositionAnswersPerStore() async throws {
        let h = ServiceHarness()
        try await h.start()
        let outcome = try await h.ok(register("c1"), "c1")
        let s = h.service!
        let own: PositionWaitResult = await withCheckedContinuation { c in
            h.loop.queue.async { s.wait(forPosition: outcome.position, in: .own, timeout: .seconds(5)) { c.resume(returning: $0) } }
        }
        guard case .reached = own else { Issue.record("expected reached, got \(own)"); return }
        #expect(try await h.view("c1") != nil)
        let far: PositionWaitResult = await withCheckedContinuation { c in
            h.loop.queue.async { s.wait(forPosition: LogPosition(10_000), in: .publicLog, timeout: .milliseconds(50)) { c.resume(returning: $0) } }
        }
        guard case .timedOut = far else { Issue.record("expected timedOut, got \(far)"); return }
    }

    @Test func statusReportsEveryComponent() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1"), "c1")
        #expect(await h.settle())
        let components = try await h.loop.run { h.service.components }
        #expect(components.allSatisfy { $0.isHealthy })
        #expect(try await h.loop.run { h.service.isReady })
        #expect(components.filter { $0.kind == "projection" }.map(\.status) == ["live", "live"])
        #expect(components.first { $0.kind == "publisher" }?.status == "running")
        #expect(components.first { $0.kind == "consumer" }?.status == "running")
        #expect(try await h.loop.run { h.service.handler.stats.succeeded } == 1)
        #expect(components.count == 4)
    }
}
