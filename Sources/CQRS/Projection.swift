import EventStore

/// An in-memory read model fed by a `ProjectionRunner`, in global order, one event at a time.
/// Loop-confined: queries read it on the loop thread between deliveries.
public protocol Projection: AnyObject {
    /// Stable name: identifies its snapshot and appears in logs, /health and /metrics.
    var name: String { get }

    /// Which events `apply` receives (nil: every event outside runtime-internal `$` streams).
    /// Events filtered out still advance the runner's position, so `wait(forPosition:)` works
    /// for any position of the store.
    var filter: EventFilter? { get }

    /// Applies one event, already upcast through the runner's `UpcasterChain`. Throwing stops
    /// the projection (status `.failed` with this event's position); the runner never skips.
    func apply(_ event: RecordedEvent) throws

    /// Version of the snapshot format; snapshots of another version are ignored (full replay).
    var snapshotSchemaVersion: Int { get }

    /// A copy of the read model's state, taken on the loop thread, and the work that encodes it
    /// to bytes, which the runner runs on a background queue so a big model never stalls the
    /// loop. nil: this projection does not snapshot (default). The closure must touch only what
    /// it captured — value-type copies (O(1), copy-on-write) — never the projection itself.
    func captureSnapshot() throws -> SnapshotEncoding?

    /// Replaces the (empty, freshly created) read model with a snapshot's state. If it throws,
    /// the runner replays from the start, so it must leave the model empty when it fails.
    func restore(from bytes: [UInt8]) throws
}

extension Projection {
    public var filter: EventFilter? { nil }
    public var snapshotSchemaVersion: Int { 1 }
    public func captureSnapshot() throws -> SnapshotEncoding? { nil }
    public func restore(from bytes: [UInt8]) throws { throw SnapshotsUnsupported() }
}

/// Encodes a captured read-model state; runs on a background queue (see `captureSnapshot()`).
public typealias SnapshotEncoding = () throws -> [UInt8]

/// Where a projection stands.
public enum ProjectionStatus: Hashable, Sendable, CustomStringConvertible {
    /// Created or restoring its snapshot.
    case starting
    /// Replaying stored events up to the store's position at start.
    case catchingUp
    /// Caught up; applying events as they are committed.
    case live
    /// An event failed; it is tried again after a pause (`FailurePolicy`), `attempt` of the retries.
    case retrying(ProjectionFailure, attempt: Int)
    /// Stopped by an error; `position` is the event that failed.
    case failed(ProjectionFailure)
    /// Stopped by `stop()`.
    case stopped

    public var description: String {
        switch self {
        case .starting: return "starting"
        case .catchingUp: return "catching-up"
        case .live: return "live"
        case .retrying: return "retrying"
        case .failed: return "failed"
        case .stopped: return "stopped"
        }
    }
}

/// Why a projection stopped: the failing event's position, stream and type, and the error.
public struct ProjectionFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var projection: String
    /// Position of the event that could not be applied (0 if the subscription itself failed).
    public var position: LogPosition
    public var stream: String
    public var eventType: String
    public var reason: String
    public var description: String {
        "projection '\(projection)' failed at position \(position) (\(eventType) in \(stream)): \(reason)"
    }
}

/// Startup replay progress, reported while catching up (throttled) and once when done.
public struct ReplayProgress: Hashable, Sendable {
    public var projection: String
    /// Events delivered (applied or filtered out) since `start()`.
    public var replayed: UInt64
    public var position: LogPosition
    /// The store's last position when the runner started: catch-up ends there.
    public var target: LogPosition
    public var elapsedSeconds: Double
    public var eventsPerSecond: Double
    /// Estimated seconds left, nil when the rate is not known yet.
    public var etaSeconds: Double?
    /// True for the final report (caught up).
    public var done: Bool
}

/// Answer to `ProjectionRunner.wait(forPosition:timeout:completion:)`.
public enum PositionWaitResult: Hashable, Sendable {
    /// The projection reflects the position (carries the projection's position).
    case reached(LogPosition)
    /// The timeout passed first (carries the position reached so far).
    case timedOut(LogPosition)
    /// The projection failed or was stopped before reaching the position.
    case failed(ProjectionFailure?)
}
