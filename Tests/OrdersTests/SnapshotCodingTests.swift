import Testing
import CQRS
import EventStore
@testable import Orders

/// The binary read-model snapshots round-trip every field; the field counts guard the layout.
@Suite struct OrderSnapshotCodingTests {
    @Test func viewsStateRoundTripsIncludingTheCustomerIndexAndStats() throws {
        var s = OrderViewsProjection.State()
        let a = OrderView(orderId: "a", customerId: "c1", customerName: "Ada", status: .shipped, currency: "EUR",
                          lines: [OrderLine(sku: "A", quantity: 2, unitPrice: 500), OrderLine(sku: "é✓", quantity: 1, unitPrice: -1)],
                          total: 999, createdAt: "2026-11-27T00:00:00Z", updatedAt: "2026-11-27T00:00:01Z", version: 3,
                          rejectionReason: nil, cancellationReason: "x")
        var b = a
        b.orderId = "b"; b.customerId = "c2"; b.customerName = nil; b.status = .rejected; b.rejectionReason = "no credit"; b.cancellationReason = nil
        var c = a
        c.orderId = "c"; c.lines = []
        for (i, v) in [a, b, c].enumerated() {
            s.orders[v.orderId] = v
            s.byCustomer[v.customerId, default: []].append(i)
            s.created.append(.init(position: UInt64(10 * (i + 1)), orderId: v.orderId))
            s.stats.ordersByStatus[v.status.rawValue, default: 0] += 1
        }
        s.stats.revenueByCurrency = ["EUR": 1998, "USD": Int64.max]
        s.stats.orderCount = 3
        var w = SnapshotWriter()
        OrderSnapshotCoding.write(s, to: &w)
        var r = SnapshotReader(w.bytes)
        #expect(try OrderSnapshotCoding.readViews(&r) == s)
        #expect(r.isAtEnd)
        // Truncated bytes fail instead of giving a partial model.
        var short = SnapshotReader(Array(w.bytes.dropLast(3)))
        #expect(throws: SnapshotDecodingError.self) { try OrderSnapshotCoding.readViews(&short) }
    }

    @Test func replicaRoundTrips() throws {
        let m: ReadModelDictionary<String, ReplicaCustomer> = ["c1": ReplicaCustomer(customerId: "c1", name: "Ada", active: true, currency: "EUR", creditLimit: 7),
                 "c2": ReplicaCustomer(customerId: "c2", name: "", active: false, currency: "USD", creditLimit: -3)]
        var w = SnapshotWriter()
        OrderSnapshotCoding.write(m, to: &w)
        var r = SnapshotReader(w.bytes)
        #expect(try OrderSnapshotCoding.readReplica(&r) == m)
        #expect(r.isAtEnd)
    }

    /// A new field must be added to `OrderSnapshotCoding` (and the schema version bumped).
    @Test func snapshotLayoutCoversEveryField() {
        let v = OrderView(orderId: "", customerId: "", customerName: nil, status: .pending, currency: "", lines: [], total: 0,
                          createdAt: "", updatedAt: "", version: 0, rejectionReason: nil, cancellationReason: nil)
        #expect(Mirror(reflecting: v).children.count == 12)
        #expect(Mirror(reflecting: OrderLine(sku: "", quantity: 0, unitPrice: 0)).children.count == 3)
        #expect(Mirror(reflecting: OrderViewsProjection.State()).children.count == 4)
        #expect(Mirror(reflecting: OrderStatsView()).children.count == 3)
        #expect(Mirror(reflecting: ReplicaCustomer(customerId: "", name: "", active: true, currency: "", creditLimit: 0)).children.count == 5)
    }
}
