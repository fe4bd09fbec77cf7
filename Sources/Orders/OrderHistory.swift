import Foundation
import EventStore
import CQRS
import JSON

/// One event of an order's stream (`GET /queries/orders/{id}/history`).
public struct OrderHistoryEntry: Codable, Hashable, Sendable {
    /// Internal event type, e.g. `OrderPlaced`.
    public var type: String
    /// Schema version after upcasting.
    public var schemaVersion: Int
    /// Stream version (0 for the first event).
    public var version: Int64
    /// Global position in the orders store.
    public var position: UInt64
    /// RFC 3339 commit time.
    public var time: String
    public var data: JSONValue
    public var correlationId: String?
    public var causationId: String?
    /// The event id (lowercase UUID).
    public var eventId: String
}

/// `GET /queries/orders/{id}/history`.
public struct OrderHistory: Codable, Hashable, Sendable {
    public var orderId: String
    public var events: [OrderHistoryEntry]
}
