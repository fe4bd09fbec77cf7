import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Customers
import JSON

/// Internal customer events → public `customer.*` events (the publisher's pure mapping).
@Suite struct PublicMappingTests {
    func one<P: PublicEventPayload>(_ event: CustomerEvent, as _: P.Type) throws -> P {
        let drafts = try CustomerPublicMapping.drafts(for: event, customerId: "c1")
        try #require(drafts.count == 1)
        #expect(drafts[0].type == P.eventType.name)
        #expect(drafts[0].version == P.eventType.version)
        return try JSONCoding.decode(P.self, from: drafts[0].data)
    }

    @Test func registeredCarriesTheDisplayName() throws {
        #expect(try one(registered(given: "Ada King", family: "Lovelace", limit: 500), as: CustomerRegisteredV1.self)
                == CustomerRegisteredV1(customerId: "c1", name: "Ada King Lovelace", email: "ada@example.com", creditLimit: 500, currency: "EUR"))
    }

    @Test func registeredWithoutFamilyNameHasNoTrailingSpace() throws {
        #expect(try one(registered(given: "Plato", family: ""), as: CustomerRegisteredV1.self).name == "Plato")
    }

    @Test func renamed() throws {
        #expect(try one(.renamed(CustomerRenamed(givenName: "Ada", familyName: "King")), as: CustomerRenamedV1.self)
                == CustomerRenamedV1(customerId: "c1", name: "Ada King"))
    }

    @Test func emailChanged() throws {
        #expect(try one(.emailChanged(CustomerEmailChanged(email: "x@y.org")), as: CustomerEmailChangedV1.self)
                == CustomerEmailChangedV1(customerId: "c1", email: "x@y.org"))
    }

    @Test func creditLimitChanged() throws {
        #expect(try one(.creditLimitChanged(CustomerCreditLimitChanged(creditLimit: 7, currency: "GBP")), as: CustomerCreditLimitChangedV1.self)
                == CustomerCreditLimitChangedV1(customerId: "c1", creditLimit: 7, currency: "GBP"))
    }

    @Test func deactivated() throws {
        #expect(try one(.deactivated(CustomerDeactivated()), as: CustomerDeactivatedV1.self) == CustomerDeactivatedV1(customerId: "c1"))
    }

    @Test func creditReserved() throws {
        #expect(try one(reserved("o1", 300, available: 700), as: CustomerCreditReservedV1.self)
                == CustomerCreditReservedV1(customerId: "c1", orderId: "o1", amount: 300, currency: "EUR", availableCredit: 700))
    }

    @Test(arguments: [(CreditRejectionReason.insufficientCredit, "insufficient-credit"), (.customerInactive, "customer-inactive"),
                      (.unknownCustomer, "unknown-customer"), (.currencyMismatch, "currency-mismatch")])
    func creditRejectedCarriesTheReason(_ reason: CreditRejectionReason, _ text: String) throws {
        #expect(try one(rejected("o1", 300, reason), as: CustomerCreditRejectedV1.self)
                == CustomerCreditRejectedV1(customerId: "c1", orderId: "o1", amount: 300, currency: "EUR", reason: text))
    }

    @Test func creditReleased() throws {
        #expect(try one(released("o1", 300, available: 1_000), as: CustomerCreditReleasedV1.self)
                == CustomerCreditReleasedV1(customerId: "c1", orderId: "o1", amount: 300, currency: "EUR", availableCredit: 1_000))
    }

    @Test func mapsStoredEventsTakingTheIdFromTheStream() throws {
        let enc = try registered("ignored").encoded()
        let recorded = RecordedEvent(id: EventID(), stream: CustomerID.stream("c-42"), streamVersion: .first, position: LogPosition(1),
                                     type: enc.type, schemaVersion: enc.schemaVersion, data: enc.data, metadata: EventMetadata(),
                                     timestamp: Date())
        let drafts = try CustomerPublicMapping.map(recorded)
        #expect(try JSONCoding.decode(CustomerRegisteredV1.self, from: drafts[0].data).customerId == "c-42")
        var other = recorded
        other.stream = "orders"
        #expect(try CustomerPublicMapping.map(other).isEmpty)
    }
}
