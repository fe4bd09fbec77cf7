import HTTP
import Testing
@testable import API

@Suite("Auth gate: bearer parsing and 401/403 answers")
struct AuthGateTests {
    static let readerSecret = "reader-secret-0123456789"
    static let adminSecret = "admin-secret-0123456789"

    private func gate() throws -> AuthGate {
        let tokens = try APITokenSet([
            APIToken(name: "reader", hash: SHA256Hex.of(Self.readerSecret), scopes: [.queriesRead]),
            APIToken(name: "ops", hash: SHA256Hex.of(Self.adminSecret), scopes: [.admin]),
        ])
        return AuthGate(tokens: tokens)
    }

    private func head(_ method: String, _ path: String, authorization: String?) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        return HTTPRequestHead(method: method, target: path, version: .http1_1, headers: headers, keepAlive: true,
                               expectsContinue: false)
    }

    /// A route as the API's groups register it: tagged with the scope its family needs.
    private func route(_ method: String, _ pattern: String, scope: String) -> Route {
        let router = Router()
        router.add(method, pattern, tags: [RouteTag.scope: scope]) { _, _ in }
        return router.routes[0]
    }

    @Test("bearer scheme is case-insensitive and trims whitespace; other schemes are not bearer")
    func bearerParsing() {
        #expect(AuthGate.bearerToken("Bearer abc") == "abc")
        #expect(AuthGate.bearerToken("bearer   abc  ") == "abc")
        #expect(AuthGate.bearerToken("BEARER\tabc") == "abc")
        #expect(AuthGate.bearerToken("Bearer") == "")
        #expect(AuthGate.bearerToken("Bearerabc") == nil)
        #expect(AuthGate.bearerToken("Basic abc") == nil)
        #expect(AuthGate.bearerToken("") == nil)
    }

    @Test("missing → 401 challenge, unknown → 401 invalid_token, wrong scope → 403, right scope → nil")
    func decisions() throws {
        let gate = try gate()
        let queries = route("GET", "/queries/customers", scope: AuthScope.queriesRead.rawValue)
        let missing = try #require(gate.check(head("GET", "/queries/customers", authorization: nil), route: queries))
        #expect(missing.status == 401)
        #expect(missing.headers["WWW-Authenticate"] == "Bearer realm=\"tributary\"")
        #expect(missing.headers["Content-Type"] == "application/problem+json")

        let unknown = try #require(gate.check(head("GET", "/queries/customers", authorization: "Bearer nope"), route: queries))
        #expect(unknown.status == 401)
        #expect(unknown.headers["WWW-Authenticate"] == "Bearer realm=\"tributary\", error=\"invalid_token\"")
        #expect(!String(decoding: unknown.body, as: UTF8.self).contains("nope"))

        let forbidden = try #require(gate.check(head("GET", "/queries/customers", authorization: "Bearer \(Self.adminSecret)"),
                                                route: queries))
        #expect(forbidden.status == 403)
        #expect(String(decoding: forbidden.body, as: UTF8.self).contains("\"type\":\"/problems/insufficient-scope\""))

        #expect(gate.check(head("GET", "/queries/customers", authorization: "Bearer \(Self.readerSecret)"), route: queries) == nil)
        let history = route("GET", "/queries/customers/{id}/history", scope: AuthScope.admin.rawValue)
        #expect(gate.check(head("GET", "/queries/customers/x/history", authorization: "Bearer \(Self.readerSecret)"),
                           route: history)?.status == 403)
        #expect(gate.check(head("GET", "/queries/customers/x/history", authorization: "Bearer \(Self.adminSecret)"),
                           route: history) == nil)
        #expect(gate.check(head("GET", "/health", authorization: nil), route: route("GET", "/health", scope: RouteTag.open)) == nil)
    }
}

/// Test helper: the SHA-256 of a secret, as the tokens file stores it.
enum SHA256Hex {
    static func of(_ secret: String) -> [UInt8] {
        APITokenSet.decodeHex(Substring(try! TokenHashing.hashHex(stdin: Array(secret.utf8))))!
    }
}
