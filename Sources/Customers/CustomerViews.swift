import Foundation
import CQRS
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
public typealias CustomerPage = Page<CustomerView>

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
