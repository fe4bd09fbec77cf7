import Foundation
import HTTP

/// The web console: `GET /` redirects to `/ui/`, and `/ui/**` serves the files of the
/// repository's `ui/` directory (plain HTML, CSS and ES modules: no build step), read once at
/// start. A path that names no file is a page of the console (`/ui/tail`,
/// `/ui/operations`, ...): it gets `index.html`, whose module router shows that page, so every
/// page has a URL of its own. Every answer carries a strict Content-Security-Policy (no inline
/// script or style, nothing from elsewhere, no framing) and `nosniff`.
///
/// `POST /ui/session` exchanges an API token (`Authorization: Bearer`) for an HttpOnly,
/// SameSite=Strict session cookie: EventSource cannot send headers, so the console's event
/// streams authenticate with the cookie (GET only, see `AuthGate`), never with a token in a URL.
public enum ConsoleRoutes {
    /// The console's files by path below `ui/`, with their content types.
    struct Files {
        var byPath: [String: (type: String, body: [UInt8])] = [:]

        static let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
                            "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png",
                            "json": "application/json"]

        /// Reads every file of `dir` (one level of subdirectories) with a known extension.
        init(dir: String?) {
            guard let dir else { return }
            let fm = FileManager.default
            for name in (try? fm.subpathsOfDirectory(atPath: dir)) ?? [] where name.split(separator: "/").count <= 2 {
                let ext = String(name.split(separator: ".").last ?? "")
                guard let type = Self.types[ext], let data = fm.contents(atPath: dir + "/" + name) else { continue }
                byPath[name] = (type, Array(data))
            }
        }
    }

    /// Security headers on every console answer.
    static let policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static func headers(type: String) -> HTTPHeaders {
        var h = HTTPHeaders()
        h.add(name: "Content-Type", value: type)
        h.add(name: "Content-Security-Policy", value: policy)
        h.add(name: "X-Content-Type-Options", value: "nosniff")
        h.add(name: "X-Frame-Options", value: "DENY")
        h.add(name: "Referrer-Policy", value: "no-referrer")
        h.add(name: "Cache-Control", value: "no-cache")
        return h
    }

    public static func install(on group: RouteGroup, tokens: APITokenSet, sessions: ConsoleSessions,
                               executablePath: String = CommandLine.arguments.first ?? "") {
        let files = Files(dir: locate(executablePath: executablePath))
        let answers = files.byPath.mapValues { HTTPResponse(status: 200, headers: headers(type: $0.type), body: $0.body) }
        let index = answers["index.html"] ?? Problem(status: 404, detail: "The console's files (ui/) were not found.").response
        func serve(_ path: String) -> HTTPResponse {
            // A file, else a page of the console (its router reads the URL).
            answers[path] ?? index
        }
        var redirect = HTTPHeaders()
        redirect.add(name: "Location", value: "/ui/")
        let toConsole = HTTPResponse(status: 308, headers: redirect, body: [])
        group.get("/") { _, responder in responder.respond(toConsole) }
        group.get("/ui") { _, responder in responder.respond(toConsole) }
        group.get("/ui/") { _, responder in responder.respond(index) }
        group.get("/ui/{a}") { context, responder in responder.respond(serve(context.parameters["a"] ?? "")) }
        group.get("/ui/{a}/{b}") { context, responder in
            responder.respond(serve("\(context.parameters["a"] ?? "")/\(context.parameters["b"] ?? "")"))
        }
        group.get("/ui/{a}/{b}/{c}") { _, responder in responder.respond(index) }
        group.post("/ui/session") { context, responder in
            // Development mode: nothing to exchange (every route is open on loopback).
            guard !tokens.isEmpty else { return responder.respond(HTTPResponse(status: 204, headers: HTTPHeaders(), body: [])) }
            guard let header = context.head.headers["Authorization"], let presented = AuthGate.bearerToken(header),
                  !presented.isEmpty, let token = tokens.token(presented: presented) else {
                var h = HTTPHeaders()
                h.add(name: "WWW-Authenticate", value: "Bearer realm=\"\(AuthGate.realm)\"")
                return responder.respond(Problem(status: 401, type: ProblemType.uri("unauthorized"), title: "Unauthorized",
                                                 detail: "Send the API token to exchange as 'Authorization: Bearer <token>'.",
                                                 headers: h).response)
            }
            guard token.scopes.contains(.admin) || token.scopes.contains(.streamsRead) else {
                return responder.respond(Problem(status: 403, type: ProblemType.uri("insufficient-scope"), title: "Insufficient scope",
                                                 detail: "The console's session is for tokens with the admin or streams:read scope.").response)
            }
            var h = HTTPHeaders()
            // A session cookie (no Max-Age): gone with the browser; the server ends it after 12 hours anyway.
            h.add(name: "Set-Cookie", value: "\(ConsoleSessions.cookie)=\(sessions.open(for: token)); Path=/; HttpOnly; SameSite=Strict")
            h.add(name: "Cache-Control", value: "no-store")
            responder.respond(HTTPResponse(status: 204, headers: h, body: []))
        }
        group.add("DELETE", "/ui/session") { context, responder in
            if let id = ConsoleSessions.cookieValue(context.head.headers["Cookie"]) { sessions.close(id) }
            var h = HTTPHeaders()
            h.add(name: "Set-Cookie", value: "\(ConsoleSessions.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
            responder.respond(HTTPResponse(status: 204, headers: h, body: []))
        }
    }

    /// The `ui/` directory: `$TRIBUTARY_UI_DIR`, else next to the `openapi/` directory found for the specs.
    static func locate(executablePath: String) -> String? {
        if let env = ProcessInfo.processInfo.environment["TRIBUTARY_UI_DIR"] { return env }
        guard let openapi = SpecRoutes.locate(executablePath: executablePath) else { return nil }
        let dir = URL(fileURLWithPath: openapi).deletingLastPathComponent().appendingPathComponent("ui").path
        return FileManager.default.fileExists(atPath: dir + "/index.html") ? dir : nil
    }
}

/// The console's sessions: an API token exchanged for a random cookie value (`POST
/// /ui/session`), so its event streams can authenticate (EventSource sends no headers). A
/// session carries the token's name and scopes and expires after `lifetimeSeconds`; the
/// cookie is accepted for GET and HEAD only (`AuthGate`), and is HttpOnly, SameSite=Strict and
/// a session cookie (gone with the browser). Only tokens with the admin or streams:read scope
/// get one, at most `maxPerToken` each. Behind TLS the front (nginx) should add `Secure`.
/// Loop-confined (the gate and the routes run on the loop).
public final class ConsoleSessions: @unchecked Sendable {
    public static let cookie = "tributary_session"
    public static let lifetimeSeconds = 12 * 3600
    static let maxSessions = 10_000
    private var sessions: [String: (token: APIToken, expires: Date)] = [:]

    public init() {}

    /// Sessions one token may hold at once (its oldest goes first): one token cannot crowd out
    /// the others' sessions.
    static let maxPerToken = 100

    /// A new session for `token`: the cookie value (32 random bytes, hex).
    func open(for token: APIToken) -> String {
        let mine = sessions.filter { $0.value.token.name == token.name }
        if mine.count >= Self.maxPerToken, let oldest = mine.min(by: { $0.value.expires < $1.value.expires }) {
            sessions[oldest.key] = nil
        }
        if sessions.count >= Self.maxSessions {
            let now = Date()
            sessions = sessions.filter { $0.value.expires > now }
            if sessions.count >= Self.maxSessions, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
                sessions[oldest.key] = nil
            }
        }
        var rng = SystemRandomNumberGenerator()
        var id = ""
        for _ in 0..<32 { id += String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }
        sessions[id] = (token, Date().addingTimeInterval(TimeInterval(Self.lifetimeSeconds)))
        return id
    }

    /// The token of a live session, nil for none or an expired one.
    func token(for id: Substring) -> APIToken? {
        guard let s = sessions[String(id)] else { return nil }
        guard s.expires > Date() else { sessions[String(id)] = nil; return nil }
        return s.token
    }

    func close(_ id: Substring) { sessions[String(id)] = nil }

    /// The session cookie's value in a `Cookie` header, if present.
    static func cookieValue(_ header: String?) -> Substring? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.drop(while: { $0 == " " })
            if kv.hasPrefix(cookie + "=") { return kv.dropFirst(cookie.count + 1) }
        }
        return nil
    }
}
