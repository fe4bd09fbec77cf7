import CQRS
import PublicEvents

/// Hand-written readers of the customer public events this service reads on every replay of
/// its replica and from its consumer: the same keys and types as the contract's synthesized
/// `Decodable` conformances (`EventCodingTests` checks them with `JSONReaderCheck`).
enum CustomerPublicEventReaders {
    static func registered(_ r: JSONObjectReader) throws -> CustomerRegisteredV1 {
        CustomerRegisteredV1(customerId: try r.string("customerId"), name: try r.string("name"), email: try r.string("email"),
                             creditLimit: try r.int64("creditLimit"), currency: try r.string("currency"))
    }

    static func renamed(_ r: JSONObjectReader) throws -> CustomerRenamedV1 {
        CustomerRenamedV1(customerId: try r.string("customerId"), name: try r.string("name"))
    }

    static func creditLimitChanged(_ r: JSONObjectReader) throws -> CustomerCreditLimitChangedV1 {
        CustomerCreditLimitChangedV1(customerId: try r.string("customerId"), creditLimit: try r.int64("creditLimit"),
                                     currency: try r.string("currency"))
    }

    static func deactivated(_ r: JSONObjectReader) throws -> CustomerDeactivatedV1 {
        CustomerDeactivatedV1(customerId: try r.string("customerId"))
    }

    static func creditReserved(_ r: JSONObjectReader) throws -> CustomerCreditReservedV1 {
        CustomerCreditReservedV1(customerId: try r.string("customerId"), orderId: try r.string("orderId"), amount: try r.int64("amount"),
                                 currency: try r.string("currency"), availableCredit: try r.int64("availableCredit"))
    }

    static func creditRejected(_ r: JSONObjectReader) throws -> CustomerCreditRejectedV1 {
        CustomerCreditRejectedV1(customerId: try r.string("customerId"), orderId: try r.string("orderId"), amount: try r.int64("amount"),
                                 currency: try r.string("currency"), reason: try r.string("reason"))
    }
}
