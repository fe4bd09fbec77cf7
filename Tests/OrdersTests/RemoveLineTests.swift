import Testing
import CQRS
@testable import Orders

/// given(events).when(RemoveLine).then(events | error).
@Suite struct RemoveLineTests {
    let twoLines = OrderEvent.placed(OrderPlaced(orderId: "o1", customerId: "c1", currency: "EUR", lines: [lineA, lineB], total: 1250))
    var removed: OrderEvent { .lineRemoved(LineRemoved(orderId: "o1", customerId: "c1", currency: "EUR", sku: "B.2", lines: [lineA], total: 1000)) }

    @Test func removesALineAndRecomputesTheTotal() {
        #expect(given([twoLines]).when(client(.removeLine(sku: "B.2"))).events == [removed])
    }

    @Test func removingFromAnApprovedOrderPutsItBackToPending() throws {
        let approved = OrderEvent.approved(OrderApproved(orderId: "o1", customerId: "c1", total: 1250, currency: "EUR"))
        let s = given([twoLines, approved])
        #expect(s.when(client(.removeLine(sku: "B.2"))).events == [removed])
        #expect(try s.given([removed]).state().status == .pending)
        #expect(try s.given([removed]).state().total == 1000)
    }

    @Test func unknownOrderIs404() {
        #expect(given([]).when(client(.removeLine(sku: "A-1"))).error?.code == "order-not-found")
    }

    @Test func unknownSkuIs409LineNotFound() {
        let r = given([twoLines]).when(client(.removeLine(sku: "nope")))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "line-not-found")
    }

    @Test func lastLineIs409() {
        let r = given([placedEvent]).when(client(.removeLine(sku: "A-1")))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "last-line")
    }

    @Test func emptySkuIs422() {
        #expect(given([twoLines]).when(client(.removeLine(sku: ""))).fieldNames == ["sku"])
    }

    @Test(arguments: [OrderStatus.rejected, .cancelled, .shipped])
    func finalOrdersAreNotModifiable409(status: OrderStatus) {
        let r = given(history(for: status)).when(client(.removeLine(sku: "A-1")))
        #expect(r.error?.code == "order-not-modifiable")
    }
}
