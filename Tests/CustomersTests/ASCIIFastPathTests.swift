import Testing
import TributaryTesting
@testable import Customers

/// The byte-level checks of ASCII names and addresses give what the Character-level ones give,
/// on random ASCII text built from the characters the rules care about.
@Suite struct ASCIIFastPathTests {
    private static let alphabet: [Character] = ["a", "b", "Z", "0", " ", " ", "\t", "\r", "\n", "\u{0B}", "\u{0C}", "@", "@", ".", ".", "-", "\r\n"]

    private func text(_ rng: inout SplitMix64, maxLength: Int) -> String {
        String((0..<rng.below(maxLength + 1)).map { _ in Self.alphabet[rng.below(Self.alphabet.count)] })
    }

    @Test("email: the byte rules and the Character rules agree")
    func emailAgrees() {
        var rng = SplitMix64(state: 11)
        for _ in 0..<50_000 {
            let s = text(&rng, maxLength: 14)
            #expect(CustomerValidation.email(s) == CustomerValidation.emailByCharacters(s), "\(s.debugDescription)")
        }
        for n in 250...258 {
            let long = String(repeating: "a", count: n - 12) + "@example.com"
            #expect(CustomerValidation.email(long) == CustomerValidation.emailByCharacters(long))
            let crlf = String(repeating: "\r\n", count: n / 2)
            #expect(CustomerValidation.email(crlf) == CustomerValidation.emailByCharacters(crlf))
        }
        #expect(CustomerValidation.email("ada@example.com") == nil && CustomerValidation.email("ada@example..com") != nil)
    }

    @Test("names: the split and the length agree with the Character rules")
    func namesAgree() {
        var rng = SplitMix64(state: 12)
        for _ in 0..<50_000 {
            let s = text(&rng, maxLength: 14)
            let trimmed = CustomerValidation.trimmed(s)
            let fast = PersonName.split(s), slow = PersonName.splitByCharacters(trimmed)
            #expect(fast.given == slow.given && fast.family == slow.family, "\(s.debugDescription)")
            #expect(CustomerValidation.characterCount(s) == s.count, "\(s.debugDescription)")
        }
        let tab = PersonName.split("  Ada King\tLovelace ")
        #expect(tab.given == "Ada" && tab.family == "King\tLovelace")
        let ada = PersonName.split("  Ada King Lovelace ")
        #expect(ada.given == "Ada King" && ada.family == "Lovelace")
    }
}
