import Testing
import CQRS
@testable import Orders

/// given(events).when(Approve | Reject).then(events | error): the saga's commands.
@Suite struct SagaDecisionTests {
    func approve(_ amount: Int64) -> OrderDecision { OrderDecision(orderId: "o1", .approve(amount: amount)) }
    func reject(_ amount: Int64) -> OrderDecision { OrderDecision(orderId: "o1", .reject(reason: "insufficient-credit", amount: amount)) }

    @Test func reservationOfTheTotalApprovesAPendingOrder() {
        #expect(given([placedEvent]).when(approve(1000)).events == [approvedEvent])
    }

    @Test func reservationOfAnotherTotalIsIgnored() {
        #expect(given([placedEvent]).when(approve(999)).events == [])
    }

    @Test func staleReservationAfterLinesChangedIsIgnoredAndTheNewOneApproves() {
        let added = OrderEvent.lineAdded(LineAdded(orderId: "o1", customerId: "c1", currency: "EUR", line: lineB, lines: [lineA, lineB], total: 1250))
        let s = given([placedEvent, approvedEvent, added])
        #expect(s.when(approve(1000)).events == [])
        #expect(s.when(approve(1250)).events == [.approved(OrderApproved(orderId: "o1", customerId: "c1", total: 1250, currency: "EUR"))])
    }

    @Test func rejectionRejectsAPendingOrder() {
        #expect(given([placedEvent]).when(reject(1000)).events == [rejectedEvent])
    }

    @Test func staleRejectionIsIgnored() {
        #expect(given([placedEvent]).when(reject(5)).events == [])
    }

    @Test(arguments: [OrderStatus.approved, .rejected, .cancelled, .shipped])
    func answersForNonPendingOrdersChangeNothing(status: OrderStatus) {
        #expect(given(history(for: status)).when(approve(1000)).events == [])
        #expect(given(history(for: status)).when(reject(1000)).events == [])
    }

    @Test func answersForUnknownOrdersAre404() {
        #expect(given([]).when(approve(1)).error?.kind == .notFound)
        #expect(given([]).when(reject(1)).error?.kind == .notFound)
    }

    @Test func eventsSurviveTheCodecAndRebuildState() throws {
        let s = try given([placedEvent, approvedEvent, shippedEvent]).state()
        #expect(s.status == .shipped)
        #expect(s.total == 1000)
        #expect(try given([placedEvent, rejectedEvent]).state().rejectionReason == "insufficient-credit")
        #expect(try given([placedEvent, cancelledEvent]).state().cancellationReason == "changed my mind")
    }
}
