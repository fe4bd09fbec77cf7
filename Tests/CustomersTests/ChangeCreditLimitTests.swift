import Testing
import CQRS
@testable import Customers

/// ChangeCreditLimit: given(events).when(changeCreditLimit).then(events | error).
@Suite struct ChangeCreditLimitTests {
    @Test func raisesTheLimit() {
        let r = scenario.given([registered()]).when(.changeCreditLimit(creditLimit: 5_000))
        #expect(r.events == [.creditLimitChanged(CustomerCreditLimitChanged(creditLimit: 5_000, currency: "EUR"))])
    }

    @Test func lowersTheLimitDownToWhatIsReserved() {
        let r = scenario.given([registered(), reserved("o1", 400, available: 600)]).when(.changeCreditLimit(creditLimit: 400))
        #expect(r.events == [.creditLimitChanged(CustomerCreditLimitChanged(creditLimit: 400, currency: "EUR"))])
    }

    @Test func belowTheReservedCreditIsAConflict() {
        let r = scenario.given([registered(), reserved("o1", 400, available: 600)]).when(.changeCreditLimit(creditLimit: 399))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "credit-limit-below-reserved")
    }

    @Test func releasedCreditNoLongerCounts() {
        let r = scenario.given([registered(), reserved("o1", 400, available: 600), released("o1", 400, available: 1_000)])
            .when(.changeCreditLimit(creditLimit: 0))
        #expect(r.events?.count == 1)
    }

    @Test func theSameLimitIsANoOp() {
        #expect(scenario.given([registered()]).when(.changeCreditLimit(creditLimit: 1_000)).events == [])
    }

    @Test func negativeLimitIsInvalid() {
        let r = scenario.given([registered()]).when(.changeCreditLimit(creditLimit: -1))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["creditLimit"])
    }

    @Test func unknownCustomerIsNotFound() {
        #expect(scenario.given([]).when(.changeCreditLimit(creditLimit: 1)).error?.kind == .notFound)
    }

    @Test func deactivatedCustomerIsAConflict() {
        let r = scenario.given([registered(), .deactivated(CustomerDeactivated())]).when(.changeCreditLimit(creditLimit: 1))
        #expect(r.error?.code == "customer-deactivated")
    }
}
