import Testing
import CQRS
@testable import Customers

/// ReleaseCredit (saga): releases whatever is reserved for the order, nothing if none.
@Suite struct ReleaseCreditTests {
    @Test func releasesTheOrdersReservation() {
        let r = scenario.given([registered(), reserved("o1", 300, available: 700), reserved("o2", 200, available: 500)])
            .when(.releaseCredit(orderId: "o1"))
        #expect(r.events == [released("o1", 300, available: 800)])
    }

    @Test func nothingReservedIsANoOp() {
        #expect(scenario.given([registered()]).when(.releaseCredit(orderId: "o1")).events == [])
    }

    @Test func releasingTwiceIsANoOp() {
        let r = scenario.given([registered(), reserved("o1", 300, available: 700), released("o1", 300, available: 1_000)])
            .when(.releaseCredit(orderId: "o1"))
        #expect(r.events == [])
    }

    @Test func afterARejectionThereIsNothingToRelease() {
        let r = scenario.given([registered(limit: 10), rejected("o1", 300, .insufficientCredit)]).when(.releaseCredit(orderId: "o1"))
        #expect(r.events == [])
    }

    @Test func unknownCustomerIsANoOpNotAnError() {
        #expect(scenario.given([]).when(.releaseCredit(orderId: "o1")).events == [])
    }

    @Test func worksOnADeactivatedCustomer() {
        let r = scenario.given([registered(), reserved("o1", 300, available: 700), .deactivated(CustomerDeactivated())])
            .when(.releaseCredit(orderId: "o1"))
        #expect(r.events == [released("o1", 300, available: 1_000)])
    }
}
