import Foundation
import EventStore
import JSON

/// `active` or `deactivated`.
public enum CustomerStatus: String, Codable, Hashable, Sendable, CaseIterable {
    case active, deactivated
}

/// `GET /queries/customers/{id}`: one customer, denormalized from both stores.
public struct CustomerView: Codable, Hashable, Sendable {
    public var customerId: String
    /// Display name ("given family", trimmed).
    public var name: String
    public var givenName: String
    public var familyName: String
    public var email: String
    /// Minor units of `currency`.
    public var creditLimit: Int64
    public var currency: String
    public var reservedCredit: Int64
    public var availableCredit: Int64
    public var status: CustomerStatus
    /// Orders placed for this customer (from `order.placed` in the public log).
    public var orderCount: Int
    /// Sum of the totals of shipped orders (from `order.shipped`), minor units.
    public var lifetimeValue: Int64
    /// Orders currently holding a credit reservation.
    public var openOrders: Int
    /// Version of the customer's stream (use it for the ETag / `If-Match`).
    public var version: Int64
    /// RFC 3339 commit time of the customer's newest internal event.
    public var updatedAt: String
}

/// `GET /queries/customers?status=&cursor=&limit=`: a page in customer-id order.
public struct CustomerPage: Codable, Hashable, Sendable {
    public var items: [CustomerView]
    /// Pass as `cursor` for the next page; nil on the last page.
    public var nextCursor: String?
}

/// `?version=` / `?asOf=`: the customer as it was, computed from its stream's events (no
/// order count / lifetime value: those come from the public log, not the stream).
public struct CustomerTemporalView: Codable, Hashable, Sendable {
    public var customerId: String
    public var name: String
    public var givenName: String
    public var familyName: String
    public var email: String
    public var creditLimit: Int64
    public var currency: String
    public var reservedCredit: Int64
    public var availableCredit: Int64
    public var status: CustomerStatus
    public var openOrders: Int
    /// The stream version this state reflects.
    public var version: Int64
    /// RFC 3339 commit time of the event at `version`.
    public var updatedAt: String
}

/// One entry of `GET /queries/customers/{id}/history`.
public struct CustomerHistoryEntry: Codable, Hashable, Sendable {
    /// Internal event type, e.g. `CustomerRenamed`.
    public var type: String
    /// Schema version of `data` (current, after upcasting).
    public var schemaVersion: Int
    /// Schema version the event was stored with (the audit trail is never rewritten).
    public var storedSchemaVersion: Int
    public var version: Int64
    /// Global position in the customers store.
    public var position: UInt64
    public var eventId: String
    /// RFC 3339 commit time.
    public var time: String
    public var correlationId: String?
    public var causationId: String?
    /// The event's data (upcast to the current schema).
    public var data: JSONValue
}

/// Positions a customer view reflects, one per store feeding it.
public struct CustomerPositions: Codable, Hashable, Sendable {
    /// Position in the customers store (`customers`).
    public var customers: UInt64
    /// Position in the public log (`public`).
    public var publicLog: UInt64
}

/// The stores a customer read can wait on (`minPosition`).
public enum CustomerStoreKind: String, Hashable, Sendable {
    /// The service's own store: positions returned by customer commands.
    case customers
    /// The public log: positions of `/public/events`.
    case publicLog = "public"
}

/// A query parameter the read side cannot serve (→ 400).
public struct CustomerQueryError: Error, Hashable, Sendable, CustomStringConvertible {
    public var parameter: String
    public var message: String
    public init(parameter: String, message: String) { self.parameter = parameter; self.message = message }
    public var description: String { "\(parameter): \(message)" }
}
