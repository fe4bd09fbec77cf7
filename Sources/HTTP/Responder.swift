import UV

/// What a handler gets to read: the request, its path parameters and the route.
public struct RequestContext {
    public let request: HTTPRequest
    /// Percent-decoded `{name}` captures.
    public let parameters: PathParameters
    /// The matched route, nil when routing failed (`routingError` says why): server middleware
    /// sees unmatched requests too.
    public let route: Route?
    /// Why no route matched (404, 405, a malformed path), when `route` is nil.
    public let routingError: RoutingError?
    /// The loop the request is served on (for timers, `execute`, etc.).
    public let loop: EventLoop

    public init(request: HTTPRequest, parameters: PathParameters, route: Route?, routingError: RoutingError? = nil, loop: EventLoop) {
        self.request = request
        self.parameters = parameters
        self.route = route
        self.routingError = routingError
        self.loop = loop
    }

    /// The matched route's stable name (the pattern), e.g. for metrics and logs; `unmatched`.
    public var routeName: String { route?.name ?? "unmatched" }

    public var head: HTTPRequestHead { request.head }
    /// The query string parsed with percent-decoding and `+` as space.
    public var query: QueryParameters { QueryParameters(parsing: request.head.query) }
}

/// Sees each exchange of a server as it is answered, after the middleware's decorators and
/// just before the response (or stream head) is sent, so it may still add a header.
/// Configured once per server (`HTTPServerConfiguration.observer`): unlike a middleware's
/// decorator, it costs a request no allocation, which matters for an access log that runs on
/// every request.
public protocol ExchangeObserver: AnyObject {
    /// `elapsedNanos`: since the request's head was parsed.
    func answering(_ request: HTTPRequestHead, route: String, response: inout HTTPResponse, elapsedNanos: UInt64)
}

/// The connection side of an exchange, as seen by `Responder` and `ResponseStream`.
protocol ExchangeSink: AnyObject {
    func complete(sequence: Int, response: HTTPResponse)
    func startStream(sequence: Int, head: HTTPResponse, stream: ResponseStream) -> Bool
    func streamWrite(sequence: Int, bytes: [UInt8])
    func streamFinish(sequence: Int)
    /// A writer that puts `bytes` on the socket while the loop waits (fan-out), or nil when
    /// they must be written the ordinary way (head not out yet, bytes queued, closing).
    func streamFanOutWriter(sequence: Int, bytes: [UInt8]) -> FanOutWrite?
    /// Back on the loop: the fan-out write of `bytes` took `written` of them (-1: it failed);
    /// the rest goes the ordinary way.
    func streamFanOutWritten(sequence: Int, bytes: [UInt8], written: Int)
    var pendingWriteBytes: Int { get }
    /// Closes the connection at once, reporting `reason` to the stream.
    func abortStream(reason: ResponseStream.CloseReason)
}

/// Answers one request, exactly once, synchronously or later — always on the loop.
///
/// Responses go out strictly in request order: answering request 2 before request 1
/// holds 2 back until 1 is answered. Calls after the first answer are ignored (and
/// assert in debug builds); calls after the connection closed are ignored.
public final class Responder {
    weak var sink: ExchangeSink?
    let sequence: Int
    let method: String
    /// The matched route's stable name.
    public let routeName: String
    let startNanos: UInt64
    let metrics: HTTPMetrics?
    /// The matched route's series (nil: unmatched, recorded by name).
    let series: RouteSeries?
    public private(set) var hasResponded = false
    /// Applied, in order, to the response or stream head of this exchange just before it is sent.
    private var decorators: [(inout HTTPResponse) -> Void] = []
    /// Told the status once the exchange is answered (response or stream head).
    private var observers: [(Int) -> Void] = []
    private var answeredStatus: Int?
    /// The server's observer and the request it is told about (nil without an observer).
    private let observer: ExchangeObserver?
    private let observedHead: HTTPRequestHead?

    init(sink: ExchangeSink?, sequence: Int, method: String, routeName: String,
         startNanos: UInt64 = EventLoop.hrtime, metrics: HTTPMetrics? = nil, series: RouteSeries? = nil,
         observer: ExchangeObserver? = nil, head: HTTPRequestHead? = nil) {
        self.sink = sink
        self.sequence = sequence
        self.method = method
        self.routeName = routeName
        self.startNanos = startNanos
        self.metrics = metrics
        self.series = series
        self.observer = observer
        observedHead = observer == nil ? nil : head
    }

    /// The decorators, then the observer.
    private func finalize(_ response: inout HTTPResponse) {
        for d in decorators { d(&response) }
        if let observer, let observedHead {
            observer.answering(observedHead, route: routeName, response: &response, elapsedNanos: EventLoop.hrtime &- startNanos)
        }
    }

    private func record(_ status: Int) {
        if let metrics {
            let seconds = Double(EventLoop.hrtime &- startNanos) / 1e9
            if let series {
                metrics.record(route: routeName, series: series, method: method, status: status, seconds: seconds)
            } else {
                metrics.record(route: routeName, method: method, status: status, seconds: seconds)
            }
        }
        answeredStatus = status
        let told = observers
        observers = []
        for o in told { o(status) }
    }

    /// Middleware: edit the response (or stream head) of this exchange just before it is sent,
    /// e.g. to add CORS headers. Decorators run in the order they were added.
    public func decorate(_ decorator: @escaping (inout HTTPResponse) -> Void) { decorators.append(decorator) }

    /// Middleware: be told the status once this exchange is answered (e.g. to give back an
    /// admission slot). Runs at once if it has been answered already.
    public func whenAnswered(_ observer: @escaping (Int) -> Void) {
        if let answeredStatus { observer(answeredStatus) } else { observers.append(observer) }
    }

    /// Whether the client is still connected (a response could still be delivered).
    public var isConnectionOpen: Bool { sink != nil }

    /// Sends `response` (in request order). `Content-Length`, `Date`, `Server` and
    /// `Connection` are set by the connection.
    public func respond(_ response: HTTPResponse) {
        guard !hasResponded else { assertionFailure("respond called twice"); return }
        hasResponded = true
        var response = response
        finalize(&response)
        record(response.status)
        sink?.complete(sequence: sequence, response: response)
    }

    /// Answers with the problem+json form of `error` (see `Problem.from(_:)`).
    public func respond(error: Error) {
        respond(Problem.from(error).response)
    }

    /// Turns this exchange into a long-lived stream: `head` is sent without
    /// `Content-Length` (the body ends when the connection closes) and every
    /// `ResponseStream.write` goes out as it comes. The connection then serves no
    /// further requests. `onClose` runs once when the stream ends for any reason
    /// (client gone, server shutdown, `finish()`). Returns nil if the connection is gone.
    public func startStream(_ head: HTTPResponse, onClose: ((ResponseStream.CloseReason) -> Void)? = nil) -> ResponseStream? {
        guard !hasResponded else { assertionFailure("startStream after respond"); return nil }
        hasResponded = true
        var head = head
        finalize(&head)
        record(head.status)
        guard let sink else { return nil }
        let stream = ResponseStream(sink: sink, sequence: sequence, onClose: onClose)
        guard sink.startStream(sequence: sequence, head: head, stream: stream) else { return nil }
        return stream
    }
}

/// The body side of a streaming response (e.g. SSE). Loop-confined.
public final class ResponseStream {
    /// Why a stream ended.
    public enum CloseReason: Sendable, Equatable {
        /// `finish()` was called.
        case finished
        /// The client closed the connection or it failed.
        case clientGone
        /// The server is shutting down.
        case serverShutdown
        /// The client read too slowly: more than `maxPendingBytes` piled up unsent.
        case tooSlow
    }

    weak var sink: ExchangeSink?
    let sequence: Int
    private var onClose: ((CloseReason) -> Void)?
    public private(set) var isOpen = true

    init(sink: ExchangeSink, sequence: Int, onClose: ((CloseReason) -> Void)?) {
        self.sink = sink
        self.sequence = sequence
        self.onClose = onClose
    }

    /// Queues `bytes` on the connection (ignored once closed).
    public func write(_ bytes: [UInt8]) {
        guard isOpen else { return }
        sink?.streamWrite(sequence: sequence, bytes: bytes)
        if isOpen, let sink, sink.pendingWriteBytes > maxPendingBytes { sink.abortStream(reason: .tooSlow) }
    }

    /// A stream whose unsent bytes exceed this is closed with `.tooSlow` (a client that
    /// stops reading must not make the server buffer without bound). Default 4 MiB.
    public var maxPendingBytes = 4 << 20

    /// Bytes written but not yet accepted by the kernel: a slow consumer shows here.
    /// Closes the stream at once with `reason` (e.g. `.tooSlow` for a subscriber over its
    /// own limits); queued bytes are dropped. `onClose` runs as for any other end.
    public func abort(reason: CloseReason) {
        guard isOpen else { return }
        sink?.abortStream(reason: reason)
    }

    public var pendingBytes: Int { sink?.pendingWriteBytes ?? 0 }

    /// Writes `bytes` to each stream directly, the socket writes spread over `threads` threads
    /// while the loop thread waits (`SocketFanOut`): one syscall per stream instead of a copy
    /// into its output buffer and a pump. What the kernel did not take is queued like a
    /// `write`, with the same slow-consumer bound. Result `i` is false when stream `i` could not
    /// be written that way (closed or finished, its head or an earlier answer not out yet,
    /// bytes already queued): write those the ordinary way. Call on the loop thread.
    public static func fanOut(_ items: [(stream: ResponseStream, bytes: [UInt8])], threads: Int) -> [Bool] {
        var direct: [Int] = []
        var writes: [FanOutWrite] = []
        direct.reserveCapacity(items.count)
        writes.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard !item.bytes.isEmpty, let w = item.stream.fanOutWriter(for: item.bytes) else { continue }
            direct.append(i)
            writes.append(w)
        }
        let written = SocketFanOut.write(writes, threads: threads)
        var handled = [Bool](repeating: false, count: items.count)
        for (k, i) in direct.enumerated() {
            handled[i] = true
            items[i].stream.fanOutWritten(writes[k], result: written[k])
        }
        return handled
    }

    /// A writer for `bytes` that may run on another thread while the loop waits for it, or
    /// nil: then use `write`.
    func fanOutWriter(for bytes: [UInt8]) -> FanOutWrite? {
        guard isOpen else { return nil }
        return sink?.streamFanOutWriter(sequence: sequence, bytes: bytes)
    }

    /// What the kernel did not take of a fan-out write is queued like a `write`.
    func fanOutWritten(_ write: FanOutWrite, result written: Int) {
        guard isOpen else { return }
        sink?.streamFanOutWritten(sequence: sequence, bytes: write.bytes, written: written)
        if isOpen, let sink, sink.pendingWriteBytes > maxPendingBytes { sink.abortStream(reason: .tooSlow) }
    }

    /// Ends the stream and closes the connection after the queued bytes.
    public func finish() {
        guard isOpen else { return }
        sink?.streamFinish(sequence: sequence)
        closed(.finished)
    }

    /// Called by the connection (or `finish`) exactly once.
    func closed(_ reason: CloseReason) {
        guard isOpen else { return }
        isOpen = false
        let callback = onClose
        onClose = nil
        callback?(reason)
    }
}
