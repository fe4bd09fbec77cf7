import EventStore

/// How a command's append is protected against concurrent writers.
public enum ConcurrencyMode: Hashable, Sendable {
    /// Decide on the cached state; if another writer got there first, reload the tail and
    /// decide again, up to `CommandHandler.Options.maxAttempts` times in all.
    case retrying
    /// The client's `If-Match`: the stream must be at exactly this version when deciding and
    /// when appending; otherwise `.versionMismatch` with the actual version (never re-decided).
    case exact(StreamVersion)
    /// Creation: the stream must have no events; otherwise `.streamAlreadyExists`.
    case noStream
}

/// Request-scoped data a command carries into the events it produces.
public struct CommandContext: Sendable {
    /// Stored on every appended event; normally the request id or the saga's id.
    public var correlationId: String?
    /// Stored on every appended event: what directly caused the command.
    public var causationId: String?
    /// `Idempotency-Key`: a retry with the same key and fingerprint replays the first outcome.
    public var idempotencyKey: String?
    /// Identifies the request (`RequestFingerprint.of(method, path, body)`); only with a key.
    public var fingerprint: String
    /// Extra metadata properties stored on every appended event (and on the idempotency marker).
    public var properties: [String: String]

    public init(correlationId: String? = nil, causationId: String? = nil, idempotencyKey: String? = nil,
                fingerprint: String = "", properties: [String: String] = [:]) {
        self.correlationId = correlationId
        self.causationId = causationId
        self.idempotencyKey = idempotencyKey
        self.fingerprint = fingerprint
        self.properties = properties
    }
}

/// The result of a successful command: what the app renders as `{id, version, position}`.
public struct CommandOutcome<Event> {
    /// The stream the command targeted.
    public var stream: StreamName
    /// The stream's version after the command; nil only for a no-op on a stream with no events.
    public var version: StreamVersion?
    /// Global position to wait for (`ProjectionRunner.wait`) to read this command's effects.
    /// For a no-op: the position of the stream's newest event (`.start` if unknown).
    public var position: LogPosition
    /// The events the command appended (decoded again when replayed), `[]` for a no-op.
    public var events: [Event]
    /// Version of the first appended event, nil for a no-op.
    public var firstVersion: StreamVersion?
    /// True when served from the idempotency index (nothing was appended by this call).
    public var replayed: Bool

    /// Whether the command created the stream (its first event is version 0): answer 201.
    public var createdStream: Bool { firstVersion == .first }

    public init(stream: StreamName, version: StreamVersion?, position: LogPosition, events: [Event],
                firstVersion: StreamVersion?, replayed: Bool) {
        self.stream = stream; self.version = version; self.position = position; self.events = events
        self.firstVersion = firstVersion; self.replayed = replayed
    }
}

/// Completion of `CommandHandler.handle`, called on the loop thread.
public typealias CommandCompletion<Event> = (Result<CommandOutcome<Event>, CommandError>) -> Void
