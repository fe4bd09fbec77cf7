import Foundation

/// A query input the read side cannot serve: the parameter and what is wrong with it (→ 400).
public struct QueryError: Error, Hashable, Sendable, CustomStringConvertible {
    public var parameter: String
    public var message: String
    public init(parameter: String, message: String) { self.parameter = parameter; self.message = message }
    public var description: String { "\(parameter): \(message)" }
}

/// A page of a list view: the items and, unless it is the last page, the cursor of the next.
public struct Page<Item: Codable & Hashable & Sendable>: Codable, Hashable, Sendable {
    public var items: [Item]
    /// Opaque; pass as `cursor` for the next page. Absent on the last page.
    public var nextCursor: String?
    public init(items: [Item], nextCursor: String?) { self.items = items; self.nextCursor = nextCursor }
}

/// Paging rules every list view shares: page sizes and opaque cursors.
///
/// A cursor is base64url (no padding) of `<kind>:<key>`: the key is where the previous page
/// ended (an id, a position), the kind names the view that issued it, so a cursor of one view
/// is refused by another instead of being misread.
public enum Paging {
    public static let defaultLimit = 50
    public static let maxLimit = 500

    /// `limit` or the default, checked against 1…500.
    public static func limit(_ limit: Int?) throws -> Int {
        let value = limit ?? defaultLimit
        guard (1...maxLimit).contains(value) else {
            throw QueryError(parameter: "limit", message: "limit must be between 1 and \(maxLimit)")
        }
        return value
    }

    /// The cursor of a page ending at `key` in the view `kind`.
    public static func cursor(kind: String, key: String) -> String {
        Data("\(kind):\(key)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The key of a cursor issued by the view `kind` (nil cursor or empty: nil); a cursor this
    /// view did not issue is a `QueryError` on `cursor`.
    public static func key(of cursor: String?, kind: String) throws -> String? {
        guard let cursor, !cursor.isEmpty else { return nil }
        var s = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        guard s.count <= 128, let data = Data(base64Encoded: s), let text = String(data: data, encoding: .utf8),
              text.hasPrefix(kind + ":") else {
            throw QueryError(parameter: "cursor", message: "cursor is not one this view issued")
        }
        return String(text.dropFirst(kind.count + 1))
    }
}
