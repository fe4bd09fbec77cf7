import UV

/// Everything an `HTTPServer` can be told. Times are in milliseconds.
public struct HTTPServerConfiguration: @unchecked Sendable {
    /// Addresses to listen on (IPv4 and/or IPv6; port 0 picks a free port).
    public var listen: [SocketAddress] = [SocketAddress(host: "127.0.0.1", port: 8080)]
    /// Open connections above this are answered with a canned 503 and closed.
    public var maxConnections = 10_000
    public var limits = HTTPParserLimits()
    /// The request head must arrive within this time of its first byte (slowloris).
    public var headerTimeout: UInt64 = 10_000
    /// Idle keep-alive connections are closed after this.
    public var idleTimeout: UInt64 = 60_000
    /// A request body must be complete within this time of its head (slow-body defence; 408).
    public var bodyTimeout: UInt64 = 30_000
    /// How long `shutdown` lets in-flight requests finish before closing everything.
    public var shutdownGrace: UInt64 = 10_000
    /// Stop reading from a connection while more response bytes than this are queued…
    public var writeHighWater = 1 << 20
    /// …and resume at or below this.
    public var writeLowWater = 256 << 10
    /// Most pipelined requests of one connection answered concurrently.
    public var maxPipelinedRequests = 64
    public var backlog: Int32 = 1024
    /// `Retry-After` seconds on the over-capacity 503.
    public var retryAfterSeconds = 1
    /// What every request passes through before its route's handler (and its groups'
    /// middleware), matched or not, the first outermost: the place for cross-cutting steps
    /// such as CORS headers, access control or a listener that serves only some routes. The
    /// transport holds no policy: what is allowed is entirely the middleware's business.
    public var middleware: [HTTPMiddleware] = []
    /// Sees every exchange as it is answered: the place for access logs and request ids.
    public var observer: ExchangeObserver?

    public init(listen: [SocketAddress] = [SocketAddress(host: "127.0.0.1", port: 8080)]) {
        self.listen = listen
    }

    var connectionSettings: HTTPConnectionSettings {
        HTTPConnectionSettings(limits: limits, headerTimeout: headerTimeout, idleTimeout: idleTimeout, bodyTimeout: bodyTimeout,
                               writeHighWater: writeHighWater, writeLowWater: max(0, min(writeLowWater, writeHighWater)),
                               maxPipelined: max(1, maxPipelinedRequests))
    }
}

/// An HTTP/1.1 server on one `EventLoop`. Loop-confined: create, start and shut it
/// down on the loop thread.
///
/// Lifecycle: `start()` binds and listens; `shutdown(completion:)` stops accepting,
/// lets in-flight requests finish (bounded by `shutdownGrace`), closes idle and
/// streaming connections, then every handle it owns, and calls `completion` — after
/// which the server holds no libuv handle, so the loop can end with zero handles.
public final class HTTPServer {
    public let loop: EventLoop
    public let configuration: HTTPServerConfiguration
    public let router: Router
    public let metrics: HTTPMetrics?

    private var listeners: [TCPListener] = []
    private var connections: [HTTPConnection] = []
    private var activeCount = 0
    private var sweepTimer: LoopTimer?
    private var graceTimer: LoopTimer?
    private var dateCache: HTTPDateCache
    private var state = State.idle
    private var shutdownCompletions: [() -> Void] = []
    private let overCapacity: HTTPResponse

    private enum State { case idle, running, draining, stopped }

    /// - Parameter clock: wall-clock epoch seconds for the `Date` header (injectable for tests).
    public init(loop: EventLoop, configuration: HTTPServerConfiguration, router: Router,
                metrics: HTTPMetrics? = nil, clock: (() -> Int)? = nil) {
        self.loop = loop
        self.configuration = configuration
        self.router = router
        self.metrics = metrics
        self.dateCache = clock.map { HTTPDateCache(clock: $0) } ?? HTTPDateCache()
        var problem = Problem(status: 503, detail: "The server is at its connection limit; retry shortly.")
        problem.headers.add(name: "Retry-After", value: String(configuration.retryAfterSeconds))
        overCapacity = problem.response
    }

    /// Binds every configured address and starts accepting. Returns the bound
    /// addresses (with real ports when 0 was asked). On error nothing stays open.
    @discardableResult
    public func start() throws -> [SocketAddress] {
        precondition(state == .idle, "start() called twice")
        var bound: [SocketAddress] = []
        do {
            for address in configuration.listen {
                let listener = try TCPListener(loop: loop, address: address)
                listeners.append(listener)
                // Strong captures: a running server keeps itself alive until `shutdown` closes these handles.
                try listener.listen(backlog: configuration.backlog) { tcp in self.accepted(tcp) }
                bound.append(listener.localAddress ?? address)
            }
        } catch {
            for l in listeners { l.close() }
            listeners = []
            state = .stopped
            throw error
        }
        let sweep = LoopTimer(loop: loop)
        let interval = max(50, min(1_000, min(configuration.headerTimeout, configuration.idleTimeout, configuration.bodyTimeout) / 4))
        sweep.start(timeout: interval, repeat: interval) { self.sweep() }
        // The sweep alone must not keep the loop alive.
        sweep.unref()
        sweepTimer = sweep
        state = .running
        return bound
    }

    /// Open connections (excluding ones being refused with 503).
    public var openConnections: Int { activeCount }

    /// Response bytes queued on all connections but not yet taken by the kernel.
    public var pendingWriteBytes: Int { connections.reduce(0) { $0 + $1.pendingWriteBytes } }

    private func accepted(_ tcp: TCPConnection) {
        guard state == .running else { tcp.close(); return }
        let reject = activeCount >= configuration.maxConnections
        var canned: [UInt8]? = nil
        if reject {
            var bytes: [UInt8] = []
            HTTPResponseSerializer.serialize(overCapacity, into: &bytes, dateLine: dateLine(), close: true,
                                             keepAlive10: false, headRequest: false)
            canned = bytes
        }
        let connection = HTTPConnection(tcp: tcp, server: self, settings: configuration.connectionSettings,
                                        rejectWith: canned)
        connection.listIndex = connections.count
        connections.append(connection)
        if reject {
            metrics?.rejectedConnections.increment()
        } else {
            activeCount += 1
            metrics?.openConnections.add(1)   // shared by every server of the process
        }
        connection.start()
    }

    func connectionClosed(_ connection: HTTPConnection) {
        let i = connection.listIndex
        guard i >= 0, i < connections.count, connections[i] === connection else { return }
        let last = connections.removeLast()
        if i < connections.count {
            connections[i] = last
            last.listIndex = i
        }
        connection.listIndex = -1
        if !connection.isRejected {
            activeCount -= 1
            metrics?.openConnections.add(-1)
        }
        if state == .draining { finishShutdownIfDone() }
    }

    func dateLine() -> [UInt8] { dateCache.current() }

    private func sweep() {
        let now = loop.now
        // Iterate over a copy: ticks may close (and remove) connections.
        for connection in connections { connection.tick(now: now) }
    }

    /// Routes and runs the handler for one request, behind the server's middleware.
    func dispatch(_ request: HTTPRequest, sequence: Int, on connection: HTTPConnection) {
        let method = request.head.method
        let context: RequestContext
        switch router.match(method: method, path: request.head.path) {
        case .success(let (route, parameters)):
            context = RequestContext(request: request, parameters: parameters, route: route, loop: loop)
        case .failure(let error):
            context = RequestContext(request: request, parameters: PathParameters(), route: nil, routingError: error, loop: loop)
        }
        let responder = Responder(sink: connection, sequence: sequence, method: method, routeName: context.routeName, metrics: metrics,
                                  series: context.route?.series, observer: configuration.observer, head: request.head)
        handle(context, responder)
    }

    /// The server's middleware, then the route's handler (or the routing error as a problem).
    /// `OPTIONS *` (asterisk-form) asks about the server as a whole: 204 with every method
    /// some route takes.
    private lazy var handle: HTTPHandler = configuration.middleware.wrapping { [router] context, responder in
        if let route = context.route { return route.handler(context, responder) }
        if context.head.target == "*" {
            var methods = Set(router.routes.map { $0.method }).union(["OPTIONS"])
            if methods.contains("GET") { methods.insert("HEAD") }
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: methods.sorted().joined(separator: ", "))
            return responder.respond(HTTPResponse(status: 204, headers: headers))
        }
        var problem = Problem.from(context.routingError ?? RoutingError.notFound(path: String(context.head.path)))
        if case .notFound? = context.routingError { problem.instance = String(context.head.path) }
        responder.respond(problem.response)
    }

    /// Graceful shutdown (idempotent; every completion is called once, on the loop):
    /// stop accepting, close idle connections, end streams, let in-flight requests
    /// answer (their responses carry `Connection: close`), force-close whatever is
    /// left after `shutdownGrace`, and close the server's timers and listeners.
    public func shutdown(completion: (() -> Void)? = nil) {
        if let completion { shutdownCompletions.append(completion) }
        switch state {
        case .idle, .stopped:
            state = .stopped
            let done = shutdownCompletions
            shutdownCompletions = []
            for c in done { c() }
            return
        case .draining:
            return
        case .running:
            break
        }
        state = .draining
        for l in listeners { l.close() }
        listeners = []
        for connection in connections { connection.drain() }
        if !connections.isEmpty {
            let grace = LoopTimer(loop: loop)
            grace.start(timeout: configuration.shutdownGrace) {
                for connection in self.connections { connection.closeNow(reason: .serverShutdown) }
            }
            graceTimer = grace
        }
        finishShutdownIfDone()
    }

    private func finishShutdownIfDone() {
        guard state == .draining, connections.isEmpty else { return }
        state = .stopped
        graceTimer?.close()
        graceTimer = nil
        sweepTimer?.close()
        sweepTimer = nil
        // Run completions on a later loop turn, after the timers' close callbacks.
        let done = shutdownCompletions
        shutdownCompletions = []
        let finisher = LoopTimer(loop: loop)
        finisher.start(timeout: 0) {
            finisher.close { for c in done { c() } }
        }
    }
}
