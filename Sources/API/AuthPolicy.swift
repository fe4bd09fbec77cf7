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

/// The route tags the API declares on its route groups, where the routes are registered
/// (`APIRoutes`), and the middleware that reads them.
public enum RouteTag {
    /// The scope a token needs (`AuthScope` raw value), or `open`. A route without it needs
    /// `admin`: a new endpoint is never accidentally public.
    public static let scope = "scope"
    /// Which API the route belongs to (`commands` or `queries`); none for operational routes,
    /// which every listener serves.
    public static let api = "api"
    /// The tag value of an open route.
    public static let open = "open"
}

extension AccessRequirement {
    /// What `method` on `route` requires: CORS preflight is open (browsers send it without
    /// credentials by design); otherwise the route's declared scope, `admin` when it declares
    /// none or an unknown one (fail closed).
    public init(method: String, route: Route) {
        if method == "OPTIONS" { self = .open; return }
        switch route.tags[RouteTag.scope] {
        case RouteTag.open?: self = .open
        case let scope?: self = .scope(AuthScope(rawValue: scope) ?? .admin)
        case nil: self = .scope(.admin)
        }
    }
}
