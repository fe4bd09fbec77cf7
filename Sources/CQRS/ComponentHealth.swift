import EventStore

/// A runtime component's state for /health and /metrics, in one shape for all of them.
public struct ComponentHealth: Hashable, Sendable {
    /// e.g. `projection`, `publisher`, `consumer`.
    public var kind: String
    public var name: String
    /// `starting`, `catching-up`, `live`, `running`, `retrying`, `failed`, `stopped`, `idle`.
    public var status: String
    /// Position processed so far in the store the component follows.
    public var position: LogPosition
    /// Events behind that store's last position.
    public var lag: UInt64
    /// Why it stopped or is retrying, with the event position where relevant.
    public var error: String?
    /// Events parked and waiting for an operator (a consumer whose policy parks).
    public var parked: Int = 0
    /// Events parked since start, and retries of failed events since start.
    public var parkedTotal: UInt64 = 0
    public var retriesTotal: UInt64 = 0
    /// The operator's rebuild running now (a read model).
    public var rebuild: RebuildProgress?

    public init(kind: String, name: String, status: String, position: LogPosition, lag: UInt64, error: String? = nil) {
        self.kind = kind; self.name = name; self.status = status; self.position = position; self.lag = lag; self.error = error
    }

    /// Whether it is working normally: not failed, not stopped, nothing parked.
    public var isHealthy: Bool { status != "failed" && status != "stopped" && parked == 0 }
}

extension ProjectionRunner {
    /// Status, position, lag and error for /health and /metrics.
    public var health: ComponentHealth {
        var error = lastFailure?.description
        if case .retrying(_, let attempt) = status, let e = error { error = "\(e) (retry \(attempt) of \(options.failurePolicy.retries))" }
        var h = ComponentHealth(kind: "projection", name: projection.name, status: status.description, position: position, lag: lag,
                                error: error)
        h.retriesTotal = retriesTotal
        h.rebuild = rebuildProgress
        return h
    }
}

extension Publisher {
    /// Status, position, lag and error for /health and /metrics.
    public var health: ComponentHealth {
        let (s, e): (String, String?)
        switch status {
        case .idle: (s, e) = ("idle", nil)
        case .running: (s, e) = ("running", nil)
        case .retrying(let r): (s, e) = ("retrying", r)
        case let .failed(p, r): (s, e) = ("failed", "at internal position \(p): \(r)")
        case .stopped: (s, e) = ("stopped", nil)
        }
        return ComponentHealth(kind: "publisher", name: source, status: s, position: checkpoint, lag: lag, error: e)
    }
}

extension Consumer {
    /// Public-log positions not yet followed (events of other types in between count).
    public var lag: UInt64 {
        let last = publicLog.lastPosition.value, followed = followedTo.value
        return last > followed ? last - followed : 0
    }

    /// Status, position (public log), lag and error for /health and /metrics.
    public var health: ComponentHealth {
        let (s, e): (String, String?)
        switch status {
        case .idle: (s, e) = ("idle", nil)
        case .running: (s, e) = ("running", nil)
        case .retrying(let r): (s, e) = ("retrying", r)
        case let .failed(p, r): (s, e) = ("failed", "at public position \(p): \(r)")
        case .stopped: (s, e) = ("stopped", nil)
        }
        var h = ComponentHealth(kind: "consumer", name: name, status: s, position: checkpoint, lag: lag, error: e)
        h.parked = parkedCount
        h.parkedTotal = parkedTotal
        h.retriesTotal = retriesTotal
        return h
    }
}

// MARK: - Health stamps

// A stamp is a few numbers that change whenever a component's `health` would (and at times
// when it would not): `/health` compares stamps on every probe and builds `health` values, and
// its document, only when one differs. Each stamp holds the component's count of status
// changes (every failure, retry and recovery is one) and every number its `health` shows or
// derives from.

extension ProjectionRunner {
    public func appendHealthStamp(to stamp: inout [UInt64]) {
        stamp.append(statusChanges)
        stamp.append(position.value)
        stamp.append(lag)
        stamp.append(retriesTotal)
        if let progress = rebuildProgress {
            stamp.append(progress.position.value)
            stamp.append(progress.target.value)
        } else {
            stamp.append(.max)
            stamp.append(.max)
        }
    }
}

extension Publisher {
    public func appendHealthStamp(to stamp: inout [UInt64]) {
        stamp.append(statusChanges)
        stamp.append(checkpoint.value)
        stamp.append(lag)
    }
}

extension Consumer {
    public func appendHealthStamp(to stamp: inout [UInt64]) {
        stamp.append(statusChanges)
        stamp.append(checkpoint.value)
        stamp.append(lag)
        stamp.append(journal?.ledgerChanges ?? 0)   // what parkedCount counts
        stamp.append(parkedTotal)
        stamp.append(retriesTotal)
    }
}
