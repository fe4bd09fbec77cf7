import CQRS
import EventStore
import HTTP
import Metrics

/// The route groups of the HTTP API, declared in one place: each group states the API side
/// its routes belong to and the scope a token needs (route tags, read by `AuthGate` and
/// `ServedAPIsMiddleware`), and carries its own middleware.
public struct APIGroups {
    /// `/commands/**`: the command API, `commands:write`, behind admission control.
    public let commands: RouteGroup
    /// `/queries/**` and the public log: the query API, `queries:read`.
    public let queries: RouteGroup
    /// History and audit reads under `/queries/**`: the query API, `admin`.
    public let audit: RouteGroup
    /// `/streams/**` (server-sent events): the query API, `streams:read`.
    public let streams: RouteGroup
    /// `/admin/**`: the query API, `admin`.
    public let admin: RouteGroup
    /// `/streams/health` (the console's live health): the query API, `admin`.
    public let adminStreams: RouteGroup
    /// Probes, metrics and the specs: every listener, no token.
    public let open: RouteGroup

    public init(router: Router, admission: CommandAdmission) {
        let commandAPI = [RouteTag.api: ServedAPIs.commandsTag], queryAPI = [RouteTag.api: ServedAPIs.queriesTag]
        func scope(_ s: AuthScope) -> [String: String] { [RouteTag.scope: s.rawValue] }
        commands = router.group("/commands", tags: commandAPI.merging(scope(.commandsWrite)) { $1 }, middleware: [admission])
        queries = router.group(tags: queryAPI.merging(scope(.queriesRead)) { $1 })
        audit = router.group(tags: queryAPI.merging(scope(.admin)) { $1 })
        streams = router.group("/streams", tags: queryAPI.merging(scope(.streamsRead)) { $1 })
        admin = router.group("/admin", tags: queryAPI.merging(scope(.admin)) { $1 })
        adminStreams = router.group("/streams", tags: queryAPI.merging(scope(.admin)) { $1 })
        open = router.group(tags: [RouteTag.scope: RouteTag.open])
    }
}

/// Installs the whole HTTP API but the live streams (the LiveFeeds module adds those to
/// `groups.streams`): every service's commands and queries, the public log, the operational
/// and admin routes and the specs.
public enum APIRoutes {
    /// - Parameters:
    ///   - services: every service's API, in the order `/health` lists them.
    ///   - running: the services' runtimes, nil while they start.
    ///   - tokens: the API tokens, to name who made an operator move.
    ///   - role: what this process is (`/health` says it; a standby or a replica refuses writes).
    public static func install(_ groups: APIGroups, services: [ServiceAPI], stores: NamedStores, publicLog: EventStore,
                               running: @escaping () -> [RunningService]?, registry: MetricsRegistry,
                               tokens: APITokenSet = APITokenSet(), sessions: ConsoleSessions = ConsoleSessions(),
                               tracer: CorrelationTracer? = nil, role: ProcessRole = .single) {
        for api in services { ServiceRoutes.install(api, groups) }
        PublicLogRoutes.install(on: groups.queries, publicLog: publicLog)
        OperationalRoutes.install(on: groups.open, stores: stores, services: running, registry: registry, role: role)
        AdminRoutes.install(on: groups.admin, services: { running() == nil ? nil : services })
        OperatorRoutes.install(on: groups.admin, services: running, tokens: tokens, role: role)
        if let tracer { AdminRoutes.installTrace(on: groups.admin, tracer: tracer) }
        StreamBrowserRoutes.install(on: groups.admin, stores: stores)
        SpecRoutes.install(on: groups.open)
        ConsoleRoutes.install(on: groups.open, tokens: tokens, sessions: sessions)
    }
}

/// One service's commands and queries as routes: the paths `ServiceAPI` promises.
enum ServiceRoutes {
    static func install(_ api: ServiceAPI, _ groups: APIGroups) {
        let name = api.name, service = api.positions
        for command in api.commands {
            let path = command.creates ? "/\(name)/\(command.name)" : "/\(name)/{id}/\(command.name)"
            groups.commands.post(path) { context, responder in
                CommandEndpoint.run(command, service: name, context, responder)
            }
        }
        for query in api.queries {
            let (group, path): (RouteGroup, String)
            switch query.path {
            case .list: (group, path) = (groups.queries, "/queries/\(name)")
            case .item: (group, path) = (groups.queries, "/queries/\(name)/{id}")
            case .history: (group, path) = (groups.audit, "/queries/\(name)/{id}/history")
            case .named(let n): (group, path) = (groups.queries, "/queries/\(n)")
            }
            let memo = QueryMemo<QueryEndpoint.Answer> { $0.size }
            group.get(path) { context, responder in QueryEndpoint.run(query, service: service, memo: memo, context, responder) }
        }
    }
}
