import HTTP
import Testing
@testable import App

@Suite("Auth policy: route family → required scope")
struct AuthPolicyTests {
    private func need(_ method: String, _ pattern: String) -> AccessRequirement {
        AccessPolicy.requirement(method: method, pattern: pattern)
    }

    @Test("commands need commands:write")
    func commands() {
        #expect(need("POST", "/commands/customers/register") == .scope(.commandsWrite))
        #expect(need("POST", "/commands/orders/{id}/add-line") == .scope(.commandsWrite))
    }

    @Test("queries and the public log need queries:read")
    func queries() {
        #expect(need("GET", "/queries/customers") == .scope(.queriesRead))
        #expect(need("GET", "/queries/orders/{id}") == .scope(.queriesRead))
        #expect(need("HEAD", "/queries/stats") == .scope(.queriesRead))
        #expect(need("GET", "/public/events") == .scope(.queriesRead))
    }

    @Test("streams need streams:read")
    func streams() {
        #expect(need("GET", "/streams/public") == .scope(.streamsRead))
        #expect(need("GET", "/streams/queries/orders/{id}") == .scope(.streamsRead))
    }

    @Test("history/audit and admin endpoints need admin")
    func admin() {
        #expect(need("GET", "/queries/customers/{id}/history") == .scope(.admin))
        #expect(need("GET", "/queries/orders/{id}/history") == .scope(.admin))
        #expect(need("GET", "/admin/consistency") == .scope(.admin))
        #expect(need("POST", "/admin/anything") == .scope(.admin))
    }

    @Test("probes, metrics, specs and CORS preflight are open")
    func open() {
        for pattern in ["/health", "/ready", "/metrics", "/openapi/{file}"] { #expect(need("GET", pattern) == .open) }
        #expect(need("OPTIONS", "/commands/customers/register") == .open)
        #expect(need("OPTIONS", "/admin/consistency") == .open)
    }

    @Test("unlisted routes and odd method/family pairs fail closed to admin")
    func failClosed() {
        #expect(need("GET", "/something/new") == .scope(.admin))
        #expect(need("DELETE", "/queries/customers/{id}") == .scope(.admin))
        #expect(need("GET", "/commands/customers/register") == .scope(.admin))
        #expect(need("POST", "/health") == .open)  // open by pattern: the router answers 405 anyway
    }
}

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

    private func route(_ method: String, _ pattern: String) -> Route {
        let router = Router()
        router.add(method, pattern) { _, _ in }
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
        let queries = route("GET", "/queries/customers")
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
        let history = route("GET", "/queries/customers/{id}/history")
        #expect(gate.check(head("GET", "/queries/customers/x/history", authorization: "Bearer \(Self.readerSecret)"),
                           route: history)?.status == 403)
        #expect(gate.check(head("GET", "/queries/customers/x/history", authorization: "Bearer \(Self.adminSecret)"),
                           route: history) == nil)
        #expect(gate.check(head("GET", "/health", authorization: nil), route: route("GET", "/health")) == nil)
    }
}

/// Test helper: the SHA-256 of a secret, as the tokens file stores it.
enum SHA256Hex {
    static func of(_ secret: String) -> [UInt8] {
        APITokenSet.decodeHex(Substring(try! TokenHashing.hashHex(stdin: Array(secret.utf8))))!
    }
}
