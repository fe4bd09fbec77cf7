import Foundation
import EventStore
import JSON

/// One entry of a stream's history (`GET /queries/<service>/{id}/history`).
public struct HistoryEntry: Codable, Hashable, Sendable {
    /// Internal event type, e.g. `CustomerRenamed`.
    public var type: String
    /// Schema version of `data` (current, after upcasting).
    public var schemaVersion: Int
    /// Schema version the event was stored with (the audit trail is never rewritten).
    public var storedSchemaVersion: Int
    /// Stream version (0 for the first event).
    public var version: Int64
    /// Global position in the service's store.
    public var position: UInt64
    /// The event id (lowercase UUID).
    public var eventId: String
    /// RFC 3339 commit time.
    public var time: String
    public var correlationId: String?
    public var causationId: String?
    /// The event's data, upcast to the current schema.
    public var data: JSONValue

    /// `upcast` is the stored event after upcasting; `storedSchemaVersion` what it was stored at.
    public init(_ upcast: RecordedEvent, storedSchemaVersion: Int) {
        let metadata = upcast.metadata
        type = upcast.type
        schemaVersion = upcast.schemaVersion
        self.storedSchemaVersion = storedSchemaVersion
        version = upcast.streamVersion.value
        position = upcast.position.value
        eventId = upcast.id.description.lowercased()
        time = RFC3339.format(upcast.timestamp)
        correlationId = metadata.correlationId
        causationId = metadata.causationId
        data = JSONValue(jsonBytes: upcast.data)
    }
}

/// The positions a service's read models reflect, one per store they follow.
public struct ServicePositions: Codable, Hashable, Sendable {
    /// The service's own store.
    public var own: UInt64
    /// The shared public log.
    public var publicLog: UInt64

    public init(own: UInt64, publicLog: UInt64) { self.own = own; self.publicLog = publicLog }

    public init<D: Decider>(_ runtime: ServiceRuntime<D>) {
        self.init(own: runtime.position(.own).value, publicLog: runtime.position(.publicLog).value)
    }
}

/// The result of rebuilding a service's read models from its stores and comparing them with
/// the live ones (`GET /admin/consistency`).
public struct ConsistencyReport: Codable, Hashable, Sendable {
    /// True when the rebuilt read models equal the live ones.
    public var consistent: Bool
    /// The positions compared at (the live read models' positions).
    public var positions: ServicePositions
    /// The service's main entities compared (customers, orders).
    public var compared: Int
    /// Other counts compared, by name (e.g. `customersCompared` for the orders' replica).
    public var alsoCompared: [String: Int]
    /// Human-readable differences (at most `ConsistencyReport.maxDifferences`).
    public var differences: [String]

    public static let maxDifferences = 50

    public init(positions: ServicePositions, compared: Int, alsoCompared: [String: Int] = [:], differences: [String]) {
        self.consistent = differences.isEmpty
        self.positions = positions
        self.compared = compared
        self.alsoCompared = alsoCompared
        self.differences = Array(differences.prefix(Self.maxDifferences))
    }
}
