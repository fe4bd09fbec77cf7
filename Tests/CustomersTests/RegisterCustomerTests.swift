import Testing
import CQRS
@testable import Customers

/// Register: given(events).when(register).then(events | error).
@Suite struct RegisterCustomerTests {
    @Test func registersANewCustomerSplittingTheName() {
        let r = scenario.given([]).when(register(name: "  Ada King Lovelace ", email: " ada@example.com "))
        #expect(r.events == [registered(given: "Ada King", family: "Lovelace", email: "ada@example.com")])
    }

    @Test func aSingleWordIsAGivenNameWithEmptyFamilyName() {
        let r = scenario.given([]).when(register(name: "Plato"))
        #expect(r.events == [registered(given: "Plato", family: "")])
    }

    @Test func zeroCreditLimitIsAllowed() {
        #expect(scenario.given([]).when(register(limit: 0)).events == [registered(limit: 0)])
    }

    @Test func registeringAnExistingCustomerIsAConflict() {
        let r = scenario.given([registered()]).when(register())
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "customer-exists")
    }

    @Test func registeringAfterSagaRejectionsForTheUnknownIdSucceeds() {
        let r = scenario.given([rejected("o1", 10, .unknownCustomer)]).when(register())
        #expect(r.events == [registered()])
    }

    @Test func emptyNameIsInvalid() {
        let r = scenario.given([]).when(register(name: "   "))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["name"])
    }

    @Test func overlongNameIsInvalid() {
        #expect(scenario.given([]).when(register(name: String(repeating: "a", count: 200))).events != nil)
        #expect(scenario.given([]).when(register(name: String(repeating: "a", count: 201))).fieldNames == ["name"])
    }

    @Test(arguments: ["", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "a@b@example.com", "ada@example.", "ada@.com",
                      String(repeating: "a", count: 250) + "@example.com"])
    func implausibleEmailIsInvalid(_ email: String) {
        let r = scenario.given([]).when(register(email: email))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["email"])
    }

    @Test func negativeCreditLimitIsInvalid() {
        #expect(scenario.given([]).when(register(limit: -1)).fieldNames == ["creditLimit"])
    }

    @Test(arguments: ["", "eur", "XXX", "BTC"])
    func unknownCurrencyIsInvalid(_ currency: String) {
        #expect(scenario.given([]).when(register(currency: currency)).fieldNames == ["currency"])
    }

    @Test(arguments: ["", "has space", "slash/", String(repeating: "x", count: 65), "ünï"])
    func invalidCustomerIdIsInvalid(_ id: String) {
        #expect(scenario.given([]).when(register(id)).fieldNames == ["customerId"])
    }

    @Test func everyInvalidFieldIsReportedAtOnce() {
        let r = scenario.given([]).when(register("bad id", name: "", email: "nope", limit: -5, currency: "XXX"))
        #expect(Set(r.fieldNames) == ["customerId", "name", "email", "creditLimit", "currency"])
    }
}
