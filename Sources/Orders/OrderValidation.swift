import CQRS
import PublicEvents

/// Input rules for orders, shared by the decider and the facade. Returns field errors.
enum OrderValidation {
    static let maxLines = 100
    static let maxQuantity = 10_000
    static let maxTotal: Int64 = 1_000_000_000_000_000   // 10^15 minor units
    static let maxSkuLength = 64
    static let maxReasonLength = 500

    /// Order ids: 1…64 characters of `[A-Za-z0-9_-]`.
    static func isValidOrderId(_ id: String) -> Bool { StreamIdentity.isValidID(id) }

    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    static func sku(_ sku: String, field: String) -> [FieldError] {
        if sku.isEmpty { return [FieldError(field: field, code: "required", message: "sku must not be empty")] }
        if sku.utf8.count > maxSkuLength {
            return [FieldError(field: field, code: "too-long", message: "sku must be at most \(maxSkuLength) characters")]
        }
        let ok = sku.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        return ok ? [] : [FieldError(field: field, code: "invalid-format", message: "sku may only contain A-Z a-z 0-9 _ . -")]
    }

    static func line(_ l: OrderLine, field: String) -> [FieldError] {
        var errors = sku(l.sku, field: "\(field)sku")
        if l.quantity < 1 || l.quantity > maxQuantity {
            errors.append(FieldError(field: "\(field)quantity", code: "out-of-range", message: "quantity must be 1…\(maxQuantity)"))
        }
        if l.unitPrice < 0 {
            errors.append(FieldError(field: "\(field)unitPrice", code: "out-of-range", message: "unitPrice must not be negative"))
        }
        return errors
    }

    /// Sum of quantity × unitPrice with checked arithmetic; nil on overflow or above 10^15.
    static func total(_ lines: [OrderLine]) -> Int64? {
        var sum: Int64 = 0
        for l in lines {
            let (product, o1) = Int64(l.quantity).multipliedReportingOverflow(by: l.unitPrice)
            if o1 { return nil }
            let (s, o2) = sum.addingReportingOverflow(product)
            if o2 || s > maxTotal { return nil }
            sum = s
        }
        return sum
    }

    static func totalError(field: String) -> FieldError {
        FieldError(field: field, code: "total-too-large", message: "the order total must not exceed \(maxTotal) minor units")
    }

    static func reason(_ reason: String) -> [FieldError] {
        if reason.allSatisfy({ $0.isWhitespace }) {
            return [FieldError(field: "reason", code: "required", message: "reason must not be empty")]
        }
        if reason.count > maxReasonLength {
            return [FieldError(field: "reason", code: "too-long", message: "reason must be at most \(maxReasonLength) characters")]
        }
        return []
    }

    static func currency(_ c: String) -> [FieldError] {
        Currency.isSupported(c) ? [] : [FieldError(field: "currency", code: "unsupported-currency", message: "unknown currency '\(c)'")]
    }

    static func invalid(_ fields: [FieldError]) -> DomainError {
        .validation("invalid-order", fields.map { "\($0.field): \($0.message)" }.joined(separator: "; "), fields: fields)
    }
}
