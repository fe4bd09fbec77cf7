import Foundation
import HTTP

/// Access control as server middleware: route → required scope (the `scope` tag its group
/// declared, see `AccessRequirement`), bearer token → configured token (`APITokenSet`), and
/// the 401/403 answers (RFC 6750 + problem+json). Unmatched requests pass: the router answers
/// them 404/405 without running anything.
///
/// Nothing here logs, and no answer echoes what the client sent: tokens never reach logs,
/// problem details or metrics.
public struct AuthGate: HTTPMiddleware, Sendable {
    static let realm = "tributary"
    let tokens: APITokenSet
    /// The console's sessions: a session cookie stands for its token on GET and HEAD (the
    /// console's event streams; EventSource sends no headers). nil: cookies are ignored.
    let sessions: ConsoleSessions?
    /// Canned answers, built once: the deny paths allocate nothing per request.
    private let missing: HTTPResponse
    private let invalid: HTTPResponse
    private let forbidden: [AuthScope: HTTPResponse]

    public init(tokens: APITokenSet, sessions: ConsoleSessions? = nil) {
        self.tokens = tokens
        self.sessions = sessions
        missing = Self.unauthorized(challenge: "Bearer realm=\"\(Self.realm)\"", type: "unauthorized",
                                    detail: "This endpoint needs an API token: send 'Authorization: Bearer <token>'.")
        invalid = Self.unauthorized(challenge: "Bearer realm=\"\(Self.realm)\", error=\"invalid_token\"", type: "invalid-token",
                                    detail: "The API token is not valid.")
        var forbidden: [AuthScope: HTTPResponse] = [:]
        for scope in AuthScope.allCases {
            var headers = HTTPHeaders()
            headers.add(name: "WWW-Authenticate",
                        value: "Bearer realm=\"\(Self.realm)\", error=\"insufficient_scope\", scope=\"\(scope.rawValue)\"")
            forbidden[scope] = Problem(status: 403, type: ProblemType.uri("insufficient-scope"), title: "Insufficient scope",
                                       detail: "The API token lacks the '\(scope.rawValue)' scope this endpoint needs.",
                                       extensions: ["requiredScope": .string(scope.rawValue)], headers: headers).response
        }
        self.forbidden = forbidden
    }

    private static func unauthorized(challenge: String, type: String, detail: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: challenge)
        return Problem(status: 401, type: ProblemType.uri(type), title: "Unauthorized", detail: detail, headers: headers).response
    }

    public func handle(_ context: RequestContext, _ responder: Responder, next: @escaping HTTPHandler) {
        guard let route = context.route, let denial = check(context.head, route: route) else { return next(context, responder) }
        responder.respond(denial)
    }

    /// nil when the request may proceed, else the 401/403 to send instead.
    func check(_ head: HTTPRequestHead, route: Route) -> HTTPResponse? {
        guard case .scope(let scope) = AccessRequirement(method: head.method, route: route) else {
            return nil
        }
        guard let header = head.headers["Authorization"] else {
            // Safe methods only: a cookie rides along on requests other sites trigger, so it
            // never authorizes a change (SameSite=Strict is the second line).
            if let sessions, head.method == "GET" || head.method == "HEAD",
               let id = ConsoleSessions.cookieValue(head.headers["Cookie"]), let token = sessions.token(for: id) {
                return token.scopes.contains(scope) ? nil : forbidden[scope]
            }
            return missing
        }
        guard let presented = Self.bearerToken(header) else { return missing }
        guard !presented.isEmpty, let token = tokens.token(presented: presented) else { return invalid }
        return token.scopes.contains(scope) ? nil : forbidden[scope]
    }

    /// The credentials of `Bearer <token>` (scheme case-insensitive), or nil for another scheme.
    static func bearerToken(_ value: String) -> Substring? {
        var rest = value[...].drop(while: { $0 == " " || $0 == "\t" })
        guard rest.utf8.count >= 6, rest.prefix(6).lowercased() == "bearer" else { return nil }
        rest = rest.dropFirst(6)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
        while let last = rest.last, last == " " || last == "\t" { rest = rest.dropLast() }
        return rest
    }
}

/// Loopback checks for development mode (no tokens: loopback listeners only).
public enum LoopbackAddress {
    /// Whether `host` (an IP literal) is 127.0.0.0/8, ::1, or IPv4-mapped 127.0.0.0/8.
    public static func isLoopback(_ host: String) -> Bool {
        var h = host
        if let zone = h.firstIndex(of: "%") { h = String(h[..<zone]) }
        if let v4 = ipv4(h[...]) { return v4[0] == 127 }
        guard let v6 = ipv6(h) else { return false }
        if v6[0..<15].allSatisfy({ $0 == 0 }) && v6[15] == 1 { return true }
        // ::ffff:127.x.y.z
        return v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xFF && v6[11] == 0xFF && v6[12] == 127
    }

    static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt8(part) else { return nil }
            out.append(value)
        }
        return out
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if i == parts.count - 1, part.contains("."), let v4 = ipv4(part) {
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard !part.isEmpty, part.count <= 4, let value = UInt16(part, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        var words: [UInt16]
        if let gap = text.range(of: "::") {
            guard let head = groups(text[..<gap.lowerBound]), let tail = groups(text[gap.upperBound...]),
                  head.count + tail.count < 8 else { return nil }
            words = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let all = groups(text[...]), all.count == 8 else { return nil }
            words = all
        }
        return words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
