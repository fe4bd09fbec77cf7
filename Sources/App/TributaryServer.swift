import CQRS
import EventStore
import Foundation
import HTTP
import Metrics
import UV

/// The whole server: stores, router, HTTP listener, on one libuv loop.
///
/// Loop-confined: `start` and `shutdown` run on the loop thread. `run(configuration:)`
/// is the process entry point (signals, banner, exit code); tests use `start`/`shutdown`
/// on an `EventLoopThread`.
public final class TributaryServer {
    public let configuration: AppConfiguration
    public let loop: EventLoop
    private var stores: StoreSet?
    private(set) var services: Services?
    private var http: [HTTPServer] = []
    /// Bound addresses and the APIs each serves (after `start`).
    private(set) var listeners: [(address: SocketAddress, apis: ServedAPIs)] = []
    private var streams: StreamRoutes?
    private var shuttingDown = false

    public init(configuration: AppConfiguration, loop: EventLoop) {
        self.configuration = configuration
        self.loop = loop
    }

    /// Opens the stores and starts listening; returns the bound addresses.
    /// On error nothing stays open.
    @discardableResult
    public func start() throws -> [SocketAddress] {
        var httpConfigs = try configuration.httpConfigurations()
        try configuration.streams.validate()
        let cors = CORSPolicy(origins: configuration.streams.corsOrigins)
        if cors.isEnabled {
            // Browsers may read every response (JSON API and streams) from the allowed origins.
            let decorate: @Sendable (HTTPRequestHead, inout HTTPResponse) -> Void = { head, response in
                guard response.headers["Access-Control-Allow-Origin"] == nil else { return }
                for field in cors.headers(origin: head.headers["Origin"]) { response.headers.add(name: field.name, value: field.value) }
                response.headers.add(name: "Access-Control-Expose-Headers",
                                     value: "ETag, Retry-After, \(QueryEndpoint.positionHeader), X-Correlation-ID")
            }
            for i in httpConfigs.indices { httpConfigs[i].configuration.responseDecorator = decorate }
        }
        let executor = LoopExecutor(loop: loop)
        let stores = try StoreSet(dataDirectory: configuration.dataDirectory, durability: configuration.durability,
                                  executor: executor)
        let services: Services
        do {
            services = try Services(stores: stores, executor: executor, scheduler: LoopScheduler(loop: loop),
                                    logger: configuration.logger, progress: configuration.progress,
                                    snapshotEvery: configuration.snapshotEvery > 0 ? configuration.snapshotEvery : nil,
                                    snapshotMinInterval: configuration.snapshotMinInterval,
                                    backgroundReplayAfter: configuration.backgroundReplayAfter)
        } catch {
            stores.close()
            throw error
        }
        let registry = MetricsRegistry()
        let router = Router()
        OperationalRoutes.install(on: router, stores: stores, services: { [weak self] in self?.services },
                                  registry: registry, runtimeMetrics: RuntimeMetrics(registry: registry))
        let admission = CommandAdmission(limit: configuration.maxQueuedCommands, registry: registry)
        CustomerRoutes.install(on: router, service: services.customers, admission: admission)
        OrderRoutes.install(on: router, service: services.orders, admission: admission)
        PublicLogRoutes.install(on: router, publicLog: stores["public"]!)
        AdminRoutes.install(on: router, services: { [weak self] in self?.services })
        SpecRoutes.install(on: router)
        let streams = StreamRoutes(settings: configuration.streams, loop: loop, executor: executor,
                                   publicLog: stores["public"]!, metrics: registry)
        streams.install(on: router, services: services)
        streams.installPreflight(on: router)
        // One router, one server per group of listen addresses (the API split is enforced by
        // each server's `authorize` hook); the HTTP metrics are shared.
        let httpMetrics = HTTPMetrics(registry: registry)
        let servers = httpConfigs.map { HTTPServer(loop: loop, configuration: $0.configuration, router: router, metrics: httpMetrics) }
        do {
            // Listen first: /health answers while the read models replay (/ready says when done).
            var bound: [(address: SocketAddress, apis: ServedAPIs)] = []
            for (server, group) in zip(servers, httpConfigs) {
                self.http.append(server)
                bound += try server.start().map { ($0, group.apis) }
            }
            self.stores = stores
            self.streams = streams
            streams.start()
            try services.start()
            self.services = services
            listeners = bound
            return bound.map(\.address)
        } catch {
            streams.close()
            self.streams = nil
            services.stop()
            for server in self.http { server.shutdown() }
            stores.close()
            self.stores = nil
            self.http = []
            throw error
        }
    }

    /// Stops accepting, lets in-flight requests finish (bounded by the grace period),
    /// closes every connection and the stores, then calls `completion` on the loop.
    public func shutdown(completion: (() -> Void)? = nil) {
        guard !shuttingDown else { return }
        shuttingDown = true
        let finish = { [self] in
            services?.stop()
            services = nil
            stores?.close()
            stores = nil
            completion?()
        }
        // Streams first: they end cleanly (queued events flushed) while the server drains.
        streams?.close()
        streams = nil
        // Every server drains (bounded by the grace period); then the stores close.
        var draining = http.count
        if draining == 0 { return finish() }
        for server in http {
            server.shutdown {
                draining -= 1
                if draining == 0 { finish() }
            }
        }
    }

    /// Runs the server in this process until SIGINT/SIGTERM; returns the exit code.
    public static func run(configuration: AppConfiguration) throws -> Int32 {
        raiseFileLimit()
        let loop = EventLoop()
        let server = TributaryServer(configuration: configuration, loop: loop)
        try server.start()
        // Signal watchers before the banner: a supervisor may send SIGTERM as soon as it sees "listening".
        var watchers: [SignalWatcher] = []
        let onSignal: (Int32) -> Void = { signal in
            print("tributary: signal \(signal), shutting down (grace \(configuration.shutdownGrace)s)")
            fflush(stdout)
            server.shutdown {
                for w in watchers { w.close() }
            }
        }
        watchers = [try SignalWatcher(loop: loop, signal: SIGINT, handler: onSignal),
                    try SignalWatcher(loop: loop, signal: SIGTERM, handler: onSignal)]
        print("tributary: libuv \(libuvVersion), durability \(configuration.durability.rawValue), data \(configuration.dataDirectory)")
        if configuration.isDevelopmentMode {
            print("tributary: development mode: no authentication, loopback only (configure --tokens-file or TRIBUTARY_TOKENS to require API tokens)")
        } else {
            print("tributary: authentication: bearer API tokens required (\(configuration.tokens.count) configured); /health, /ready, /metrics, /openapi/* are open")
        }
        let split = server.listeners.contains { $0.apis != .all }
        for l in server.listeners { print("tributary: listening on http://\(l.address)" + (split ? " (\(l.apis))" : "")) }
        fflush(stdout)

        _ = loop.run()
        let leftOpen = loop.close()
        if leftOpen != 0 {
            FileHandle.standardError.write(Data("tributary: \(leftOpen) handles were still open at exit\n".utf8))
            return 1
        }
        print("tributary: stopped cleanly")
        return 0
    }

    /// Idle keep-alive connections and SSE subscribers each hold a descriptor; lift the
    /// soft limit to the hard one so the connection cap, not the OS, is what limits them.
    private static func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
