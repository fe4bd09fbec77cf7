import CQRS
import EventStore
import PublicEvents

/// Internal customer events → public `customer.*` events (pure; the publisher's mapping).
public enum CustomerPublicMapping {
    /// Publishing service name (`source` of the envelopes; the public stream is `customers`).
    public static let source = "customers"

    /// Maps one stored, already upcast internal event; events of other streams map to nothing.
    public static func map(_ recorded: RecordedEvent) throws -> [PublicEventDraft] {
        guard let customerId = CustomerID.id(of: recorded.stream) else { return [] }
        let event = try CustomerEvent.decode(EncodedEvent(type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data))
        return try drafts(for: event, customerId: customerId)
    }

    /// The public events for `event` of customer `customerId`.
    public static func drafts(for event: CustomerEvent, customerId: String) throws -> [PublicEventDraft] {
        func draft<P: PublicEventPayload>(_ p: P) throws -> PublicEventDraft {
            try .json(P.eventType.name, version: P.eventType.version, p)
        }
        switch event {
        case .registered(let e):
            return [try draft(CustomerRegisteredV1(customerId: customerId, name: PersonName.display(given: e.givenName, family: e.familyName),
                                                   email: e.email, creditLimit: e.creditLimit, currency: e.currency))]
        case .renamed(let e):
            return [try draft(CustomerRenamedV1(customerId: customerId, name: PersonName.display(given: e.givenName, family: e.familyName)))]
        case .emailChanged(let e):
            return [try draft(CustomerEmailChangedV1(customerId: customerId, email: e.email))]
        case .creditLimitChanged(let e):
            return [try draft(CustomerCreditLimitChangedV1(customerId: customerId, creditLimit: e.creditLimit, currency: e.currency))]
        case .deactivated:
            return [try draft(CustomerDeactivatedV1(customerId: customerId))]
        case .creditReserved(let e):
            return [try draft(CustomerCreditReservedV1(customerId: customerId, orderId: e.orderId, amount: e.amount,
                                                       currency: e.currency, availableCredit: e.availableCredit))]
        case .creditRejected(let e):
            return [try draft(CustomerCreditRejectedV1(customerId: customerId, orderId: e.orderId, amount: e.amount,
                                                       currency: e.currency, reason: e.reason.rawValue))]
        case .creditReleased(let e):
            return [try draft(CustomerCreditReleasedV1(customerId: customerId, orderId: e.orderId, amount: e.amount,
                                                       currency: e.currency, availableCredit: e.availableCredit))]
        }
    }
}
