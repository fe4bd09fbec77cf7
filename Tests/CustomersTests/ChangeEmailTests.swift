import Testing
import CQRS
@testable import Customers

/// ChangeEmail: given(events).when(changeEmail).then(events | error).
@Suite struct ChangeEmailTests {
    @Test func changesTheEmail() {
        let r = scenario.given([registered()]).when(.changeEmail(email: "countess@example.org"))
        #expect(r.events == [.emailChanged(CustomerEmailChanged(email: "countess@example.org"))])
    }

    @Test func theSameEmailIsANoOp() {
        #expect(scenario.given([registered()]).when(.changeEmail(email: "ada@example.com")).events == [])
    }

    @Test func invalidEmailIsRejectedWithAFieldError() {
        let r = scenario.given([registered()]).when(.changeEmail(email: "not-an-email"))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["email"])
    }

    @Test func unknownCustomerIsNotFound() {
        #expect(scenario.given([]).when(.changeEmail(email: "a@b.co")).error?.code == "customer-not-found")
    }

    @Test func deactivatedCustomerIsAConflict() {
        let r = scenario.given([registered(), .deactivated(CustomerDeactivated())]).when(.changeEmail(email: "a@b.co"))
        #expect(r.error?.code == "customer-deactivated")
    }
}
