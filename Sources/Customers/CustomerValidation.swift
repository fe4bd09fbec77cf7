import Foundation
import CQRS
import PublicEvents

/// Field rules of the customer commands (each returns the field's problem, nil when valid).
enum CustomerValidation {
    static let maxNameLength = 200
    static let maxEmailLength = 254

    static func customerId(_ id: String) -> FieldError? {
        CustomerID.isValid(id) ? nil
            : FieldError(field: "customerId", code: "invalid", message: "customerId must be 1…64 characters of [A-Za-z0-9_-]")
    }

    /// `s.trimmingCharacters(in: .whitespacesAndNewlines)`, without Foundation for ASCII text
    /// (the usual case; Foundation's character-set trimming showed in the server's profile under
    /// a command load). In ASCII that set is exactly tab, LF, VT, FF, CR and space.
    static func trimmed(_ s: String) -> String {
        let utf8 = s.utf8
        guard isASCII(utf8) else { return s.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let first = utf8.firstIndex(where: { !isASCIIWhitespace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isASCIIWhitespace($0) })!
        if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return s }
        return String(s[first...last])
    }

    /// Trimmed, non-empty, ≤ 200 characters.
    static func name(_ name: String) -> FieldError? {
        let t = trimmed(name)
        if t.isEmpty { return FieldError(field: "name", code: "required", message: "name must not be empty") }
        if characterCount(t) > maxNameLength { return FieldError(field: "name", code: "too-long", message: "name must be at most \(maxNameLength) characters") }
        return nil
    }

    /// `s.count` without grapheme breaking for ASCII text (where every byte is a character
    /// but CR LF, which is one).
    static func characterCount(_ s: String) -> Int {
        isASCII(s.utf8) ? asciiCharacterCount(s.utf8) : s.count
    }

    /// `characterCount` of text known to be ASCII.
    static func asciiCharacterCount(_ utf8: String.UTF8View) -> Int {
        var n = 0, previous: UInt8 = 0
        for b in utf8 {
            if !(b == 0x0A && previous == 0x0D) { n += 1 }
            previous = b
        }
        return n
    }

    /// Whether every byte is ASCII: the text the byte-level fast paths here apply to.
    static func isASCII(_ utf8: String.UTF8View) -> Bool { utf8.allSatisfy { $0 < 0x80 } }

    /// ASCII whitespace as `Character.isWhitespace` has it: tab, LF, VT, FF, CR, space.
    @inline(__always) static func isASCIIWhitespace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// One "@", non-empty local part, a domain with a dot (not at its ends), no whitespace, ≤ 254.
    /// ASCII addresses (the usual case) are checked on their bytes; the rules are those of
    /// `emailByCharacters`, which a test holds them to.
    static func email(_ email: String) -> FieldError? {
        let utf8 = email.utf8
        guard isASCII(utf8) else { return emailByCharacters(email) }
        let bad = FieldError(field: "email", code: "invalid", message: "email is not a valid address")
        if asciiCharacterCount(utf8) > maxEmailLength { return FieldError(field: "email", code: "too-long", message: "email must be at most \(maxEmailLength) characters") }
        var at = -1, i = 0
        for b in utf8 {
            if isASCIIWhitespace(b) { return bad }
            if b == 0x40 {
                if at >= 0 { return bad }
                at = i
            }
            i += 1
        }
        guard at > 0 else { return bad }
        var dot = false, previous: UInt8 = 0x40
        for b in utf8.dropFirst(at + 1) {
            if b == 0x2E {
                if previous == 0x40 || previous == 0x2E { return bad }   // a leading dot, or two in a row
                dot = true
            }
            previous = b
        }
        guard dot, previous != 0x2E else { return bad }
        return nil
    }

    /// `email`'s rules on Characters: for addresses that are not ASCII.
    static func emailByCharacters(_ email: String) -> FieldError? {
        let bad = FieldError(field: "email", code: "invalid", message: "email is not a valid address")
        if email.count > maxEmailLength { return FieldError(field: "email", code: "too-long", message: "email must be at most \(maxEmailLength) characters") }
        if email.contains(where: { $0.isWhitespace }) { return bad }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return bad }
        let domain = parts[1]
        guard domain.contains("."), !domain.hasPrefix("."), !domain.hasSuffix("."), !domain.contains("..") else { return bad }
        return nil
    }

    static func creditLimit(_ limit: Int64) -> FieldError? {
        limit >= 0 ? nil : FieldError(field: "creditLimit", code: "negative", message: "creditLimit must be ≥ 0 (minor units)")
    }

    static func currency(_ code: String) -> FieldError? {
        Currency.isSupported(code) ? nil : FieldError(field: "currency", code: "unsupported", message: "currency '\(code)' is not supported")
    }

    /// Throws one validation error carrying every field problem, if any.
    static func check(_ problems: [FieldError?]) throws {
        let fields = problems.compactMap { $0 }
        guard !fields.isEmpty else { return }
        throw DomainError.validation("invalid-customer", "the command has invalid fields", fields: fields)
    }
}
