import Testing
import CQRS
@testable import Orders

/// given(events).when(AddLine).then(events | error).
@Suite struct AddLineTests {
    let added = OrderEvent.lineAdded(LineAdded(orderId: "o1", customerId: "c1", currency: "EUR", line: lineB, lines: [lineA, lineB], total: 1250))

    @Test func addsALineToAPendingOrder() {
        #expect(given([placedEvent]).when(client(.addLine(lineB))).events == [added])
    }

    @Test func addingToAnApprovedOrderPutsItBackToPending() throws {
        let s = given([placedEvent, approvedEvent])
        #expect(s.when(client(.addLine(lineB))).events == [added])
        #expect(try s.given([added]).state().status == .pending)
    }

    @Test func zeroPricedLineKeepsAnApprovedOrderApproved() throws {
        // Credit is already reserved for the unchanged total; Customers would not answer again.
        let free = OrderLine(sku: "GIFT", quantity: 1, unitPrice: 0)
        let s = given([placedEvent, approvedEvent])
        let events = try #require(s.when(client(.addLine(free))).events)
        #expect(try s.given(events).state().status == .approved)
        #expect(try given([placedEvent]).given(events).state().status == .pending)
    }

    @Test func unknownOrderIs404() {
        let r = given([]).when(client(.addLine(lineB)))
        #expect(r.error?.kind == .notFound)
        #expect(r.error?.code == "order-not-found")
    }

    @Test func existingSkuIs409LineExists() {
        let r = given([placedEvent]).when(client(.addLine(OrderLine(sku: "A-1", quantity: 1, unitPrice: 1))))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "line-exists")
    }

    @Test func invalidLineIs422WithFields() {
        let r = given([placedEvent]).when(client(.addLine(OrderLine(sku: "bad sku", quantity: 0, unitPrice: -1))))
        #expect(r.error?.kind == .validation)
        #expect(Set(r.fieldNames) == ["sku", "quantity", "unitPrice"])
    }

    @Test func the101stLineIs422() {
        let lines = (0..<100).map { OrderLine(sku: "S\($0)", quantity: 1, unitPrice: 1) }
        let full = OrderEvent.placed(OrderPlaced(orderId: "o1", customerId: "c1", currency: "EUR", lines: lines, total: 100))
        let r = given([full]).when(client(.addLine(lineB)))
        #expect(r.fieldCodes == ["too-many"])
    }

    @Test func totalOverflowIs422() {
        let big = OrderEvent.placed(OrderPlaced(orderId: "o1", customerId: "c1", currency: "EUR",
                                                lines: [OrderLine(sku: "A", quantity: 10_000, unitPrice: 100_000_000_000)], total: 1_000_000_000_000_000))
        let r = given([big]).when(client(.addLine(OrderLine(sku: "B", quantity: 1, unitPrice: 1))))
        #expect(r.fieldCodes == ["total-too-large"])
    }

    @Test(arguments: [OrderStatus.rejected, .cancelled, .shipped])
    func finalOrdersAreNotModifiable409(status: OrderStatus) {
        let r = given(history(for: status)).when(client(.addLine(lineB)))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "order-not-modifiable")
        #expect(r.error?.message.contains(status.rawValue) == true)
    }
}
