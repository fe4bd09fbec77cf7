import Testing
import CQRS
@testable import Customers

/// Deactivate: given(events).when(deactivate).then(events | error).
@Suite struct DeactivateCustomerTests {
    @Test func deactivatesAnActiveCustomer() {
        #expect(scenario.given([registered()]).when(.deactivate).events == [.deactivated(CustomerDeactivated())])
    }

    @Test func deactivatesEvenWithOpenReservations() throws {
        let s = scenario.given([registered(), reserved("o1", 100, available: 900)])
        #expect(s.when(.deactivate).events == [.deactivated(CustomerDeactivated())])
        // The reservation survives deactivation and can still be released by the saga.
        let after = s.given([.deactivated(CustomerDeactivated())])
        #expect(try after.state().reservations == ["o1": 100])
        #expect(after.when(.releaseCredit(orderId: "o1")).events == [released("o1", 100, available: 1_000)])
    }

    @Test func deactivatingTwiceIsAConflict() {
        let r = scenario.given([registered(), .deactivated(CustomerDeactivated())]).when(.deactivate)
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "customer-deactivated")
    }

    @Test func unknownCustomerIsNotFound() {
        #expect(scenario.given([]).when(.deactivate).error?.code == "customer-not-found")
    }
}
