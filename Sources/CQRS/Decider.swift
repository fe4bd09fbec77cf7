import Foundation
import EventStore
import JSON

/// An event in stored form: its type name, schema version and JSON bytes.
public struct EncodedEvent: Hashable, Sendable {
    /// Past-tense type name, e.g. `CustomerRegistered`; stable forever once stored.
    public var type: String
    /// Schema version of `data` (starts at 1; bump it and add an upcaster when the shape changes).
    public var schemaVersion: Int
    /// UTF-8 JSON.
    public var data: [UInt8]

    public init(type: String, schemaVersion: Int = 1, data: [UInt8]) {
        self.type = type; self.schemaVersion = schemaVersion; self.data = data
    }

    /// Encodes `value` as JSON (keys sorted, so equal values give equal bytes).
    public static func json<T: Encodable>(_ type: String, version: Int = 1, _ value: T) throws -> EncodedEvent {
        EncodedEvent(type: type, schemaVersion: version, data: try JSONCoding.encode(value))
    }

    /// Decodes `data` as JSON into `T`.
    public func decodeJSON<T: Decodable>(_: T.Type = T.self) throws -> T {
        try JSONCoding.decode(T.self, from: data)
    }
}

extension EncodedEvent {
    /// The payload through a hand-written reader (see `JSONCoding.decode(_:from:reader:)`).
    public func decodeJSON<T: Decodable>(reader read: (JSONObjectReader) throws -> T) throws -> T {
        try JSONCoding.decode(T.self, from: data, reader: read)
    }
}

/// An aggregate written as a decider: pure decisions and pure state evolution.
///
/// The runtime (`CommandHandler`) owns loading, caching, concurrency and persistence; a decider
/// only says what happens. `decide` and `evolve` must be pure and deterministic: the handler may
/// call `decide` several times for one command (re-deciding after a concurrent-write conflict)
/// and rebuilds state by folding `evolve` over stored events at any time.
public protocol Decider {
    associatedtype Command
    associatedtype Event
    associatedtype State

    /// The state of a stream with no events.
    var initialState: State { get }

    /// Decides which events `command` causes in `state`. Returns `[]` when the command changes
    /// nothing (the handler then succeeds without appending). Throws `DomainError` to reject;
    /// any other error is reported as `.domain(.validation)` with the error's description.
    func decide(_ command: Command, _ state: State) throws -> [Event]

    /// Applies one event to the state. Must not fail: events are facts already stored.
    func evolve(_ state: State, _ event: Event) -> State

    /// `evolve` in place. The default calls `evolve`; a decider whose state holds a growing
    /// collection implements it directly, so folding an event into a state kept in a
    /// dictionary (cache, read model) does not copy that collection each time.
    func apply(_ event: Event, to state: inout State)

    /// Encodes an event at its *current* schema version.
    func encode(_ event: Event) throws -> EncodedEvent

    /// Decodes an event already upcast to its current schema version by `upcasters`.
    func decode(_ event: EncodedEvent) throws -> Event

    /// Upcasters for this aggregate's stored events (default: none).
    var upcasters: UpcasterChain { get }

    /// Version of the *state snapshot* format; snapshots of another version are ignored
    /// (replayed from events instead). Bump it whenever `State`'s encoding changes. Default 1.
    var stateSchemaVersion: Int { get }

    /// Encodes a state for a snapshot, nil if this decider does not snapshot (the default,
    /// except for `Codable` states).
    func encodeState(_ state: State) throws -> [UInt8]?

    /// Decodes a snapshot made by `encodeState` at the current `stateSchemaVersion`.
    func decodeState(_ bytes: [UInt8]) throws -> State
}

struct SnapshotsUnsupported: Error {}

extension Decider {
    public func apply(_ event: Event, to state: inout State) { state = evolve(state, event) }
    public var upcasters: UpcasterChain { UpcasterChain() }
    public var stateSchemaVersion: Int { 1 }
    public func encodeState(_ state: State) throws -> [UInt8]? { nil }
    public func decodeState(_ bytes: [UInt8]) throws -> State { throw SnapshotsUnsupported() }
}

extension Decider where State: Codable {
    public func encodeState(_ state: State) throws -> [UInt8]? { try JSONCoding.encode(state) }
    public func decodeState(_ bytes: [UInt8]) throws -> State { try JSONCoding.decode(State.self, from: bytes) }
}

extension Decider {
    /// Decodes a stored event through the upcaster chain.
    public func decodeRecorded(_ recorded: RecordedEvent) throws -> Event {
        let up = try upcasters.upcast(type: recorded.type, version: recorded.schemaVersion, data: recorded.data)
        return try decode(EncodedEvent(type: recorded.type, schemaVersion: up.version, data: up.data))
    }

    /// Folds `events` over `initialState`: the state after them.
    public func fold(_ events: [Event], from state: State? = nil) -> State {
        events.reduce(state ?? initialState, evolve)
    }
}
