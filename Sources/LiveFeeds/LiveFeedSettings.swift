import API
import Foundation

/// Settings of the server-sent-event feeds (`/streams/...`). Times in seconds unless named.
public struct LiveFeedSettings: Sendable {
    /// A `:` comment goes to a subscriber that has been sent nothing for this long (0: never).
    public var heartbeatSeconds = 15.0
    /// Sent once as `retry:`: how long a client waits before reconnecting, in milliseconds.
    public var retryMilliseconds = 2_000
    /// Open SSE subscribers (all streams together); more get 503 + `Retry-After`.
    public var maxSubscribers = 10_000
    /// A stream is closed after this long (the client resumes with `Last-Event-ID`), minus a
    /// random part of up to `lifetimeJitter` of it, so clients do not reconnect in lock step.
    /// 0: unlimited.
    public var maxLifetimeSeconds = 3_600.0
    public var lifetimeJitter = 0.2
    /// Per-subscriber bound on bytes written but not yet taken by the kernel; over it the
    /// subscriber is disconnected as too slow.
    public var maxBufferedBytes = 64 << 10
    /// Per-subscriber bound on events written but not yet taken by the kernel (counted since
    /// the buffer was last empty); over it the subscriber is disconnected as too slow.
    public var maxBufferedEvents = 1_024
    /// Most milliseconds live public events wait to be fanned out in a batch (one write per
    /// subscriber per batch). The delay used grows with the subscriber count (about 1 ms per
    /// 70 subscribers per fan-out thread, the feed's write budget: 1,000 subscribers on 2
    /// threads → 8 ms, 10,000 → 72 ms), up to this cap; an
    /// event arriving after a quiet period goes out at once. 0: one batch per loop wake-up.
    public var flushIntervalMilliseconds = 200.0
    /// Threads that write a public-event batch to the subscribers' sockets (the loop's own
    /// among them, which waits meanwhile). The kernel's TCP work dominates a fan-out, so
    /// more threads shorten it; the batching delay above shrinks in proportion. Default:
    /// one per core, at most 8.
    public var fanOutThreads = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))
    /// Most ids (or types) one stream may select.
    public var maxSelections = 100

    public init() {}

    /// Fan-out threads that can run at once (no more than the cores): what the batching
    /// delay is sized for.
    public var effectiveFanOutThreads: Int { max(1, min(fanOutThreads, ProcessInfo.processInfo.activeProcessorCount)) }

    var heartbeatMillis: UInt64 { UInt64((max(0, heartbeatSeconds) * 1000).rounded()) }
    var lifetimeMillis: UInt64 { UInt64((max(0, maxLifetimeSeconds) * 1000).rounded()) }

    /// Refuses settings that cannot work; the message names the option.
    public func validate() throws {
        guard heartbeatSeconds >= 0, maxLifetimeSeconds >= 0, (0...1).contains(lifetimeJitter) else {
            throw ConfigurationError("SSE heartbeat and lifetime must be ≥ 0, jitter within 0…1")
        }
        guard retryMilliseconds >= 0, maxSubscribers > 0, maxBufferedBytes > 0, maxBufferedEvents > 0,
              flushIntervalMilliseconds >= 0, maxSelections > 0 else {
            throw ConfigurationError("SSE limits must be positive")
        }
        guard (1...64).contains(fanOutThreads) else {
            throw ConfigurationError("--sse-fan-out-threads must be between 1 and 64")
        }
    }
}
