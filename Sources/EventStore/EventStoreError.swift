import Foundation

/// Every way an event-store operation can fail. Mapped to HTTP in one place by the app.
public enum EventStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stream's actual version did not satisfy the expected version.
    /// `actual` is nil when the stream does not exist.
    case wrongExpectedVersion(stream: StreamName, expected: ExpectedVersion, actual: StreamVersion?)
    /// Some, but not all, of the appended event ids are already stored, or they are stored
    /// at a different place (another stream or other versions) than this append targets.
    case idempotencyConflict(stream: StreamName, reason: String)
    /// The store refuses appends after a write/fsync failure (or close); `reason` says why.
    case storeUnhealthy(reason: String)
    /// A system call failed with `errno` while doing `what`.
    case io(errno: Int32, what: String)
    /// Stored data failed a check (CRC, hash chain, framing) at `position`
    /// (0 if unknown) in `file` at byte `offset`.
    case corrupt(position: UInt64, file: String, offset: Int64, reason: String)
    /// The caller passed something the store cannot accept (empty append, duplicate ids, too long a name...).
    case invalidArgument(String)
    /// The store has been closed.
    case closed

    public var description: String {
        switch self {
        case let .wrongExpectedVersion(stream, expected, actual):
            return "wrong expected version for stream '\(stream)': expected \(expected), actual \(actual.map { String($0.value) } ?? "no stream")"
        case let .idempotencyConflict(stream, reason):
            return "idempotency conflict on stream '\(stream)': \(reason)"
        case let .storeUnhealthy(reason):
            return "event store unhealthy: \(reason)"
        case let .io(code, what):
            return "I/O error during \(what): \(String(cString: strerror(code))) (errno \(code))"
        case let .corrupt(position, file, offset, reason):
            return "corrupt log at position \(position) (\(file) offset \(offset)): \(reason)"
        case let .invalidArgument(message):
            return "invalid argument: \(message)"
        case .closed:
            return "event store closed"
        }
    }
}

extension EventStoreError {
    /// `error` as a store error (engines throw only these; anything else is reported as an
    /// invalid argument naming it).
    public static func wrap(_ error: Error) -> EventStoreError {
        (error as? EventStoreError) ?? .invalidArgument("\(error)")
    }

    /// The store could not take the write (I/O error, full disk, refusing appends since): the
    /// request was fine and may succeed later; nothing of it was stored.
    public var isStoreUnavailable: Bool {
        switch self {
        case .io, .storeUnhealthy: return true
        default: return false
        }
    }

    /// A full disk or exhausted quota: a condition that passes when space is freed.
    var isOutOfSpace: Bool {
        if case .io(let code, _) = self { return code == ENOSPC || code == EDQUOT }
        return false
    }
}

/// Severity of an engine's own log line (recovery, health, connection state).
public enum StoreLogLevel: String, Sendable {
    case info, warning, error
}
