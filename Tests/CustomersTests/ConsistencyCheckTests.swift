import Testing
import TributaryTesting
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Customers
import JSON

/// `rebuildAndCompare()`: fresh read models from the stores equal the live ones, and a
/// divergence is reported.
@Suite struct ConsistencyCheckTests {
    @Test func liveModelsMatchARebuild() async throws {
        let h = ServiceHarness()
        try await h.start()
        for i in 0..<5 { try await h.ok(register("c\(i)", limit: 1_000), "c\(i)") }
        try await h.ok(.deactivate, "c1")
        let lines = [OrderLineV1(sku: "a", quantity: 1, unitPrice: 1)]
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o1", customerId: "c0", currency: "EUR", lines: lines, total: 10), sourcePosition: 1)
        try h.publishOrderEvent(OrderPlacedV1(orderId: "o2", customerId: "zz", currency: "EUR", lines: lines, total: 10), sourcePosition: 2)
        try h.publishOrderEvent(OrderShippedV1(orderId: "o1", customerId: "c0", total: 10, currency: "EUR"), sourcePosition: 3)
        #expect(await h.settle())
        let report = try await h.loop.awaiting { h.service.rebuildAndCompare(completion: $0) }
        #expect(report.consistent)
        #expect(report.differences.isEmpty)
        #expect(report.compared == 5)
        #expect(report.positions.own == h.store.lastPosition.value)
    }

    @Test func aDivergenceIsReported() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1"), "c1")
        #expect(await h.settle())
        // Corrupt the live model behind the runner's back: apply one event twice.
        let s = h.service!
        let report = try await h.loop.awaiting { (completion: @escaping (Result<ConsistencyReport, Error>) -> Void) in
            let lines = [OrderLineV1(sku: "a", quantity: 1, unitPrice: 1)]
            do {
                let e = RecordedEvent(id: EventID(), stream: "orders", streamVersion: .first, position: LogPosition(99), type: "order.placed",
                                      schemaVersion: 1,
                                      data: try JSONCoding.encode(OrderPlacedV1(orderId: "o", customerId: "c1", currency: "EUR", lines: lines, total: 1)),
                                      metadata: EventMetadata(), timestamp: Date())
                try s.orderActivity.apply(e)
            } catch { return completion(.failure(error)) }
            s.rebuildAndCompare(completion: completion)
        }
        #expect(!report.consistent)
        #expect(report.differences.count == 1)
        #expect(report.differences.first?.contains("c1") == true)
    }
}
