import CQRS
import JSON

/// Why a credit reservation was refused (the public event's `reason`).
public enum CreditRejectionReason: String, Codable, Hashable, Sendable {
    case insufficientCredit = "insufficient-credit"
    case customerInactive = "customer-inactive"
    case unknownCustomer = "unknown-customer"
    case currencyMismatch = "currency-mismatch"
}

/// `CustomerRegistered` v2 (v1 had a single `name`; see `CustomerUpcasters`).
public struct CustomerRegistered: Codable, Hashable, Sendable {
    public var customerId: String
    public var givenName: String
    public var familyName: String
    public var email: String
    public var creditLimit: Int64
    public var currency: String
}

/// `CustomerRenamed` v2 (v1 had a single `name`).
public struct CustomerRenamed: Codable, Hashable, Sendable {
    public var givenName: String
    public var familyName: String
}

public struct CustomerEmailChanged: Codable, Hashable, Sendable {
    public var email: String
}

public struct CustomerCreditLimitChanged: Codable, Hashable, Sendable {
    public var creditLimit: Int64
    /// The customer's currency (carried so the public mapping stays a pure function of the event).
    public var currency: String
}

public struct CustomerDeactivated: Codable, Hashable, Sendable {
    public init() {}
}

/// `amount` is now reserved for `orderId`; `availableCredit` is what is left after it.
public struct CreditReserved: Codable, Hashable, Sendable {
    public var orderId: String
    public var amount: Int64
    public var currency: String
    public var availableCredit: Int64
}

/// A reservation for `orderId` was refused.
public struct CreditRejected: Codable, Hashable, Sendable {
    public var orderId: String
    public var amount: Int64
    public var currency: String
    public var reason: CreditRejectionReason
}

/// The reservation of `orderId` (`amount`) was released; `availableCredit` is after it.
public struct CreditReleased: Codable, Hashable, Sendable {
    public var orderId: String
    public var amount: Int64
    public var currency: String
    public var availableCredit: Int64
}

/// The internal events of a customer stream (private storage format, never published as is).
public enum CustomerEvent: Hashable, Sendable {
    case registered(CustomerRegistered)
    case renamed(CustomerRenamed)
    case emailChanged(CustomerEmailChanged)
    case creditLimitChanged(CustomerCreditLimitChanged)
    case deactivated(CustomerDeactivated)
    case creditReserved(CreditReserved)
    case creditRejected(CreditRejected)
    case creditReleased(CreditReleased)

    /// Stored type names (stable forever).
    public enum TypeName {
        public static let registered = "CustomerRegistered"
        public static let renamed = "CustomerRenamed"
        public static let emailChanged = "CustomerEmailChanged"
        public static let creditLimitChanged = "CustomerCreditLimitChanged"
        public static let deactivated = "CustomerDeactivated"
        public static let creditReserved = "CreditReserved"
        public static let creditRejected = "CreditRejected"
        public static let creditReleased = "CreditReleased"
    }

    /// Encodes at the current schema version.
    public func encoded() throws -> EncodedEvent {
        switch self {
        case .registered(let e): return try .json(TypeName.registered, version: 2, e)
        case .renamed(let e): return try .json(TypeName.renamed, version: 2, e)
        case .emailChanged(let e): return try .json(TypeName.emailChanged, e)
        case .creditLimitChanged(let e): return try .json(TypeName.creditLimitChanged, e)
        case .deactivated(let e): return try .json(TypeName.deactivated, e)
        case .creditReserved(let e): return try .json(TypeName.creditReserved, e)
        case .creditRejected(let e): return try .json(TypeName.creditRejected, e)
        case .creditReleased(let e): return try .json(TypeName.creditReleased, e)
        }
    }

    /// Decodes an event already upcast to its current schema version.
    public static func decode(_ e: EncodedEvent) throws -> CustomerEvent {
        switch e.type {
        case TypeName.registered: return .registered(try e.decodeJSON(reader: CustomerRegistered.init(json:)))
        case TypeName.renamed: return .renamed(try e.decodeJSON(reader: CustomerRenamed.init(json:)))
        case TypeName.emailChanged: return .emailChanged(try e.decodeJSON(reader: CustomerEmailChanged.init(json:)))
        case TypeName.creditLimitChanged: return .creditLimitChanged(try e.decodeJSON(reader: CustomerCreditLimitChanged.init(json:)))
        case TypeName.deactivated: return .deactivated(try e.decodeJSON(reader: { _ in CustomerDeactivated() }))
        case TypeName.creditReserved: return .creditReserved(try e.decodeJSON(reader: CreditReserved.init(json:)))
        case TypeName.creditRejected: return .creditRejected(try e.decodeJSON(reader: CreditRejected.init(json:)))
        case TypeName.creditReleased: return .creditReleased(try e.decodeJSON(reader: CreditReleased.init(json:)))
        default: throw UnknownCustomerEvent(type: e.type, version: e.schemaVersion)
        }
    }
}

// Hand-written readers (every customer event is decoded on each replay of the directory and
// by the publisher): the same keys and types as the synthesized `Decodable` conformances,
// which `EventReaderTests` checks with `JSONReaderCheck`.
extension CustomerRegistered {
    init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), givenName: try r.string("givenName"), familyName: try r.string("familyName"),
                  email: try r.string("email"), creditLimit: try r.int64("creditLimit"), currency: try r.string("currency"))
    }
}

extension CustomerRenamed {
    init(json r: JSONObjectReader) throws {
        self.init(givenName: try r.string("givenName"), familyName: try r.string("familyName"))
    }
}

extension CustomerEmailChanged {
    init(json r: JSONObjectReader) throws { self.init(email: try r.string("email")) }
}

extension CustomerCreditLimitChanged {
    init(json r: JSONObjectReader) throws {
        self.init(creditLimit: try r.int64("creditLimit"), currency: try r.string("currency"))
    }
}

extension CreditReserved {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), amount: try r.int64("amount"), currency: try r.string("currency"),
                  availableCredit: try r.int64("availableCredit"))
    }
}

extension CreditRejected {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), amount: try r.int64("amount"), currency: try r.string("currency"),
                  reason: try r.value(CreditRejectionReason.self, "reason"))
    }
}

extension CreditReleased {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), amount: try r.int64("amount"), currency: try r.string("currency"),
                  availableCredit: try r.int64("availableCredit"))
    }
}

/// A stored event type (or version) this module does not know.
public struct UnknownCustomerEvent: Error, Hashable, Sendable, CustomStringConvertible {
    public var type: String
    public var version: Int
    public var description: String { "unknown customer event \(type) v\(version)" }
}
