import Foundation
import EventStore
import CQRS

/// A JSON value, to carry stored event data verbatim inside Codable views.
public indirect enum OrderJSON: Codable, Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([OrderJSON])
    case object([String: OrderJSON])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([OrderJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: OrderJSON].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

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
    public var data: OrderJSON
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
