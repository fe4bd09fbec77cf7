import Foundation
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

/// The ASCII fast path of `CustomerValidation.trimmed` trims exactly as Foundation does.
@Suite struct TrimmingTests {
    @Test func trimsAsFoundationDoes() {
        let pieces = [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\r\n", "a", "Ada", "x y", "\u{1F}", "\u{7F}", "\u{85}", "\u{A0}", "é", "\u{2028}", "\u{3000}", ""]
        var state: UInt64 = 42
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<5_000 {
            let s = (0..<next(6)).map { _ in pieces[next(pieces.count)] }.joined()
            #expect(CustomerValidation.trimmed(s) == s.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(s.unicodeScalars))")
        }
    }
}
