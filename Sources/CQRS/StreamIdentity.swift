import EventStore

/// How an aggregate's entity ids map to streams, declared once per service: `<category>-<id>`,
/// ids of 1…64 characters of `[A-Za-z0-9_-]` (the same rule on every API, so an id is never
/// valid in one place and not in another).
public struct StreamIdentity: Hashable, Sendable {
    /// Stream category, e.g. `order` for `order-42`.
    public let category: String
    private let prefix: String

    public init(category: String) {
        self.category = category
        prefix = category + "-"
    }

    /// The most bytes an id may have.
    public static let maxIDLength = 64

    /// 1…64 characters of `[A-Za-z0-9_-]`.
    public static func isValidID(_ id: String) -> Bool {
        let u = id.utf8
        guard !u.isEmpty, u.count <= maxIDLength else { return false }
        return u.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }

    /// `<category>-<id>`.
    public func stream(_ id: String) -> StreamName { StreamName(prefix + id) }

    /// The id of a `<category>-<id>` stream, nil for a stream of another category.
    public func id(of stream: StreamName) -> String? {
        stream.value.hasPrefix(prefix) ? String(stream.value.dropFirst(prefix.count)) : nil
    }
}
