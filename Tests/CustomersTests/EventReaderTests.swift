import Testing
import TributaryTesting
import CQRS
import PublicEvents
@testable import Customers
import JSON

/// The hand-written readers of this service (its internal customer events, the order public
/// events it consumes) decode exactly what the types' `Decodable` conformances decode, and
/// leave anything else to Foundation (`JSONReaderCheck`).
@Suite struct EventReaderTests {
    static let awkward = "é \"q\" \\ / \u{1}\u{7F} 😀 \u{2028}"
    static let seeds = 0..<8
    static func id(_ seed: Int) -> String { seed % 3 == 0 ? awkward : "c-\(seed)" }

    static func check<T: Codable & Equatable>(_ read: (JSONObjectReader) throws -> T, _ sample: (Int) -> T) {
        let problems = JSONReaderCheck.disagreements(read, samples: seeds.map(sample))
        #expect(problems.isEmpty, "\(T.self): \(problems.prefix(3))")
    }

    @Test func customerEventReadersAgreeWithTheirConformances() {
        Self.check(CustomerRegistered.init(json:)) {
            CustomerRegistered(customerId: Self.id($0), givenName: Self.awkward, familyName: "F\($0)", email: "e@x.y",
                               creditLimit: .max - Int64($0), currency: "EUR")
        }
        Self.check(CustomerRenamed.init(json:)) { CustomerRenamed(givenName: Self.id($0), familyName: "") }
        Self.check(CustomerEmailChanged.init(json:)) { CustomerEmailChanged(email: "\($0)@\(Self.awkward)") }
        Self.check(CustomerCreditLimitChanged.init(json:)) { CustomerCreditLimitChanged(creditLimit: Int64($0) - 4, currency: "JPY") }
        Self.check(CreditReserved.init(json:)) { CreditReserved(orderId: Self.id($0), amount: Int64($0), currency: "EUR", availableCredit: .min) }
        let reasons: [CreditRejectionReason] = [.insufficientCredit, .customerInactive, .unknownCustomer, .currencyMismatch]
        Self.check(CreditRejected.init(json:)) {
            CreditRejected(orderId: Self.id($0), amount: 1, currency: "EUR", reason: reasons[$0 % reasons.count])
        }
        Self.check(CreditReleased.init(json:)) { CreditReleased(orderId: Self.id($0), amount: 0, currency: "EUR", availableCredit: Int64($0)) }
        // A reason outside the enum: the conformance fails, so the reader gives up.
        let odd = Array(#"{"orderId":"o","amount":1,"currency":"EUR","reason":"whim"}"#.utf8)
        #expect(JSONObjectReader.read(odd, CreditRejected.init(json:)) == nil)
    }

    @Test func everyStoredEventTypeDecodesWhatItEncodes() throws {
        let events: [CustomerEvent] = [
            .registered(CustomerRegistered(customerId: "c", givenName: "G", familyName: "F", email: "e@x.y", creditLimit: 5, currency: "EUR")),
            .renamed(CustomerRenamed(givenName: "G", familyName: "F")), .emailChanged(CustomerEmailChanged(email: "e@x.y")),
            .creditLimitChanged(CustomerCreditLimitChanged(creditLimit: 1, currency: "EUR")), .deactivated(CustomerDeactivated()),
            .creditReserved(CreditReserved(orderId: "o", amount: 1, currency: "EUR", availableCredit: 2)),
            .creditRejected(CreditRejected(orderId: "o", amount: 1, currency: "EUR", reason: .currencyMismatch)),
            .creditReleased(CreditReleased(orderId: "o", amount: 1, currency: "EUR", availableCredit: 2)),
        ]
        for event in events { #expect(try CustomerEvent.decode(event.encoded()) == event) }
    }
}
