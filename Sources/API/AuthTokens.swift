import Foundation
import EventStore

/// One configured API token: a name for operators (never the secret), the SHA-256 of the
/// secret, and its scopes. The raw token is never stored.
public struct APIToken: Sendable, Equatable {
    public let name: String
    /// SHA-256 of the token's UTF-8 bytes (32 bytes).
    public let hash: [UInt8]
    public let scopes: Set<AuthScope>

    public init(name: String, hash: [UInt8], scopes: Set<AuthScope>) {
        self.name = name
        self.hash = hash
        self.scopes = scopes
    }
}

/// A tokens file or `TRIBUTARY_TOKENS` value that cannot be used; the message names the
/// source and line, never a secret.
public struct TokenConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The configured tokens, looked up by the hash of a presented token.
///
/// Format (file and `TRIBUTARY_TOKENS` alike): one token per line (`;` also separates
/// entries, for the environment), `NAME SHA256HEX SCOPE[,SCOPE...]`, whitespace-separated;
/// blank lines and lines starting with `#` are ignored. Produce the hash with
/// `tributary hash-token`.
public struct APITokenSet: Sendable {
    public private(set) var tokens: [APIToken] = []
    /// Indices into `tokens` by the first 8 bytes of the hash: the dictionary narrows the
    /// candidates, the full comparison is constant-time.
    private var byPrefix: [UInt64: [Int]] = [:]

    public init() {}

    /// Refuses duplicate names and duplicate hashes (the same secret under two names).
    public init(_ tokens: [APIToken]) throws {
        for token in tokens { try add(token) }
    }

    public var isEmpty: Bool { tokens.isEmpty }
    public var count: Int { tokens.count }

    public mutating func add(_ token: APIToken) throws {
        guard token.hash.count == 32 else { throw TokenConfigurationError("token '\(token.name)': the hash must be 32 bytes") }
        if tokens.contains(where: { $0.name == token.name }) {
            throw TokenConfigurationError("token name '\(token.name)' is defined twice")
        }
        if tokens.contains(where: { ConstantTime.equals($0.hash, token.hash) }) {
            throw TokenConfigurationError("token '\(token.name)' has the same hash as another token")
        }
        byPrefix[Self.prefix(token.hash), default: []].append(tokens.count)
        tokens.append(token)
    }

    /// Adds every token of `other` (e.g. the environment's after the file's).
    public mutating func merge(_ other: APITokenSet) throws {
        for token in other.tokens { try add(token) }
    }

    /// The token whose secret is `presented`, or nil. Hashes once, one dictionary lookup,
    /// constant-time comparison of the full hash.
    public func token(presented: Substring) -> APIToken? {
        let hash = SHA256.hash(Array(presented.utf8))
        guard let candidates = byPrefix[Self.prefix(hash)] else { return nil }
        var found: APIToken?
        for i in candidates where ConstantTime.equals(tokens[i].hash, hash) { found = tokens[i] }
        return found
    }

    private static func prefix(_ hash: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for byte in hash.prefix(8) { value = value << 8 | UInt64(byte) }
        return value
    }

    /// Parses the tokens format; `source` names the origin in error messages
    /// (e.g. "tokens file /etc/tributary/tokens").
    public static func parse(_ text: String, source: String) throws -> APITokenSet {
        var set = APITokenSet()
        var lineNumber = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            for entry in line.split(separator: ";") {
                let trimmed = entry.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let at = "\(source) line \(lineNumber)"
                let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count == 3 else {
                    throw TokenConfigurationError("\(at): expected 'NAME SHA256HEX SCOPE[,SCOPE...]' (3 fields, got \(fields.count))")
                }
                let name = String(fields[0])
                guard name.utf8.allSatisfy({ isNameByte($0) }) else {
                    throw TokenConfigurationError("\(at): token name may only contain letters, digits, '.', '_', '-'")
                }
                // Never echo the field: a raw token pasted by mistake must not reach the logs.
                guard let hash = decodeHex(fields[1]), hash.count == 32 else {
                    throw TokenConfigurationError("\(at): token '\(name)': the second field must be the 64-hex-digit SHA-256 of the token (use `tributary hash-token`), not the token itself")
                }
                var scopes = Set<AuthScope>()
                for raw in fields[2].split(separator: ",", omittingEmptySubsequences: false) {
                    guard let scope = AuthScope(rawValue: String(raw)) else {
                        let known = AuthScope.allCases.map { $0.rawValue }.joined(separator: ", ")
                        throw TokenConfigurationError("\(at): token '\(name)': unknown scope '\(raw)' (known: \(known))")
                    }
                    scopes.insert(scope)
                }
                do { try set.add(APIToken(name: name, hash: hash, scopes: scopes)) } catch let error as TokenConfigurationError {
                    throw TokenConfigurationError("\(at): \(error.description)")
                }
            }
        }
        return set
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
    }

    static func decodeHex(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// `tributary hash-token`: what the operator pipes in becomes the hash that goes into the
/// tokens file.
public enum TokenHashing {
    /// The lowercase hex SHA-256 of a token read from standard input: one trailing line end
    /// is dropped; the token must be non-empty and contain no whitespace or control
    /// characters (it could not be sent in an `Authorization` header).
    public static func hashHex(stdin bytes: [UInt8]) throws -> String {
        var token = bytes[...]
        if token.last == 0x0A { token = token.dropLast() }
        if token.last == 0x0D { token = token.dropLast() }
        guard !token.isEmpty else { throw TokenConfigurationError("no token on standard input") }
        guard token.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw TokenConfigurationError("the token contains whitespace or control characters; use a random token such as `openssl rand -hex 32`")
        }
        return hex(SHA256.hash(Array(token)))
    }

    public static func hex(_ bytes: [UInt8]) -> String { bytes.hexString }
}

/// Comparisons whose time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Whether `a` and `b` are equal; for equal lengths, always looks at every byte.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
