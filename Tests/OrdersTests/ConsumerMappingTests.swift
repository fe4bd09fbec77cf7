import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders
import JSON

/// Customer credit answers map to approve/reject commands on the right order stream.
@Suite struct ConsumerMappingTests {
    func envelope<P: PublicEventPayload>(_ p: P) throws -> PublicEventEnvelope {
        PublicEventEnvelope(id: EventID(), type: P.eventType.name, version: P.eventType.version, source: "customers",
                            occurredAt: "2027-01-01T00:00:00.000Z", correlationId: nil, causationId: nil,
                            data: try JSONCoding.encode(p), position: LogPosition(7), sourcePosition: LogPosition(3))
    }

    @Test func creditReservedBecomesApproveWithTheAmount() throws {
        let cmds = try OrderSagaMapping.commands(for: envelope(CustomerCreditReservedV1(customerId: "c1", orderId: "o9", amount: 1250, currency: "EUR", availableCredit: 5)))
        #expect(cmds.count == 1)
        #expect(cmds[0].stream == "order-o9")
        #expect(cmds[0].command == OrderDecision(orderId: "o9", .approve(amount: 1250)))
    }

    @Test func creditRejectedBecomesRejectWithTheReason() throws {
        let cmds = try OrderSagaMapping.commands(for: envelope(CustomerCreditRejectedV1(customerId: "c1", orderId: "o9", amount: 10, currency: "EUR", reason: "insufficient-credit")))
        #expect(cmds.map(\.command) == [OrderDecision(orderId: "o9", .reject(reason: "insufficient-credit", amount: 10))])
    }

    @Test func otherEventsAndInvalidOrderIdsMapToNothing() throws {
        #expect(try OrderSagaMapping.commands(for: envelope(CustomerRenamedV1(customerId: "c1", name: "x"))).isEmpty)
        #expect(try OrderSagaMapping.commands(for: envelope(CustomerCreditReservedV1(customerId: "c1", orderId: "bad id/..", amount: 1, currency: "EUR", availableCredit: 0))).isEmpty)
    }

    @Test func subscribesToCreditAnswersOnly() {
        #expect(OrderSagaMapping.eventTypes == ["customer.credit-reserved", "customer.credit-rejected"])
    }
}
