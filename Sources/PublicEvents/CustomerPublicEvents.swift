/// Public events published by the Customers service (source `customers`).

/// A customer was registered. Emitted once per customer.
public struct CustomerRegisteredV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.registered", version: 1)
    public var customerId: String
    /// Display name ("given family").
    public var name: String
    public var email: String
    /// Credit limit in minor units of `currency`.
    public var creditLimit: Int64
    public var currency: String

    public init(customerId: String, name: String, email: String, creditLimit: Int64, currency: String) {
        self.customerId = customerId; self.name = name; self.email = email
        self.creditLimit = creditLimit; self.currency = currency
    }
}

/// The customer's display name changed.
public struct CustomerRenamedV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.renamed", version: 1)
    public var customerId: String
    public var name: String

    public init(customerId: String, name: String) { self.customerId = customerId; self.name = name }
}

/// The customer's email changed.
public struct CustomerEmailChangedV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.email-changed", version: 1)
    public var customerId: String
    public var email: String

    public init(customerId: String, email: String) { self.customerId = customerId; self.email = email }
}

/// The customer's credit limit changed.
public struct CustomerCreditLimitChangedV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.credit-limit-changed", version: 1)
    public var customerId: String
    public var creditLimit: Int64
    public var currency: String

    public init(customerId: String, creditLimit: Int64, currency: String) {
        self.customerId = customerId; self.creditLimit = creditLimit; self.currency = currency
    }
}

/// The customer was deactivated: no new orders are accepted for it. Final.
public struct CustomerDeactivatedV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.deactivated", version: 1)
    public var customerId: String

    public init(customerId: String) { self.customerId = customerId }
}

/// Credit was reserved for an order (in reaction to `order.placed` or `order.lines-changed`):
/// `amount` is the order's whole reservation after this event.
public struct CustomerCreditReservedV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.credit-reserved", version: 1)
    public var customerId: String
    public var orderId: String
    /// The order's total reservation, minor units.
    public var amount: Int64
    public var currency: String
    /// Credit still available to the customer after this reservation.
    public var availableCredit: Int64

    public init(customerId: String, orderId: String, amount: Int64, currency: String, availableCredit: Int64) {
        self.customerId = customerId; self.orderId = orderId; self.amount = amount
        self.currency = currency; self.availableCredit = availableCredit
    }
}

/// Credit could not be reserved for an order; the order must not proceed.
public struct CustomerCreditRejectedV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.credit-rejected", version: 1)
    public var customerId: String
    public var orderId: String
    public var amount: Int64
    public var currency: String
    /// `insufficient-credit`, `customer-inactive`, `unknown-customer` or `currency-mismatch`.
    public var reason: String

    public init(customerId: String, orderId: String, amount: Int64, currency: String, reason: String) {
        self.customerId = customerId; self.orderId = orderId; self.amount = amount
        self.currency = currency; self.reason = reason
    }
}

/// A reservation was released (order cancelled or rejected).
public struct CustomerCreditReleasedV1: PublicEventPayload {
    public static let eventType = PublicEventType("customer.credit-released", version: 1)
    public var customerId: String
    public var orderId: String
    /// The amount released, minor units.
    public var amount: Int64
    public var currency: String
    public var availableCredit: Int64

    public init(customerId: String, orderId: String, amount: Int64, currency: String, availableCredit: Int64) {
        self.customerId = customerId; self.orderId = orderId; self.amount = amount
        self.currency = currency; self.availableCredit = availableCredit
    }
}
