import EventStore
import HTTP
import Metrics
import UV

/// The SSE routes (`/streams/...`), the shared parts they need, and CORS preflight.
final class StreamRoutes {
    let registry: StreamRegistry
    let publicFeed: PublicStreamFeed
    private(set) var queryFeeds: QueryStreamFeeds?

    init(settings: StreamSettings, loop: EventLoop, executor: CompletionExecutor, publicLog: EventStore,
         metrics: MetricsRegistry) {
        registry = StreamRegistry(settings: settings, loop: loop, metrics: metrics)
        publicFeed = PublicStreamFeed(store: publicLog, loop: loop, executor: executor, registry: registry)
    }

    /// Registers the stream routes. `services` is read per request: the query streams start
    /// serving once the services exist (503 before).
    func install(on router: Router, services: Services) {
        let feeds = QueryStreamFeeds(customers: services.customers, orders: services.orders,
                                     loop: registry.loop, registry: registry)
        queryFeeds = feeds
        router.get("/streams/public") { [publicFeed] context, responder in publicFeed.handle(context, responder) }
        router.get("/streams/queries/customers") { context, responder in feeds.handleCustomers(context, responder) }
        router.get("/streams/queries/customers/{id}") { context, responder in feeds.handleCustomers(context, responder) }
        router.get("/streams/queries/orders") { context, responder in feeds.handleOrderList(context, responder) }
        router.get("/streams/queries/orders/{id}") { context, responder in feeds.handleOrders(context, responder) }
        router.get("/streams/queries/stats") { context, responder in feeds.handleStats(context, responder) }
    }

    /// Adds an `OPTIONS` preflight route for every path pattern registered so far (only when
    /// CORS origins are configured). Call after every other route is installed.
    func installPreflight(on router: Router) {
        let cors = registry.cors
        guard cors.isEnabled else { return }
        var methods: [String: [String]] = [:]
        var order: [String] = []
        for route in router.routes {
            if methods[route.pattern] == nil { order.append(route.pattern) }
            methods[route.pattern, default: []].append(route.method)
        }
        for pattern in order where !(methods[pattern] ?? []).contains("OPTIONS") {
            let allowed = methods[pattern] ?? []
            router.add("OPTIONS", pattern) { context, responder in
                responder.respond(cors.preflight(origin: context.head.headers["Origin"], methods: allowed,
                                                 requestHeaders: context.head.headers["Access-Control-Request-Headers"]))
            }
        }
    }

    func start() { publicFeed.start() }

    /// Shutdown: ends every stream cleanly and closes the feeds' handles.
    func close() {
        publicFeed.close()
        queryFeeds?.close()
        registry.close()
    }
}
