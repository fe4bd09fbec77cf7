import Testing
import CQRS
@testable import Customers

/// ReserveCredit (saga): reservations, replacements, idempotency, and rejections as events.
@Suite struct ReserveCreditTests {
    let active = scenario.given([registered(limit: 1_000)])

    @Test func reservesWhatFits() {
        #expect(active.when(.reserveCredit(orderId: "o1", amount: 1_000, currency: "EUR")).events == [reserved("o1", 1_000, available: 0)])
    }

    @Test func availableCreditAccountsForOtherReservations() {
        let r = active.given([reserved("o1", 600, available: 400)]).when(.reserveCredit(orderId: "o2", amount: 400, currency: "EUR"))
        #expect(r.events == [reserved("o2", 400, available: 0)])
    }

    @Test func insufficientCreditIsARejectionEvent() {
        let r = active.given([reserved("o1", 600, available: 400)]).when(.reserveCredit(orderId: "o2", amount: 401, currency: "EUR"))
        #expect(r.events == [rejected("o2", 401, .insufficientCredit)])
    }

    @Test func unknownCustomerIsARejectionEvent() {
        #expect(scenario.given([]).when(.reserveCredit(orderId: "o1", amount: 1, currency: "EUR")).events == [rejected("o1", 1, .unknownCustomer)])
    }

    @Test func inactiveCustomerIsARejectionEvent() {
        let r = active.given([.deactivated(CustomerDeactivated())]).when(.reserveCredit(orderId: "o1", amount: 1, currency: "EUR"))
        #expect(r.events == [rejected("o1", 1, .customerInactive)])
    }

    @Test func currencyMismatchIsARejectionEvent() {
        let r = active.when(.reserveCredit(orderId: "o1", amount: 1, currency: "USD"))
        #expect(r.events == [rejected("o1", 1, .currencyMismatch, currency: "USD")])
    }

    @Test func theSameReservationAgainIsANoOp() {
        #expect(active.given([reserved("o1", 300, available: 700)]).when(.reserveCredit(orderId: "o1", amount: 300, currency: "EUR")).events == [])
    }

    @Test func aNewTotalReplacesTheReservationInOneDecision() {
        let r = active.given([reserved("o1", 300, available: 700)]).when(.reserveCredit(orderId: "o1", amount: 900, currency: "EUR"))
        #expect(r.events == [released("o1", 300, available: 1_000), reserved("o1", 900, available: 100)])
    }

    @Test func aNewTotalThatDoesNotFitReleasesTheOldAndRejects() throws {
        let s = active.given([reserved("o1", 300, available: 700), reserved("o2", 500, available: 200)])
        let r = s.when(.reserveCredit(orderId: "o1", amount: 600, currency: "EUR"))
        #expect(r.events == [released("o1", 300, available: 500), rejected("o1", 600, .insufficientCredit)])
        #expect(try s.given(r.events ?? []).state().reservations == ["o2": 500])
    }

    @Test func negativeAmountIsInvalid() {
        #expect(active.when(.reserveCredit(orderId: "o1", amount: -1, currency: "EUR")).error?.kind == .validation)
    }

    @Test func availableCreditNeverGoesNegative() throws {
        var s = active
        for (i, amount) in [400, 400, 400, 100, 300].enumerated() {
            let r = s.when(.reserveCredit(orderId: "o\(i)", amount: Int64(amount), currency: "EUR"))
            s = s.given(r.events ?? [])
            #expect(try s.state().availableCredit >= 0)
        }
        #expect(try s.state().reservedCredit == 900)
    }
}
