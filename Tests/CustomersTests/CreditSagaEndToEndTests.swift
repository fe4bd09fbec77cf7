import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Customers

/// The saga inside the module: order public events in the public log → the consumer reserves or
/// releases → the publisher emits `customer.credit-*` (real runtime, memory stores).
@Suite struct CreditSagaEndToEndTests {
    let lines = [OrderLineV1(sku: "a", quantity: 1, unitPrice: 1)]

    @Test func placedReservesAndCancelledReleases() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1", limit: 1_000), "c1")
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 400), sourcePosition: 1)
        #expect(await h.settle())
        var published = try h.customerPublicEvents()
        #expect(published.map(\.type) == ["customer.registered", "customer.credit-reserved"])
        let reservedEvent = try decodePayload(CustomerCreditReservedV1.self, published[1])
        #expect(reservedEvent == CustomerCreditReservedV1(customerId: "c1", orderId: "o1", amount: 400, currency: "EUR", availableCredit: 600))
        #expect(published[1].source == "customers")
        #expect(published[1].correlationId == "saga-1")   // the saga's correlation id flows through
        #expect(try await h.view("c1")?.availableCredit == 600)
        #expect(try await h.view("c1")?.openOrders == 1)

        try h.publishOrderEvent(OrderCancelledV1(orderId: "o1", customerId: "c1", reason: "x", total: 400, currency: "EUR"), sourcePosition: 2)
        #expect(await h.settle())
        published = try h.customerPublicEvents()
        #expect(published.map(\.type).last == "customer.credit-released")
        #expect(try decodePayload(CustomerCreditReleasedV1.self, published.last!).availableCredit == 1_000)
        let v = try await h.view("c1")
        #expect(v?.reservedCredit == 0)
        #expect(v?.openOrders == 0)
        #expect(v?.orderCount == 1)
    }

    @Test func rejectionsAnswerTheSagaWithAReason() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1", limit: 100), "c1")
        try await h.ok(register("c2"), "c2")
        try await h.ok(.deactivate, "c2")
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 101), sourcePosition: 1)
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o2", customerId: "c2", currency: "EUR", lines: lines, total: 1), sourcePosition: 2)
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o3", customerId: "nobody", currency: "EUR", lines: lines, total: 1), sourcePosition: 3)
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o4", customerId: "c1", currency: "USD", lines: lines, total: 1), sourcePosition: 4)
        #expect(await h.settle())
        let rejections = try h.customerPublicEvents().filter { $0.type == "customer.credit-rejected" }
            .map { try decodePayload(CustomerCreditRejectedV1.self, $0) }
        #expect(Dictionary(uniqueKeysWithValues: rejections.map { ($0.orderId, $0.reason) })
                == ["o1": "insufficient-credit", "o2": "customer-inactive", "o3": "unknown-customer", "o4": "currency-mismatch"])
        #expect(rejections.first { $0.orderId == "o3" }?.customerId == "nobody")
        // The unknown id got no view, and may still register later (201, not a conflict).
        #expect(try await h.view("nobody") == nil)
        let outcome = try await h.ok(register("nobody"), "nobody")
        #expect(CustomersService.isCreation(outcome))
        #expect(outcome.version == StreamVersion(1))      // the stream already held the rejection
        #expect(await h.settle())
        #expect(try await h.view("nobody")?.version == 1)
        // Order rejected afterwards: nothing reserved, nothing released.
        try h.publishOrderEvent(OrderRejectedV1(orderId: "o1", customerId: "c1", reason: "insufficient-credit"), sourcePosition: 5)
        #expect(await h.settle())
        #expect(try h.customerPublicEvents().filter { $0.type == "customer.credit-released" }.isEmpty)
    }

    @Test func linesChangedReplacesTheReservation() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1", limit: 1_000), "c1")
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 400), sourcePosition: 1)
        try h.publishOrderEvent(OrderLinesChangedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 700), sourcePosition: 2)
        #expect(await h.settle())
        let types = try h.customerPublicEvents().map(\.type)
        #expect(types == ["customer.registered", "customer.credit-reserved", "customer.credit-released", "customer.credit-reserved"])
        let v = try await h.view("c1")
        #expect(v?.reservedCredit == 700)
        #expect(v?.availableCredit == 300)
        #expect(v?.openOrders == 1)
        // Lowering the limit below the reservation is refused (409).
        let r = await h.send(.changeCreditLimit(creditLimit: 699), "c1")
        #expect(r.failureCode == "credit-limit-below-reserved")
    }

    @Test func aRestartedConsumerDoesNotApplyAnOrderTwice() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1", limit: 1_000), "c1")
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 400), sourcePosition: 1)
        #expect(await h.settle())
        try await h.stop()
        let count = h.store.lastPosition
        try await h.start()
        #expect(await h.settle())
        #expect(h.store.lastPosition == count)
        #expect(try h.customerPublicEvents().filter { $0.type == "customer.credit-reserved" }.count == 1)
        #expect(try await h.view("c1")?.reservedCredit == 400)
    }
}

extension Result where Success == CommandOutcome<CustomerEvent>, Failure == CommandError {
    /// The domain error code of a failure, nil otherwise.
    var failureCode: String? {
        if case .failure(.domain(let e)) = self { return e.code }
        return nil
    }
}
