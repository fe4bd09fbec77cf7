import Foundation
import EventStore
import JSON

/// What a service's saga does with public events: per (type, version), the commands to send.
/// Versions a service does not understand map to nothing (a newer version is published next
/// to the old one, so the old keeps flowing). Mappings must be pure and deterministic (the
/// consumer's exactly-once argument relies on it).
public struct SagaReactions<Command> {
    public typealias Mapping = (PublicEventEnvelope) throws -> [ConsumerCommand<Command>]

    /// Stable consumer name (stored in event metadata and idempotency keys: never rename).
    public let consumerName: String
    /// What a public event that keeps failing does: stop the consumer (the default), or park
    /// it and go on (for reactions that are independent of one another).
    public var failurePolicy = FailurePolicy.stop
    /// The sequence a public event belongs to (e.g. its order id), nil for none: once an event
    /// is parked, the later events of its sequence are parked behind it instead of overtaking
    /// it (a release of credit must not run before the reservation it releases).
    public var sequence: ((PublicEventEnvelope) -> String?)?
    private var mappings: [String: [Int: Mapping]] = [:]

    public init(consumerName: String) { self.consumerName = consumerName }

    /// A `sequence` that is the string member `key` of the event's data (nil when it has none).
    public static func sequence(byMember key: String) -> (PublicEventEnvelope) -> String? {
        { envelope in JSONObjectReader.read(envelope.data) { try $0.string(key) } }
    }

    /// Reacts to public events of `type` at `version` with `map`.
    public mutating func on(_ type: String, version: Int, _ map: @escaping Mapping) {
        mappings[type, default: [:]][version] = map
    }

    /// The public event types the consumer subscribes to.
    public var eventTypes: Set<String> { Set(mappings.keys) }

    /// The commands for `envelope`; none for a type or version without a reaction.
    public func commands(for envelope: PublicEventEnvelope) throws -> [ConsumerCommand<Command>] {
        guard let map = mappings[envelope.type]?[envelope.version] else { return [] }
        return try map(envelope)
    }
}
