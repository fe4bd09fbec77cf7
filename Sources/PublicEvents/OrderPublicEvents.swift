/// Public events published by the Orders service (source `orders`).

/// One order line as the contract carries it.
public struct OrderLineV1: Codable, Sendable, Equatable {
    public var sku: String
    public var quantity: Int
    /// Minor units of the order's currency.
    public var unitPrice: Int64

    public init(sku: String, quantity: Int, unitPrice: Int64) {
        self.sku = sku; self.quantity = quantity; self.unitPrice = unitPrice
    }
}

/// An order was placed (status `pending`): the customer's credit must be reserved for `total`.
public struct OrderPlacedV1: PublicEventPayload {
    public static let eventType = PublicEventType("order.placed", version: 1)
    public var orderId: String
    public var customerId: String
    public var currency: String
    public var lines: [OrderLineV1]
    /// Sum of quantity × unitPrice over the lines, minor units.
    public var total: Int64

    public init(orderId: String, customerId: String, currency: String, lines: [OrderLineV1], total: Int64) {
        self.orderId = orderId; self.customerId = customerId; self.currency = currency
        self.lines = lines; self.total = total
    }
}

/// The lines of a pending or approved order changed. When `total` changed, the order is
/// `pending` again until the customer's credit is re-reserved for the new total (answered by
/// `customer.credit-reserved` or `customer.credit-rejected`); an unchanged total keeps its status.
public struct OrderLinesChangedV1: PublicEventPayload {
    public static let eventType = PublicEventType("order.lines-changed", version: 1)
    public var orderId: String
    public var customerId: String
    public var currency: String
    public var lines: [OrderLineV1]
    public var total: Int64

    public init(orderId: String, customerId: String, currency: String, lines: [OrderLineV1], total: Int64) {
        self.orderId = orderId; self.customerId = customerId; self.currency = currency
        self.lines = lines; self.total = total
    }
}

/// Credit was reserved; the order is `approved` and may be shipped.
public struct OrderApprovedV1: PublicEventPayload {
    public static let eventType = PublicEventType("order.approved", version: 1)
    public var orderId: String
    public var customerId: String
    public var total: Int64
    public var currency: String

    public init(orderId: String, customerId: String, total: Int64, currency: String) {
        self.orderId = orderId; self.customerId = customerId; self.total = total; self.currency = currency
    }
}

/// Credit was refused; the order is `rejected` (final).
public struct OrderRejectedV1: PublicEventPayload {
    public static let eventType = PublicEventType("order.rejected", version: 1)
    public var orderId: String
    public var customerId: String
    public var reason: String

    public init(orderId: String, customerId: String, reason: String) {
        self.orderId = orderId; self.customerId = customerId; self.reason = reason
    }
}

/// The order was cancelled (final); any credit reserved for it must be released.
public struct OrderCancelledV1: PublicEventPayload {
    public static let eventType = PublicEventType("order.cancelled", version: 1)
    public var orderId: String
    public var customerId: String
    public var reason: String
    public var total: Int64
    public var currency: String

    public init(orderId: String, customerId: String, reason: String, total: Int64, currency: String) {
        self.orderId = orderId; self.customerId = customerId; self.reason = reason
        self.total = total; self.currency = currency
    }
}

/// The order was shipped (final): its total counts as revenue and lifetime value.
public struct OrderShippedV1: PublicEventPayload {
    public static let eventType = PublicEventType("order.shipped", version: 1)
    public var orderId: String
    public var customerId: String
    public var total: Int64
    public var currency: String

    public init(orderId: String, customerId: String, total: Int64, currency: String) {
        self.orderId = orderId; self.customerId = customerId; self.total = total; self.currency = currency
    }
}
