import CQRS
import EventStore
import HTTP
import Metrics
import Testing
@testable import API

/// The route table declares, per group, which API a route belongs to and the scope a token
/// needs: every route family gets what it must, and a route outside the groups fails closed.
@Suite("Route table: route family → required scope and API side")
struct RouteTableTests {
    /// The API's route table with one service declaring a command, a creation and every kind of
    /// query, plus a live stream on the streams group (as the LiveFeeds module adds them).
    static func table() -> Router {
        let router = Router()
        let groups = APIGroups(router: router, admission: CommandAdmission(limit: 1, registry: MetricsRegistry()))
        let service = FakeService(name: "orders")
        var api = ServiceAPI(name: "orders", positions: service)
        api.commands = [CommandRoute(name: "place", creates: true) { _, _ in }, CommandRoute(name: "add-line", creates: false) { _, _ in }]
        api.queries = [QueryRoute(.list) { _ in nil }, QueryRoute(.item) { _ in nil }, QueryRoute(.history) { _ in nil },
                       QueryRoute(.named("stats")) { _ in nil }]
        APIRoutes.install(groups, services: [api], stores: [], publicLog: service.publicLog, running: { [service] },
                          registry: MetricsRegistry())
        groups.streams.get("/public") { _, _ in }
        groups.streams.get("/queries/orders/{id}") { _, _ in }
        CORSMiddleware(policy: CORSPolicy(origins: ["*"])).installPreflight(on: router)
        router.add("GET", "/something/new") { _, _ in }   // registered outside every group
        return router
    }

    static let router = table()

    private func need(_ method: String, _ path: String) throws -> AccessRequirement {
        guard case .success(let (route, _)) = Self.router.match(method: method, path: Substring(path)) else {
            throw RouteMissing(path: path)
        }
        return AccessRequirement(method: method, route: route)
    }

    private func api(_ method: String, _ path: String) throws -> ServedAPIs? {
        guard case .success(let (route, _)) = Self.router.match(method: method, path: Substring(path)) else {
            throw RouteMissing(path: path)
        }
        return ServedAPIs.of(route)
    }

    struct RouteMissing: Error { var path: String }

    @Test("commands need commands:write")
    func commands() throws {
        #expect(try need("POST", "/commands/orders/place") == .scope(.commandsWrite))
        #expect(try need("POST", "/commands/orders/o-1/add-line") == .scope(.commandsWrite))
    }

    @Test("queries and the public log need queries:read")
    func queries() throws {
        #expect(try need("GET", "/queries/orders") == .scope(.queriesRead))
        #expect(try need("GET", "/queries/orders/o-1") == .scope(.queriesRead))
        #expect(try need("HEAD", "/queries/stats") == .scope(.queriesRead))
        #expect(try need("GET", "/public/events") == .scope(.queriesRead))
    }

    @Test("streams need streams:read")
    func streams() throws {
        #expect(try need("GET", "/streams/public") == .scope(.streamsRead))
        #expect(try need("GET", "/streams/queries/orders/o-1") == .scope(.streamsRead))
    }

    @Test("history/audit and admin endpoints need admin")
    func admin() throws {
        #expect(try need("GET", "/queries/orders/o-1/history") == .scope(.admin))
        #expect(try need("GET", "/admin/consistency") == .scope(.admin))
    }

    @Test("probes, metrics, specs and CORS preflight are open")
    func open() throws {
        for path in ["/health", "/ready", "/metrics", "/openapi/api.yaml"] { #expect(try need("GET", path) == .open) }
        #expect(try need("OPTIONS", "/commands/orders/place") == .open)
        #expect(try need("OPTIONS", "/admin/consistency") == .open)
    }

    @Test("a route registered outside the groups fails closed to admin")
    func failClosed() throws {
        #expect(try need("GET", "/something/new") == .scope(.admin))
    }

    @Test("routes belong to the command or the query API; operational routes to neither")
    func apiSides() throws {
        #expect(try api("POST", "/commands/orders/place") == .commands)
        #expect(try api("OPTIONS", "/commands/orders/place") == .commands)
        #expect(try api("GET", "/queries/orders/o-1") == .queries)
        #expect(try api("GET", "/queries/orders/o-1/history") == .queries)
        #expect(try api("GET", "/streams/public") == .queries)
        #expect(try api("GET", "/public/events") == .queries)
        #expect(try api("GET", "/admin/consistency") == .queries)
        for op in ["/health", "/ready", "/metrics", "/openapi/api.yaml"] { #expect(try api("GET", op) == nil) }
        guard case .success(let (place, _)) = Self.router.match(method: "POST", path: "/commands/orders/place"),
              case .success(let (health, _)) = Self.router.match(method: "GET", path: "/health") else {
            Issue.record("routes missing"); return
        }
        #expect(ServedAPIs.queries.refusal(for: place)?.status == 404)
        #expect(ServedAPIs.queries.refusal(for: health) == nil)
        #expect(ServedAPIs.all.refusal(for: place) == nil)
    }
}

/// A service runtime with nothing behind it: the route table only needs its name and stores.
final class FakeService: RunningService {
    let name: String
    let store: EventStore = MemoryEventStore(executor: InlineExecutor())
    let publicLog: EventStore = MemoryEventStore(executor: InlineExecutor())
    let idempotency = IdempotencyIndex()
    let consumerName: String? = nil
    let projectionRunners: [ProjectionRunner] = []
    let components: [ComponentHealth] = []
    func appendHealthStamp(to stamp: inout [UInt64]) {}
    let isReady = true
    var writes = true
    let feeds: [CQRS.Feed] = [.own]
    let generation: UInt64 = 0
    init(name: String) { self.name = name }
    func position(_ feed: CQRS.Feed) -> LogPosition { .start }
    func tokenName(_ feed: CQRS.Feed) -> String { feed == .own ? name : "public" }
    func wait(forPosition position: LogPosition, in feed: CQRS.Feed, timeout: Duration, completion: @escaping (PositionWaitResult) -> Void) {
        completion(.reached(.start))
    }
    func startReadModels() {}
    func start(consumerFrom: LogPosition?) throws {}
    func stop() {}
}
