import Testing
import TributaryTesting
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders

/// A new service over the same stores rebuilds identical read models and publishes nothing twice.
@Suite struct RestartTests {
    /// `dropReplicaSnapshot`: the views restore their snapshot but the replica rebuilds (its
    /// snapshot is unreadable): the names must still end up as a rebuild gives them.
    @Test(arguments: [(nil, false), (2, false), (2, true)] as [(UInt64?, Bool)])
    func restartGivesIdenticalReadModels(snapshotEvery: UInt64?, dropReplicaSnapshot: Bool) async throws {
        let h = Harness()
        try await h.start(viewsSnapshotEvery: snapshotEvery)
        try h.register("c1")
        try h.register("c2", name: "Bob")
        #expect(await h.waitForViews())
        _ = try await h.send(place1, "a").get()
        _ = try await h.send(.place(PlaceOrder(customerId: "c2", currency: "EUR", lines: [lineA, lineB])), "b").get()
        try h.publishCustomer(CustomerCreditReservedV1(customerId: "c1", orderId: "a", amount: 1000, currency: "EUR", availableCredit: 0))
        try h.publishCustomer(CustomerCreditRejectedV1(customerId: "c2", orderId: "b", amount: 1250, currency: "EUR", reason: "insufficient-credit"))
        #expect(await h.eventually { $0.order("a")?.status == .approved && $0.order("b")?.status == .rejected })
        _ = try await h.send(.ship, "a").get()
        try h.publishCustomer(CustomerRenamedV1(customerId: "c1", name: "Ada K."))
        #expect(await h.eventually { _ in (try? h.orderPublicEvents().count) == 5 })
        #expect(await h.waitForViews())

        func snapshot(_ h: Harness) async throws -> (OrderPage, OrderStatsView, OrderView?, OrderView?) {
            try await h.run { (try h.service.orders(limit: 500), h.service.stats(), h.service.order("a"), h.service.order("b")) }
        }
        let before = try await snapshot(h)
        let publicCount = h.publicLog.lastPosition
        try await h.run { h.service.stop() }

        let snap = try h.store.loadSnapshot(ProjectionRunner.snapshotStream(for: "orders.views"))
        #expect((snap != nil) == (snapshotEvery != nil))
        let replicaSnap = try h.store.loadSnapshot(ProjectionRunner.snapshotStream(for: "orders.customer-replica"))
        #expect((replicaSnap != nil) == (snapshotEvery != nil))
        if dropReplicaSnapshot {
            try h.store.saveSnapshot(ProjectionRunner.snapshotStream(for: "orders.customer-replica"), version: StreamVersion(1), data: [1, 2, 3])
        }
        let h2 = Harness(restarting: h)
        try await h2.start(viewsSnapshotEvery: snapshotEvery)
        #expect(await h2.waitForViews())
        #expect(await h2.eventually { $0.isReady })
        if snapshotEvery != nil {
            #expect(try await h2.run { h2.service.viewsRunner.restoredSnapshotPosition != nil })
            #expect(try await h2.run { (h2.service.replicaRunner.restoredSnapshotPosition != nil) == !dropReplicaSnapshot })
        }
        let after = try await snapshot(h2)
        #expect(after.0 == before.0)
        #expect(after.1 == before.1)
        #expect(after.2 == before.2 && after.2?.customerName == "Ada K.")
        #expect(after.3 == before.3)
        let report = try await awaiting(on: h2.queue) { h2.service.checkConsistency(completion: $0) }
        #expect(report.consistent, "\(report.differences)")
        // Nothing re-published, nothing re-applied by the consumer.
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(h2.publicLog.lastPosition == publicCount)
        #expect(try h.store.readStream("order-a").count == 3)
    }
}
