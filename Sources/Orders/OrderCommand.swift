import PublicEvents

/// One order line: `quantity` × `unitPrice` (minor units of the order's currency).
public struct OrderLine: Codable, Hashable, Sendable {
    public var sku: String
    public var quantity: Int
    public var unitPrice: Int64

    public init(sku: String, quantity: Int, unitPrice: Int64) {
        self.sku = sku; self.quantity = quantity; self.unitPrice = unitPrice
    }

    /// The line as the public contract carries it.
    var publicLine: OrderLineV1 { OrderLineV1(sku: sku, quantity: quantity, unitPrice: unitPrice) }
}

/// The body of `POST /commands/orders/place` (the order id travels separately).
public struct PlaceOrder: Hashable, Sendable {
    public var customerId: String
    public var currency: String
    public var lines: [OrderLine]

    public init(customerId: String, currency: String, lines: [OrderLine]) {
        self.customerId = customerId; self.currency = currency; self.lines = lines
    }
}

/// Commands a client may send to an order (HTTP routes). Saga commands (approve/reject) are
/// not here: only the service's own consumer issues them, from customer credit events.
public enum OrderCommand: Hashable, Sendable {
    /// Creates the order (`pending`). Checked against the customer replica: 422 for an unknown
    /// or inactive customer or a currency other than the customer's.
    case place(PlaceOrder)
    /// Adds a line with a new sku to a `pending` or `approved` order (back to `pending`).
    case addLine(OrderLine)
    /// Removes the line of `sku` (never the last one) from a `pending` or `approved` order.
    case removeLine(sku: String)
    /// Cancels a `pending` or `approved` order; `reason` 1…500 characters.
    case cancel(reason: String)
    /// Ships an `approved` order.
    case ship
}

/// What the decider receives: the client command or a saga command, plus the order id and,
/// for `place`, what the customer replica knew when the command was handled — so `decide`
/// stays pure (no replica access inside).
struct OrderDecision: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        case client(OrderCommand)
        /// Saga: customer credit was reserved for `amount` (approve if it equals the total).
        case approve(amount: Int64)
        /// Saga: customer credit was refused for `amount` (reject if it equals the total).
        case reject(reason: String, amount: Int64)
    }
    var orderId: String
    var kind: Kind
    /// The replica's customer for `place` (nil: unknown customer).
    var customer: ReplicaCustomer?

    init(orderId: String, _ kind: Kind, customer: ReplicaCustomer? = nil) {
        self.orderId = orderId; self.kind = kind; self.customer = customer
    }
}
