import Testing
import CQRS
@testable import Orders

/// The whole status machine as a table: every status × every command → resulting status or 409 code.
@Suite struct StatusMachineTests {
    enum Expected: Equatable { case to(OrderStatus), conflict(String), unchanged }

    static let commands: [(String, OrderDecision)] = [
        ("add-line", client(.addLine(lineB))),
        ("remove-line", client(.removeLine(sku: "A-1"))),
        ("cancel", client(.cancel(reason: "r"))),
        ("ship", client(.ship)),
        ("approve", OrderDecision(orderId: "o1", .approve(amount: 1000))),
        ("reject", OrderDecision(orderId: "o1", .reject(reason: "no", amount: 1000))),
    ]

    static func expected(_ status: OrderStatus, _ command: String) -> Expected {
        switch (status, command) {
        case (.pending, "add-line"), (.approved, "add-line"), (.pending, "remove-line"), (.approved, "remove-line"): return .to(.pending)
        case (_, "add-line"), (_, "remove-line"): return .conflict("order-not-modifiable")
        case (.pending, "cancel"), (.approved, "cancel"): return .to(.cancelled)
        case (_, "cancel"): return .conflict("order-not-cancellable")
        case (.approved, "ship"): return .to(.shipped)
        case (_, "ship"): return .conflict("order-not-shippable")
        case (.pending, "approve"): return .to(.approved)
        case (.pending, "reject"): return .to(.rejected)
        default: return .unchanged
        }
    }

    @Test(arguments: OrderStatus.allCases)
    func transitionsFrom(status: OrderStatus) throws {
        // Two lines so remove-line is possible.
        let twoLines = OrderEvent.placed(OrderPlaced(orderId: "o1", customerId: "c1", currency: "EUR", lines: [lineA, OrderLine(sku: "C", quantity: 1, unitPrice: 0)], total: 1000))
        let h = [twoLines] + history(for: status).dropFirst()
        #expect(try given(h).state().status == status)
        for (name, command) in StatusMachineTests.commands {
            let outcome = given(h).when(command)
            let actual: Expected
            if let e = outcome.error {
                #expect(e.kind == .conflict, "\(status) \(name): \(e)")
                actual = .conflict(e.code)
            } else if let events = outcome.events, !events.isEmpty {
                actual = .to(try given(h + events).state().status)
            } else {
                actual = .unchanged
            }
            #expect(actual == StatusMachineTests.expected(status, name), "\(status) × \(name)")
        }
    }
}
