/// The protocol version of a request. Only HTTP/1.0 and HTTP/1.1 are accepted.
public enum HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    case http1_0
    case http1_1

    public var description: String {
        switch self {
        case .http1_0: return "HTTP/1.0"
        case .http1_1: return "HTTP/1.1"
        }
    }
}

/// An ordered list of header fields. Lookups are ASCII case-insensitive on the name;
/// order and duplicates are preserved as received.
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        for field in fields where field.name.caseInsensitiveEquals(name) { return field.value }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map { $0.value }
    }

    /// Appends a field (duplicates allowed).
    public mutating func add(name: String, value: String) {
        fields.append((name, value))
    }

    /// Replaces every field called `name` with one field.
    public mutating func set(name: String, value: String) {
        remove(name: name)
        fields.append((name, value))
    }

    /// Removes every field called `name`.
    public mutating func remove(name: String) {
        fields.removeAll { $0.name.caseInsensitiveEquals(name) }
    }

    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}

/// A parsed request line and header block.
public struct HTTPRequestHead: Sendable {
    /// The method token exactly as sent (case-sensitive, e.g. "GET").
    public var method: String
    /// The request-target in origin-form (an absolute-form target's path and query; its
    /// authority is then the Host field's value), or "*" for OPTIONS.
    public var target: String
    /// The path part of `target`, still percent-encoded (the router decodes per segment).
    public var path: Substring
    /// The raw query string after "?", without the "?", or nil when absent.
    public var query: Substring?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// Whether the connection may stay open after this exchange (version default + `Connection`).
    public var keepAlive: Bool
    /// Whether the client sent `Expect: 100-continue`.
    public var expectsContinue: Bool

    public init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders,
                keepAlive: Bool, expectsContinue: Bool) {
        self.method = method
        self.target = target
        // Byte search: Character iteration here was a large share of parse time.
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = target[..<q]
            self.query = target[target.index(after: q)...]
        } else {
            self.path = target[...]
            self.query = nil
        }
        self.version = version
        self.headers = headers
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }
}

/// A complete request: head plus the whole (de-chunked) body.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]

    public init(head: HTTPRequestHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}

/// Why a request was refused by the parser. Always terminal for the connection:
/// the server answers `status` and closes.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400, 413, 414, 431 or 501/505 as appropriate.
    public var status: Int
    /// A short human explanation, safe to send back to the client.
    public var detail: String

    public init(status: Int, detail: String) {
        self.status = status
        self.detail = detail
    }

    public var description: String { "\(status): \(detail)" }
}

/// A response ready to be serialized. `Content-Length`, `Date` and `Connection`
/// are added by the connection when it writes the response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

extension String {
    /// ASCII case-insensitive comparison, as header names require (RFC 9110 5.1).
    @inlinable
    public func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
            let ly = (y >= 65 && y <= 90) ? y | 0x20 : y
            if lx != ly { return false }
        }
        return true
    }
}
