import API
import EventStore
import Foundation
import HTTP
import Metrics
import UV

/// One SSE subscriber: a `ResponseStream` plus the bookkeeping every feed kind shares
/// (buffer bounds, heartbeat, lifetime). Loop-confined. Kept small: 10,000 of them must fit
/// in a few MiB.
final class Subscriber {
    let stream: ResponseStream
    let kind: FeedKind
    unowned let registry: SubscriberRegistry
    /// Position in the registry's list (O(1) removal).
    fileprivate var index = -1
    /// Loop time of the last write (heartbeats go to quiet subscribers only).
    fileprivate var lastWriteAt: UInt64
    fileprivate let expiresAt: UInt64
    /// Events written since the outbound buffer was last seen empty: an upper bound on the
    /// events not yet taken by the kernel.
    private var unsentEvents = 0
    /// Detaches the subscriber from its feed; called once when the stream ends.
    var onEnd: (() -> Void)?

    fileprivate init(stream: ResponseStream, kind: FeedKind, registry: SubscriberRegistry, now: UInt64, expiresAt: UInt64) {
        self.stream = stream
        self.kind = kind
        self.registry = registry
        self.lastWriteAt = now
        self.expiresAt = expiresAt
    }

    var isOpen: Bool { stream.isOpen }
    /// Bytes written but not yet accepted by the kernel.
    var pendingBytes: Int { stream.pendingBytes }

    /// Writes `bytes` holding `events` events. Over the subscriber's event or byte bound the
    /// connection is closed at once as too slow (the client resumes from its last id).
    /// Returns whether the stream is still open.
    @discardableResult
    func send(_ bytes: [UInt8], events: Int = 0) -> Bool {
        guard stream.isOpen, !bytes.isEmpty else { return stream.isOpen }
        if events > 0 {
            if stream.pendingBytes == 0 { unsentEvents = 0 }
            unsentEvents += events
            if unsentEvents > registry.settings.maxBufferedEvents && stream.pendingBytes > 0 {
                stream.abort(reason: .tooSlow)
                return false
            }
        }
        stream.write(bytes) // closes with `.tooSlow` beyond `maxPendingBytes`
        lastWriteAt = registry.loop.now
        if events > 0 { registry.eventsSent.increment(by: Double(events)) }
        return stream.isOpen
    }

    /// Ends the stream after the queued bytes.
    func finish() { stream.finish() }

    /// After a direct fan-out write (`ResponseStream.fanOut`): the bookkeeping of `send`.
    /// With nothing queued before it, the event bound cannot trip.
    fileprivate func fannedOut(events: Int) {
        guard stream.isOpen else { return }
        unsentEvents = events
        lastWriteAt = registry.loop.now
        if events > 0 { registry.eventsSent.increment(by: Double(events)) }
    }
}

/// One subscriber's share of a fan-out: `bytes` holding `events` events.
struct Delivery {
    let subscriber: Subscriber
    let bytes: [UInt8]
    let events: Int
}

/// The kinds of stream, for the subscriber gauge.
enum FeedKind: String, CaseIterable {
    case publicLog = "public"
    case document
    case list
    case stats
    case health
}

/// Every open SSE subscriber: the subscriber cap, heartbeats and lifetimes (one shared timer,
/// not one per subscriber), metrics, and closing everything on shutdown. Loop-confined.
final class SubscriberRegistry {
    let settings: LiveFeedSettings
    let loop: EventLoop
    private var subscribers: [Subscriber] = []
    private var timer: LoopTimer?
    private var closed = false
    private let gauge: Gauge
    let slowDisconnects: Counter.Child
    let rejected: Counter.Child
    let lifetimeEnds: Counter.Child
    let eventsSent: Counter.Child
    /// From a public event's commit to its batch being handed to the writers (live events).
    let deliveryDelay: Histogram.Series
    /// Randomness for lifetime jitter (injectable for tests).
    var random: () -> Double = { var g = RandomWords.Generator(); return Double.random(in: 0..<1, using: &g) }

    init(settings: LiveFeedSettings, loop: EventLoop, metrics: MetricsRegistry) {
        self.settings = settings
        self.loop = loop
        gauge = metrics.gauge("tributary_sse_subscribers", help: "Open server-sent-event subscribers, by stream kind.",
                              labelNames: ["kind"])
        for k in FeedKind.allCases { gauge.set(0, [k.rawValue]) }
        slowDisconnects = metrics.counter("tributary_sse_slow_consumer_disconnects_total",
                                          help: "SSE subscribers disconnected because their outbound buffer overflowed.").child()
        rejected = metrics.counter("tributary_sse_rejected_total",
                                   help: "SSE requests refused with 503 at the subscriber cap.").child()
        lifetimeEnds = metrics.counter("tributary_sse_lifetime_disconnects_total",
                                       help: "SSE streams closed at their maximum lifetime.").child()
        eventsSent = metrics.counter("tributary_sse_events_sent_total", help: "SSE events written to subscribers.").child()
        deliveryDelay = metrics.histogram("tributary_sse_delivery_delay_seconds",
                                          help: "From a public event's commit to its batch being handed to the SSE writers (live subscribers).").child()
    }

    var count: Int { subscribers.count }

    /// Sends every delivery, the socket writes spread over `settings.fanOutThreads` threads
    /// while the loop waits (`SocketFanOut`); subscribers with bytes still queued get theirs
    /// the ordinary way, after them. Same bounds and metrics as `Subscriber.send`.
    func fanOut(_ deliveries: [Delivery]) {
        let handled = ResponseStream.fanOut(deliveries.map { ($0.subscriber.stream, $0.bytes) }, threads: settings.fanOutThreads)
        for (d, direct) in zip(deliveries, handled) where direct { d.subscriber.fannedOut(events: d.events) }
        for (d, direct) in zip(deliveries, handled) where !direct { d.subscriber.send(d.bytes, events: d.events) }
    }

    /// Starts an SSE response for `responder`: checks the cap (503 + `Retry-After` over it),
    /// sends the head (CORS headers included), `:ok` and `retry:`. Returns nil if refused or
    /// the client is gone. `onEnd` of the result runs once when the stream ends.
    func open(_ context: RequestContext, _ responder: Responder, kind: FeedKind) -> Subscriber? {
        guard !closed, subscribers.count < settings.maxSubscribers else {
            rejected.increment()
            var problem = Problem(status: 503, type: ProblemType.uri("too-many-subscribers"), title: "Too many subscribers",
                                  detail: "The server is at its limit of \(settings.maxSubscribers) event-stream subscribers; retry shortly.")
            problem.headers.add(name: "Retry-After", value: String(1 + Int(random() * 5)))
            responder.respond(problem.response)
            return nil
        }
        var subscriber: Subscriber?
        let head = SSE.responseHead()
        guard let stream = responder.startStream(head, onClose: { [weak self] reason in
            guard let self, let s = subscriber else { return }
            subscriber = nil // breaks the stream → closure → subscriber cycle
            self.ended(s, reason: reason)
        }) else { return nil }
        stream.maxPendingBytes = settings.maxBufferedBytes
        let now = loop.now
        let lifetime = settings.lifetimeMillis
        let expires = lifetime == 0 ? UInt64.max : now &+ lifetime &- UInt64(Double(lifetime) * settings.lifetimeJitter * random())
        let s = Subscriber(stream: stream, kind: kind, registry: self, now: now, expiresAt: expires)
        subscriber = s
        s.index = subscribers.count
        subscribers.append(s)
        gauge.add(1, [kind.rawValue])
        startTimerIfNeeded()
        var hello = SSE.initialComment
        hello += Array("retry: \(settings.retryMilliseconds)\n\n".utf8)
        s.send(hello)
        return s.isOpen ? s : nil
    }

    private func ended(_ s: Subscriber, reason: ResponseStream.CloseReason) {
        if reason == .tooSlow { slowDisconnects.increment() }
        let i = s.index
        if i >= 0, i < subscribers.count, subscribers[i] === s {
            let last = subscribers.removeLast()
            if i < subscribers.count { subscribers[i] = last; last.index = i }
            s.index = -1
            gauge.add(-1, [s.kind.rawValue])
        }
        let end = s.onEnd
        s.onEnd = nil
        end?()
    }

    private var tickMillis: UInt64 {
        let hb = settings.heartbeatMillis
        return max(10, min(1_000, hb == 0 ? 1_000 : hb))
    }

    private func startTimerIfNeeded() {
        guard timer == nil, !closed else { return }
        let t = LoopTimer(loop: loop)
        let tick = tickMillis
        t.start(timeout: tick, repeat: tick) { [weak self] in self?.tick() }
        t.unref() // subscribers keep the loop alive through their connections, not this timer
        timer = t
    }

    /// Heartbeats for quiet subscribers, lifetime ends for expired ones.
    private func tick() {
        let now = loop.now
        let heartbeat = settings.heartbeatMillis
        let slack = tickMillis / 2
        let comment: [UInt8] = Array(":\n\n".utf8)
        for s in subscribers { // a copy: closing removes from the list
            if now >= s.expiresAt {
                lifetimeEnds.increment()
                s.finish()
            } else if heartbeat > 0 && now &- s.lastWriteAt + slack >= heartbeat {
                s.send(comment)
            }
        }
    }

    /// Shutdown: ends every stream (after its queued bytes) and closes the timer. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        timer?.close()
        timer = nil
        for s in subscribers { s.finish() }
    }
}
