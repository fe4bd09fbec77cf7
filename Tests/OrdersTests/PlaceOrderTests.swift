import Testing
import CQRS
@testable import Orders

/// given(events).when(PlaceOrder).then(events | error), including the replica checks.
@Suite struct PlaceOrderTests {
    @Test func placesAPendingOrderWithItsTotal() {
        let r = given([]).when(placeCommand([lineA, lineB]))
        #expect(r.events == [.placed(OrderPlaced(orderId: "o1", customerId: "c1", currency: "EUR", lines: [lineA, lineB], total: 1250))])
    }

    @Test func secondPlaceIsOrderExists409() {
        let r = given([placedEvent]).when(placeCommand())
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "order-exists")
    }

    @Test func emptyLinesAre422() {
        let r = given([]).when(placeCommand([]))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["lines"])
    }

    @Test func moreThan100LinesAre422() {
        let lines = (0...100).map { OrderLine(sku: "S\($0)", quantity: 1, unitPrice: 1) }
        let r = given([]).when(placeCommand(lines))
        #expect(r.fieldCodes.contains("too-many"))
        let ok = given([]).when(placeCommand(Array(lines.prefix(100))))
        #expect(ok.events?.count == 1)
    }

    @Test(arguments: [0, -1, 10_001])
    func quantityOutOfRangeIs422(quantity: Int) {
        let r = given([]).when(placeCommand([OrderLine(sku: "A", quantity: quantity, unitPrice: 1)]))
        #expect(r.fieldNames == ["lines[0].quantity"])
    }

    @Test func quantityBoundsAreAccepted() {
        #expect(given([]).when(placeCommand([OrderLine(sku: "A", quantity: 1, unitPrice: 0)])).events?.count == 1)
        #expect(given([]).when(placeCommand([OrderLine(sku: "A", quantity: 10_000, unitPrice: 7)])).events?.count == 1)
    }

    @Test func negativeUnitPriceIs422() {
        let r = given([]).when(placeCommand([OrderLine(sku: "A", quantity: 1, unitPrice: -1)]))
        #expect(r.fieldNames == ["lines[0].unitPrice"])
    }

    @Test(arguments: ["", String(repeating: "x", count: 65), "a b", "ä", "a/b"])
    func badSkuIs422(sku: String) {
        let r = given([]).when(placeCommand([OrderLine(sku: sku, quantity: 1, unitPrice: 1)]))
        #expect(r.fieldNames == ["lines[0].sku"])
    }

    @Test func longestSkuIsAccepted() {
        #expect(given([]).when(placeCommand([OrderLine(sku: String(repeating: "x", count: 64), quantity: 1, unitPrice: 1)])).events != nil)
    }

    @Test func duplicateSkuIs422() {
        let r = given([]).when(placeCommand([lineA, lineA]))
        #expect(r.fieldNames == ["lines[1].sku"])
        #expect(r.fieldCodes == ["duplicate-sku"])
    }

    @Test func unknownCurrencyIs422() {
        let r = given([]).when(placeCommand(currency: "XXX"))
        #expect(r.fieldNames == ["currency"])
        #expect(r.fieldCodes == ["unsupported-currency"])
    }

    @Test func totalAbove10To15Is422() {
        let r = given([]).when(placeCommand([OrderLine(sku: "A", quantity: 10_000, unitPrice: 100_000_000_001)]))
        #expect(r.fieldCodes == ["total-too-large"])
        let exact = given([]).when(placeCommand([OrderLine(sku: "A", quantity: 10_000, unitPrice: 100_000_000_000)]))
        #expect(exact.events?.count == 1)
    }

    @Test func multiplicationOverflowIs422NotACrash() {
        let r = given([]).when(placeCommand([OrderLine(sku: "A", quantity: 10_000, unitPrice: Int64.max / 2)]))
        #expect(r.fieldCodes == ["total-too-large"])
    }

    @Test func unknownCustomerIs422OnCustomerId() {
        let r = given([]).when(placeCommand(customer: nil))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["customerId"])
        #expect(r.fieldCodes == ["unknown-customer"])
    }

    @Test func inactiveCustomerIs422OnCustomerId() {
        var c = ada
        c.active = false
        let r = given([]).when(placeCommand(customer: c))
        #expect(r.fieldNames == ["customerId"])
        #expect(r.fieldCodes == ["customer-inactive"])
    }

    @Test func currencyOtherThanTheCustomersIs422OnCurrency() {
        let r = given([]).when(placeCommand(currency: "USD"))
        #expect(r.fieldNames == ["currency"])
        #expect(r.fieldCodes == ["currency-mismatch"])
    }

    @Test func everyFieldProblemIsReportedAtOnce() {
        let r = given([]).when(placeCommand([OrderLine(sku: "", quantity: 0, unitPrice: -5)], currency: "ZZZ", customer: nil))
        #expect(Set(r.fieldNames) == ["lines[0].sku", "lines[0].quantity", "lines[0].unitPrice", "currency", "customerId"])
    }
}

/// Until the customer replica has caught up with the public log (start-up), "unknown customer"
/// cannot be decided: `place` answers not-ready (503) rather than a wrong 422.
@Suite struct PlaceWhileReplayingTests {
    @Test func placeBeforeTheReplicaCaughtUpIsNotReadyThenGoesThrough() async throws {
        let h = Harness()
        try h.register()   // c1 is in the public log before the service starts
        let s = try await h.run { () -> OrdersService in
            let s = try OrdersService(store: h.store, publicLog: h.publicLog, executor: h.executor, scheduler: h.scheduler)
            s.placeReplicaWait = .milliseconds(50)
            return s
        }
        h.service = s   // built, read models not started: the replica knows nobody yet
        let early = await h.send(place1)
        guard case .failure(.notReady) = early else { Issue.record("expected notReady, got \(early)"); return }
        try await h.run { try s.start() }
        #expect(await h.eventually { $0.isReady })
        let later = await h.send(place1)
        #expect((try? later.get()) != nil, "\(later)")
    }
}
