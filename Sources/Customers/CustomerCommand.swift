import CQRS
import EventStore

/// Registration data of a new customer (`POST /commands/customers/register`).
public struct RegisterCustomer: Hashable, Sendable {
    /// 1…64 characters of `[A-Za-z0-9_-]` (the HTTP layer generates a UUID when absent).
    public var customerId: String
    /// Display name; split at the last space into given and family name.
    public var name: String
    public var email: String
    /// Minor units of `currency`, ≥ 0.
    public var creditLimit: Int64
    /// ISO 4217 code, one of `Currency.supported`.
    public var currency: String

    public init(customerId: String, name: String, email: String, creditLimit: Int64, currency: String) {
        self.customerId = customerId; self.name = name; self.email = email
        self.creditLimit = creditLimit; self.currency = currency
    }
}

/// Everything a customer aggregate can be asked to do: the HTTP commands and the saga's
/// credit commands (sent by the consumer of order public events).
public enum CustomerCommand: Hashable, Sendable {
    case register(RegisterCustomer)
    case rename(name: String)
    case changeEmail(email: String)
    case changeCreditLimit(creditLimit: Int64)
    case deactivate
    /// Saga: make `amount` the order's whole reservation (releasing any different earlier one
    /// in the same decision). Never throws for business reasons: a reservation that cannot be
    /// made yields a `CreditRejected` event, so the saga always gets an answer.
    case reserveCredit(orderId: String, amount: Int64, currency: String)
    /// Saga: release whatever is reserved for the order (nothing if none).
    case releaseCredit(orderId: String)

    /// Whether this command comes from the saga (allowed on deactivated customers).
    public var isSagaCommand: Bool {
        switch self {
        case .reserveCredit, .releaseCredit: return true
        default: return false
        }
    }
}

/// Customer ids and their streams (`customer-<id>`).
public enum CustomerID {
    /// How customer ids map to streams.
    public static let identity = StreamIdentity(category: "customer")
    /// Stream category of customers.
    public static var category: String { identity.category }

    /// 1…64 characters of `[A-Za-z0-9_-]`.
    public static func isValid(_ id: String) -> Bool { StreamIdentity.isValidID(id) }

    /// `customer-<id>`.
    public static func stream(_ id: String) -> StreamName { identity.stream(id) }

    /// The customer id of a `customer-<id>` stream, nil for other streams.
    public static func id(of stream: StreamName) -> String? { identity.id(of: stream) }
}
