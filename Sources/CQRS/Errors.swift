import EventStore

/// A rejection decided by the domain (an aggregate's `decide`), independent of transport.
///
/// The runtime never interprets it beyond carrying it back to the caller; the app maps
/// `kind` to an HTTP status in one place (validation → 422, conflict → 409, notFound → 404).
public struct DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What sort of rejection this is; decides the HTTP status.
    public enum Kind: String, Hashable, Sendable {
        /// The command is malformed for the domain (bad email, empty lines...): 422, with field errors.
        case validation
        /// A business rule forbids the command in the current state (ship a cancelled order): 409.
        case conflict
        /// The target does not exist (command on an unknown aggregate): 404.
        case notFound
    }

    public var kind: Kind
    /// A stable machine-readable code, e.g. `order-cancelled` (becomes the problem `type` suffix).
    public var code: String
    /// A human-readable explanation.
    public var message: String
    /// Per-field problems, normally only for `.validation`.
    public var fieldErrors: [FieldError]

    public init(kind: Kind, code: String, message: String, fieldErrors: [FieldError] = []) {
        self.kind = kind; self.code = code; self.message = message; self.fieldErrors = fieldErrors
    }

    public static func validation(_ code: String, _ message: String, fields: [FieldError] = []) -> DomainError {
        DomainError(kind: .validation, code: code, message: message, fieldErrors: fields)
    }
    public static func conflict(_ code: String, _ message: String) -> DomainError {
        DomainError(kind: .conflict, code: code, message: message)
    }
    public static func notFound(_ code: String, _ message: String) -> DomainError {
        DomainError(kind: .notFound, code: code, message: message)
    }

    public var description: String { "\(kind.rawValue) \(code): \(message)" }
}

/// One field's problem inside a validation `DomainError`.
public struct FieldError: Hashable, Sendable {
    /// JSON path of the field, e.g. `email` or `lines[2].quantity`.
    public var field: String
    public var code: String
    public var message: String
    public init(field: String, code: String, message: String) { self.field = field; self.code = code; self.message = message }
}

/// Every way `CommandHandler.handle` can fail. Suggested HTTP mapping in brackets.
public enum CommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The decider rejected the command [404/409/422 per `DomainError.kind`].
    case domain(DomainError)
    /// `.exact(expected)` (If-Match) did not hold; `actual` is the stream's version, nil if it
    /// does not exist [412, with the actual version as the new ETag].
    case versionMismatch(stream: StreamName, expected: StreamVersion, actual: StreamVersion?)
    /// `.noStream` (creation) on a stream that already has events [409].
    case streamAlreadyExists(stream: StreamName, actual: StreamVersion)
    /// The idempotency key was used before with a different request fingerprint [422].
    case idempotencyKeyReused(key: String)
    /// The store already holds this command's deterministic event ids elsewhere: the same
    /// key and body were applied before (after the index forgot the key, e.g. retention
    /// expired). Nothing was appended [422 for HTTP; consumers treat it as "already applied"].
    case alreadyApplied(key: String)
    /// `.retrying` re-decided `attempts` times and lost the race every time [409 or 503].
    case tooManyConflicts(stream: StreamName, attempts: Int)
    /// A stored event or snapshot could not be decoded (even after upcasting) [500].
    case corruptState(stream: StreamName, reason: String)
    /// The store failed the read or append [503 when unhealthy/closed, else 500].
    case store(EventStoreError)
    /// What the decision needs is not there yet, e.g. a read model still replaying on start [503].
    case notReady(reason: String)

    public var description: String {
        switch self {
        case .domain(let e): return "rejected: \(e)"
        case let .versionMismatch(s, e, a): return "version mismatch on '\(s)': expected \(e), actual \(a.map { String($0.value) } ?? "no stream")"
        case let .streamAlreadyExists(s, a): return "stream '\(s)' already exists at version \(a)"
        case .idempotencyKeyReused(let k): return "idempotency key '\(k)' was used with a different request"
        case .alreadyApplied(let k): return "a command with idempotency key '\(k)' was already applied"
        case let .tooManyConflicts(s, n): return "gave up on '\(s)' after \(n) concurrent-write conflicts"
        case let .corruptState(s, r): return "cannot rebuild '\(s)': \(r)"
        case .store(let e): return e.description
        case .notReady(let reason): return "not ready: \(reason)"
        }
    }
}

/// Severity of a runtime log line.
public enum LogLevel: Int, Comparable, Sendable {
    case debug, info, warning, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Where runtime components report what happens (the app forwards to its logger).
public typealias CQRSLogger = (LogLevel, String) -> Void
