import HTTP

/// Which of the two APIs a listener serves (operational routes and the specs are served by all).
public struct ServedAPIs: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let commands = ServedAPIs(rawValue: 1)
    public static let queries = ServedAPIs(rawValue: 2)
    public static let all: ServedAPIs = [.commands, .queries]

    /// The tag values of `RouteTag.api`.
    public static let commandsTag = "commands", queriesTag = "queries"

    /// The API a route belongs to, from the `api` tag its group declared; nil for operational
    /// routes (`/health`, `/ready`, `/metrics`, `/openapi/...`).
    public static func of(_ route: Route) -> ServedAPIs? {
        switch route.tags[RouteTag.api] {
        case commandsTag?: return .commands
        case queriesTag?: return .queries
        default: return nil
        }
    }

    /// A 404 problem for a route of an API this listener does not serve.
    public func refusal(for route: Route) -> HTTPResponse? {
        guard let api = ServedAPIs.of(route), !contains(api) else { return nil }
        let which = api == .commands ? "command" : "query"
        return Problem(status: 404, type: ProblemType.uri("not-served-here"), title: "Not Found",
                       detail: "The \(which) API is not served on this address (see --\(which)-listen).").response
    }

    public var description: String {
        switch self {
        case .all: return "commands and queries"
        case .commands: return "commands"
        default: return "queries"
        }
    }
}

/// Server middleware of a listener that serves only some APIs (`--command-listen`,
/// `--query-listen`): routes of the others get a 404 problem.
public struct ServedAPIsMiddleware: HTTPMiddleware {
    public let served: ServedAPIs
    public init(served: ServedAPIs) { self.served = served }

    public func handle(_ context: RequestContext, _ responder: Responder, next: @escaping HTTPHandler) {
        if let route = context.route, let refusal = served.refusal(for: route) { return responder.respond(refusal) }
        next(context, responder)
    }
}
