import HTTP

/// A permission carried by an API token. Scopes are independent: `admin` does not imply the
/// others (give a token several scopes when it needs them), so every token is least-privilege.
public enum AuthScope: String, CaseIterable, Sendable, Comparable {
    /// `POST /commands/**`.
    case commandsWrite = "commands:write"
    /// `GET /queries/**` (except history) and `GET /public/events`.
    case queriesRead = "queries:read"
    /// `GET /streams/**` (server-sent events).
    case streamsRead = "streams:read"
    /// `/admin/**` and the history/audit endpoints (`/queries/*/{id}/history`).
    case admin

    public static func < (a: AuthScope, b: AuthScope) -> Bool { a.rawValue < b.rawValue }
}

/// What a route needs before its handler may run.
public enum AccessRequirement: Equatable, Sendable {
    /// Anyone: probes, metrics, specs, CORS preflight.
    case open
    /// A valid token carrying this scope.
    case scope(AuthScope)
}

/// Which scope each route family needs, decided from the route's method and pattern (not the
/// raw path, so percent-encoding tricks cannot change the answer).
///
/// Routes nobody listed here fail closed: they need `admin`, so a new endpoint is never
/// accidentally public.
public enum AccessPolicy {
    /// Probes and documents that must work without credentials: load balancers and
    /// orchestrators poll `/health` and `/ready`, Prometheus scrapes `/metrics` (route labels
    /// and counters only, no business data or tokens), clients fetch the specs.
    static let openPatterns: Set<String> = ["/health", "/ready", "/metrics", "/openapi/{file}"]

    /// The requirement for `method` on the route registered as `pattern`.
    public static func requirement(method: String, pattern: String) -> AccessRequirement {
        // Browsers send CORS preflight without credentials by design.
        if method == "OPTIONS" { return .open }
        if openPatterns.contains(pattern) { return .open }
        if pattern == "/admin" || pattern.hasPrefix("/admin/") { return .scope(.admin) }
        if pattern.hasPrefix("/queries/") && pattern.hasSuffix("/history") { return .scope(.admin) }
        let isRead = method == "GET" || method == "HEAD"
        if method == "POST" && pattern.hasPrefix("/commands/") { return .scope(.commandsWrite) }
        if isRead && (pattern.hasPrefix("/queries/") || pattern == "/public/events") { return .scope(.queriesRead) }
        if isRead && pattern.hasPrefix("/streams/") { return .scope(.streamsRead) }
        return .scope(.admin)
    }
}
