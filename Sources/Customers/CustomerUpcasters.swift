import Foundation
import CQRS

/// Schema history of the customer events.
///
/// v1 of `CustomerRegistered` and `CustomerRenamed` had a single `name`; v2 has `givenName`
/// and `familyName`. Stored v1 bytes are never rewritten: they are upcast on every read.
public enum CustomerUpcasters {
    public static var chain: UpcasterChain {
        var chain = UpcasterChain()
        for type in [CustomerEvent.TypeName.registered, CustomerEvent.TypeName.renamed] {
            chain.registerObject(type: type, from: 1) { object in
                guard let name = object.removeValue(forKey: "name") as? String else {
                    throw UpcastError(type: type, version: 1, reason: "missing string field 'name'")
                }
                let parts = PersonName.split(name)
                object["givenName"] = parts.given
                object["familyName"] = parts.family
            }
        }
        return chain
    }
}

/// Display names and their given/family parts.
public enum PersonName {
    /// Splits a display name at its last space (trimmed): "Ada King Lovelace" → ("Ada King",
    /// "Lovelace"); a single word is a given name with an empty family name.
    public static func split(_ name: String) -> (given: String, family: String) {
        let trimmed = CustomerValidation.trimmed(name)
        let utf8 = trimmed.utf8
        if CustomerValidation.isASCII(utf8) {
            // ASCII (the usual case) on bytes: Foundation's trimming showed in the command
            // profile. `.whitespaces` in ASCII is space and tab.
            let bytes = Array(utf8)
            guard let space = bytes.lastIndex(of: 0x20) else { return (trimmed, "") }
            func part(_ r: Range<Int>) -> String {
                var lo = r.lowerBound, hi = r.upperBound
                while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
                while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
                return String(decoding: bytes[lo..<hi], as: UTF8.self)
            }
            return (part(0..<space), part((space + 1)..<bytes.count))
        }
        return splitByCharacters(trimmed)
    }

    /// `split` on Characters, for names that are not ASCII (`trimmed` already trimmed).
    static func splitByCharacters(_ trimmed: String) -> (given: String, family: String) {
        guard let space = trimmed.lastIndex(of: " ") else { return (trimmed, "") }
        let given = trimmed[..<space].trimmingCharacters(in: .whitespaces)
        let family = trimmed[trimmed.index(after: space)...].trimmingCharacters(in: .whitespaces)
        return (given, family)
    }

    /// `given + " " + family`, trimmed. Read on every query of a customer: the parts are
    /// normally trimmed already (they come from `split`), which needs no Foundation call.
    public static func display(given: String, family: String) -> String {
        // ASCII first: the Unicode property lookup showed in query profiles.
        func isWhitespace(_ u: Unicode.Scalar) -> Bool {
            u.isASCII ? CustomerValidation.isASCIIWhitespace(UInt8(u.value)) : u.properties.isWhitespace
        }
        func trimmed(_ s: String) -> Bool {
            guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return true }
            return !isWhitespace(first) && !isWhitespace(last)
        }
        guard trimmed(given), trimmed(family) else { return (given + " " + family).trimmingCharacters(in: .whitespaces) }
        if family.isEmpty { return given }
        if given.isEmpty { return family }
        return given + " " + family
    }
}
