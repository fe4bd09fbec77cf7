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
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return s.trimmingCharacters(in: .whitespacesAndNewlines) }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isSpace($0) })!
        if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return s }
        return String(s[first...last])
    }

    /// Trimmed, non-empty, ≤ 200 characters.
    static func name(_ name: String) -> FieldError? {
        let t = trimmed(name)
        if t.isEmpty { return FieldError(field: "name", code: "required", message: "name must not be empty") }
        if t.count > maxNameLength { return FieldError(field: "name", code: "too-long", message: "name must be at most \(maxNameLength) characters") }
        return nil
    }

    /// One "@", non-empty local part, a domain with a dot (not at its ends), no whitespace, ≤ 254.
    static func email(_ email: String) -> FieldError? {
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
