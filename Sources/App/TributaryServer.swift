import API
import CQRS
import EventStore
import Foundation
import HTTP
import LiveFeeds
import Logging
import Metrics
import PostgresStore
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
    private var liveFeeds: LiveFeeds?
    private var tracer: CorrelationTracer?
    private var shuttingDown = false
    /// What this process is, and whether it writes now (`--role`).
    public private(set) var role = ProcessRole.single
    /// A service's process: the lease that makes it that service's one writer.
    private var lease: PostgresWriterLease?
    /// What happens when the lease is lost: the process exits (`run`); tests may watch instead.
    var onLeaseLost: (String) -> Void = { _ in exit(TributaryServer.leaseLostExitCode) }
    /// The exit status of a process that lost its writer lease (EX_TEMPFAIL): start it again.
    public static let leaseLostExitCode: Int32 = 75

    public init(configuration: AppConfiguration, loop: EventLoop) {
        self.configuration = configuration
        self.loop = loop
    }

    /// Opens the stores and starts listening; returns the bound addresses.
    /// On error nothing stays open.
    @discardableResult
    public func start() throws -> [SocketAddress] {
        let httpConfigs = try configuration.httpConfigurations()
        try configuration.liveFeeds.validate()
        let leaseDatabase = try configuration.splitRoleDatabase()
        let role = configuration.role.makeProcessRole()
        self.role = role
        let executor = LoopExecutor(loop: loop)
        let stores = try StoreSet(locations: configuration.resolvedStoreLocations, durability: configuration.durability,
                                  loop: loop, executor: executor, log: configuration.log, readOnly: !configuration.role.writes)
        let services: Services
        do {
            services = try Services(stores: stores, executor: executor, scheduler: LoopScheduler(loop: loop),
                                    logger: configuration.logger, progress: configuration.progress,
                                    snapshotEvery: configuration.snapshotEvery > 0 ? configuration.snapshotEvery : nil,
                                    snapshotMinInterval: configuration.snapshotMinInterval,
                                    backgroundReplayAfter: configuration.backgroundReplayAfter,
                                    hosted: configuration.role.services, writes: configuration.role == .all)
        } catch {
            stores.close()
            throw error
        }
        let publicLog = stores["public"]!
        let registry = MetricsRegistry()
        let router = Router()
        // The route table: every route in a group declaring its API side and scope.
        let groups = APIGroups(router: router, admission: CommandAdmission(limit: configuration.maxQueuedCommands, registry: registry, role: role))
        // Correlation id -> events, per store: the console's saga traces.
        let tracer = CorrelationTracer(stores: stores.named, executor: executor, scheduler: LoopScheduler(loop: loop),
                                       logger: configuration.logger)
        APIRoutes.install(groups, services: services.apis, stores: stores.named, publicLog: publicLog,
                          running: { [weak self] in self?.services?.all }, registry: registry, tokens: configuration.tokens,
                          sessions: configuration.consoleSessions, tracer: tracer, role: role)
        let liveFeeds = LiveFeeds(settings: configuration.liveFeeds, loop: loop, executor: executor, publicLog: publicLog, metrics: registry)
        liveFeeds.install(on: groups.streams, services: services.apis)
        liveFeeds.installHealth(on: groups.adminStreams,
                                document: HealthDocument(stores: stores.named, services: { [weak self] in self?.services?.all }, role: role))
        let cors = CORSPolicy(origins: configuration.corsOrigins)
        if cors.isEnabled { CORSMiddleware(policy: cors).installPreflight(on: router) }
        // One router, one server per group of listen addresses (the API split is each server's
        // middleware); the HTTP metrics are shared.
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
            self.liveFeeds = liveFeeds
            liveFeeds.start()
            switch configuration.role {
            case .all: try services.start()
            case .service(let name): takeLease(name, database: leaseDatabase!, services: services)
            case .query: break   // read models only, started with the services
            }
            tracer.start()
            self.tracer = tracer
            self.services = services
            listeners = bound
            // From here on the loop only serves: it must never wait on the disk (debug builds
            // trap on a file system call made on it; the store's threads do the I/O).
            NonBlockingThread.markCurrent()
            return bound.map { $0.address }
        } catch {
            liveFeeds.close()
            self.liveFeeds = nil
            services.stop()
            for server in self.http { server.shutdown() }
            stores.close()
            self.stores = nil
            self.http = []
            throw error
        }
    }

    /// A service's process: waits for the service's writer lease as a hot standby (its read
    /// models serve queries, commands get 503), then scans the store and takes commands. A
    /// lost lease ends the process (`onLeaseLost`): a second writer must never appear, and a
    /// supervisor starts it again as a standby.
    private func takeLease(_ name: String, database: String, services: Services) {
        let log = configuration.log
        let lease = PostgresWriterLease(loop: loop, url: database, name: name, retryInterval: configuration.leaseRetryInterval)
        self.lease = lease
        log.notice("standby: waiting for the \(name) writer lease (advisory lock \(lease.key))", metadata: ["role": "\(name)"])
        lease.start(acquired: { [weak self] in
            guard let self, !shuttingDown else { return }
            log.notice("took the \(name) writer lease: scanning the store, then taking commands", metadata: ["role": "\(name)"])
            services.becomeWriter { [weak self] error in
                guard let self, !shuttingDown else { return }
                if let error {
                    log.critical("cannot take over as the \(name) writer: \(error); exiting, to start again as a standby")
                    return onLeaseLost("\(error)")
                }
                role.becameLeader()
                log.notice("writer: taking \(name) commands", metadata: ["role": "\(name)"])
            }
        }, lost: { [weak self] reason in
            guard let self, !shuttingDown else { return }
            log.critical("lost the \(name) writer lease (\(reason)); exiting so that no second writer can appear")
            onLeaseLost(reason)
        })
    }

    /// Stops accepting, lets in-flight requests finish (bounded by the grace period),
    /// closes every connection and the stores, then calls `completion` on the loop.
    public func shutdown(completion: (() -> Void)? = nil) {
        guard !shuttingDown else { return }
        shuttingDown = true
        let finish = { [self] in
            // Shutting down: the final snapshots are waited for and the stores close (index
            // checkpoints, fsync) right here, on the loop, which serves nothing any more.
            NonBlockingThread.unmarkCurrent()
            lease?.close()
            lease = nil
            tracer?.stop()
            tracer = nil
            services?.stop()
            services = nil
            stores?.close()
            stores = nil
            completion?()
        }
        // Live feeds first: they end cleanly (queued events flushed) while the server drains.
        liveFeeds?.close()
        liveFeeds = nil
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
        System.raiseOpenFileLimit()
        let log = configuration.log
        let loop = EventLoop()
        let server = TributaryServer(configuration: configuration, loop: loop)
        try server.start()
        // Signal watchers before the banner: a supervisor may send SIGTERM as soon as it sees "listening".
        var watchers: [SignalWatcher] = []
        let onSignal: (Int32) -> Void = { signal in
            log.notice("signal \(signal), shutting down (grace \(configuration.shutdownGrace)s)")
            server.shutdown {
                for w in watchers { w.close() }
            }
        }
        watchers = [try SignalWatcher(loop: loop, signal: SIGINT, handler: onSignal),
                    try SignalWatcher(loop: loop, signal: SIGTERM, handler: onSignal)]
        log.notice("libuv \(libuvVersion), \(configuration.storesBanner)")
        if configuration.isDevelopmentMode {
            log.notice("development mode: no authentication, loopback only (configure --tokens-file or TRIBUTARY_TOKENS to require API tokens)")
        } else {
            log.notice("authentication: bearer API tokens required (\(configuration.tokens.count) configured); /health, /ready, /metrics, /openapi/* are open")
        }
        // The line supervisors and the tests wait for: the port is accepting.
        let split = server.listeners.contains { $0.apis != .all }
        for l in server.listeners {
            log.notice("listening on http://\(l.address)\(split ? " (\(l.apis))" : "")", metadata: ["address": "\(l.address)", "apis": "\(l.apis)"])
        }

        _ = loop.run()
        let leftOpen = loop.close()
        if leftOpen != 0 {
            log.error("\(leftOpen) handles were still open at exit")
            return 1
        }
        log.notice("stopped cleanly")
        return 0
    }
}
