import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Customers

/// A new service over the same stores rebuilds identical read models (and stays consistent).
@Suite struct RestartTests {
    func populate(_ h: ServiceHarness) async throws {
        let lines = [OrderLineV1(sku: "a", quantity: 1, unitPrice: 1)]
        for i in 0..<12 { try await h.ok(register("c\(i)", name: "Person \(i) Name", limit: Int64(100 * i)), "c\(i)") }
        try await h.ok(.rename(name: "Renamed Person"), "c3")
        try await h.ok(.deactivate, "c4")
        try await h.ok(.changeEmail(email: "five@example.org"), "c5")
        for i in 0..<8 {
            try h.publishOrderEvent(OrderPlacedV1(orderId: "o\(i)", customerId: "c\(i)", currency: "EUR", lines: lines, total: Int64(50 * i)),
                                    sourcePosition: UInt64(i + 1))
        }
        try h.publishOrderEvent(OrderShippedV1(orderId: "o2", customerId: "c2", total: 100, currency: "EUR"), sourcePosition: 20)
        try h.publishOrderEvent(OrderCancelledV1(orderId: "o6", customerId: "c6", reason: "x", total: 300, currency: "EUR"), sourcePosition: 21)
        #expect(await h.settle())
    }

    func everything(_ h: ServiceHarness) async throws -> (CustomerPage, ServicePositions) {
        let s = h.service!
        return try await h.loop.run { (try s.listCustomers(limit: 500), s.positions) }
    }

    @Test func restartGivesIdenticalReadModels() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await populate(h)
        let (before, positionsBefore) = try await everything(h)
        #expect(before.items.count == 12)
        #expect(before.items.contains { $0.openOrders > 0 })
        try await h.stop()
        let publicBefore = h.publicLog.lastPosition
        try await h.start()
        #expect(await h.settle())
        let (after, positionsAfter) = try await everything(h)
        #expect(after == before)
        #expect(positionsAfter == positionsBefore)
        #expect(h.publicLog.lastPosition == publicBefore)   // nothing re-published
    }

    @Test func projectionSnapshotsRestoreTheSameModels() async throws {
        let h = ServiceHarness()
        let s = try await h.loop.run { [h] in
            var o = CustomersService.Options()
            o.readModelSnapshotEvery = 3
            let s = try CustomersService(store: h.store, publicLog: h.publicLog, executor: h.loop.executor, scheduler: h.loop.scheduler, options: o)
            try s.start()
            return s
        }
        h.service = s
        try await populate(h)
        let (before, _) = try await everything(h)
        try await h.stop()
        let restarted = try await h.loop.run { [h] in
            var o = CustomersService.Options()
            o.readModelSnapshotEvery = 3
            let s = try CustomersService(store: h.store, publicLog: h.publicLog, executor: h.loop.executor, scheduler: h.loop.scheduler, options: o)
            try s.start()
            return s
        }
        h.service = restarted
        #expect(await h.settle())
        let (after, _) = try await everything(h)
        #expect(after == before)
    }
}
