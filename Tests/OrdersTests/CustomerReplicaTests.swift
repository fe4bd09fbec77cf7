import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders

/// The customer replica is built from public events only, and `place` consults it (422).
@Suite struct CustomerReplicaTests {
    @Test func replicaFollowsRegisterRenameLimitDeactivate() async throws {
        let h = Harness()
        try await h.start()
        try h.register("c1", name: "Ada", currency: "EUR", limit: 500)
        try h.publishCustomer(CustomerRenamedV1(customerId: "c1", name: "Ada King"))
        try h.publishCustomer(CustomerCreditLimitChangedV1(customerId: "c1", creditLimit: 900, currency: "EUR"))
        try h.publishCustomer(CustomerEmailChangedV1(customerId: "c1", email: "ada@x.org"))
        #expect(await h.waitForViews())
        #expect(try await h.run { h.service.replicaCustomer("c1") } == ReplicaCustomer(customerId: "c1", name: "Ada King", active: true, currency: "EUR", creditLimit: 900))
        try h.publishCustomer(CustomerDeactivatedV1(customerId: "c1"))
        #expect(await h.waitForViews())
        #expect(try await h.run { h.service.replicaCustomer("c1")?.active } == false)
    }

    @Test func placeForUnknownCustomerIs422OnCustomerId() async throws {
        let h = Harness()
        try await h.start()
        let e = domainError(await h.send(place1))
        #expect(e?.kind == .validation)
        #expect(e?.fieldErrors.map(\.field) == ["customerId"])
        #expect(h.store.lastPosition == .start)
    }

    @Test func placeRightAfterARegistrationStillOnItsWayWaitsForTheCustomer() async throws {
        let h = Harness()
        try await h.start()
        try h.publishCustomer(CustomerRegisteredV1(customerId: "other", name: "Someone Else", email: "o@example.com",
                                                   creditLimit: 1, currency: "EUR"))
        #expect(await h.waitForViews())
        // A wait far longer than the 300 ms below: it ends when the customer arrives, and a
        // loop starved by the tests running beside this one must not end it first.
        try await h.run { h.service.placeReplicaWait = .seconds(30) }
        // The replica is caught up with the public log and does not know c1 yet; its
        // registration reaches the public log 300 ms after the order is placed.
        async let placed = h.send(place1)
        try await Task.sleep(for: .milliseconds(300))
        try h.register()
        let result = await placed
        #expect((try? result.get())?.version == StreamVersion(0), "\(result)")
    }

    @Test func placeForInactiveCustomerIs422() async throws {
        let h = Harness()
        try await h.start()
        try h.register()
        try h.publishCustomer(CustomerDeactivatedV1(customerId: "c1"))
        #expect(await h.waitForViews())
        let e = domainError(await h.send(place1))
        #expect(e?.fieldErrors.map(\.code) == ["customer-inactive"])
    }

    @Test func placeInAnotherCurrencyThanTheCustomersIs422OnCurrency() async throws {
        let h = Harness()
        try await h.start()
        try h.register(currency: "USD")
        #expect(await h.waitForViews())
        let e = domainError(await h.send(place1))
        #expect(e?.fieldErrors.map(\.field) == ["currency"])
        #expect(e?.fieldErrors.map(\.code) == ["currency-mismatch"])
    }

    @Test func placeRightAfterRegistrationWaitsForTheReplica() async throws {
        let h = Harness()
        try await h.start()
        try h.register()   // no wait: the place handler gives the replica a bounded chance
        let r = await h.send(place1)
        #expect(try r.get().createdStream)
    }

    @Test func invalidOrderIdIs422() async throws {
        let h = Harness()
        try await h.start()
        for id in ["", "a/b", String(repeating: "x", count: 65)] {
            let e = domainError(await h.send(.ship, id))
            #expect(e?.fieldErrors.map(\.field) == ["orderId"])
        }
        #expect(domainError(await h.send(.ship, "unknown_1"))?.kind == .notFound)
    }
}
