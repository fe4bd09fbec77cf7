import Testing
import CQRS
@testable import Orders

/// given(events).when(Cancel | Ship).then(events | error).
@Suite struct CancelAndShipTests {
    @Test(arguments: [OrderStatus.pending, .approved])
    func cancelsPendingOrApproved(status: OrderStatus) {
        let r = given(history(for: status)).when(client(.cancel(reason: "changed my mind")))
        #expect(r.events == [cancelledEvent])
    }

    @Test(arguments: [OrderStatus.rejected, .cancelled, .shipped])
    func cancelOfFinalOrderIs409(status: OrderStatus) {
        let r = given(history(for: status)).when(client(.cancel(reason: "x")))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "order-not-cancellable")
        #expect(r.error?.message.contains(status.rawValue) == true)
    }

    @Test(arguments: ["", "   ", String(repeating: "r", count: 501)])
    func badReasonIs422(reason: String) {
        let r = given([placedEvent]).when(client(.cancel(reason: reason)))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["reason"])
    }

    @Test func reasonOf500CharactersIsAccepted() {
        #expect(given([placedEvent]).when(client(.cancel(reason: String(repeating: "r", count: 500)))).events?.count == 1)
    }

    @Test func cancelOfUnknownOrderIs404() {
        #expect(given([]).when(client(.cancel(reason: "x"))).error?.kind == .notFound)
    }

    @Test func shipsAnApprovedOrder() {
        #expect(given(history(for: .approved)).when(client(.ship)).events == [shippedEvent])
    }

    @Test(arguments: [OrderStatus.pending, .rejected, .cancelled, .shipped])
    func shipOfAnythingButApprovedIs409(status: OrderStatus) {
        let r = given(history(for: status)).when(client(.ship))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "order-not-shippable")
        #expect(r.error?.message.contains(status.rawValue) == true)
    }

    @Test func shipOfUnknownOrderIs404() {
        #expect(given([]).when(client(.ship)).error?.code == "order-not-found")
    }
}
