import Testing
import CQRS
import EventStore
@testable import Customers

/// The binary read-model snapshots round-trip every field; the field counts guard the layout.
@Suite struct CustomerSnapshotCodingTests {
    @Test func recordsAndActivityRoundTrip() throws {
        var s = CustomerState()
        s.registered = true; s.customerId = "c1"; s.givenName = "Ada"; s.familyName = "Lövelace"; s.email = "a@x.org"
        s.creditLimit = 1_000; s.currency = "EUR"; s.active = true; s.reservations = ["o1": 10, "o2": 20]
        var t = CustomerState()
        t.customerId = "c2"
        let records: ReadModelDictionary<String, CustomerRecord> = ["c1": CustomerRecord(state: s, version: 4, updatedAt: "2026-11-27T00:00:00Z"),
                       "c2": CustomerRecord(state: t, version: -1, updatedAt: "")]
        var activity: ReadModelDictionary<String, CustomerOrderActivity> = ["c1": CustomerOrderActivity(), "zz": CustomerOrderActivity()]
        activity["c1"]?.orderCount = 3; activity["c1"]?.lifetimeValue = Int64.max
        var w = SnapshotWriter()
        CustomerSnapshotCoding.write(records, to: &w)
        CustomerSnapshotCoding.write(activity, to: &w)
        var r = SnapshotReader(w.bytes)
        #expect(try CustomerSnapshotCoding.readRecords(&r) == records)
        #expect(try CustomerSnapshotCoding.readActivity(&r) == activity)
        #expect(r.isAtEnd)
    }

    @Test func aDirectoryRestoredFromItsSnapshotHasTheSameContentAndIndex() throws {
        let live = CustomerDirectoryProjection()
        var s = CustomerState()
        s.registered = true; s.customerId = "b"
        var w = SnapshotWriter()
        CustomerSnapshotCoding.write(["b": CustomerRecord(state: s, version: 0, updatedAt: "t"),
                                      "a": CustomerRecord(state: s, version: 1, updatedAt: "t")], to: &w)
        CustomerSnapshotCoding.write([:] as ReadModelDictionary<String, CustomerRecord>, to: &w)
        try live.restore(from: w.bytes)
        let copy = CustomerDirectoryProjection()
        let encode = try #require(try live.captureSnapshot())
        try copy.restore(from: try encode())
        #expect(copy.sameContent(as: live))
        #expect(Array(copy.ids(after: nil)) == ["a", "b"])
        #expect(throws: (any Error).self) { try CustomerDirectoryProjection().restore(from: Array(w.bytes.dropLast())) }
    }

    /// A new field must be added to `CustomerSnapshotCoding` (and the schema version bumped).
    @Test func snapshotLayoutCoversEveryField() {
        #expect(Mirror(reflecting: CustomerState()).children.count == 9)
        #expect(Mirror(reflecting: CustomerRecord(state: CustomerState(), version: 0, updatedAt: "")).children.count == 3)
        #expect(Mirror(reflecting: CustomerOrderActivity()).children.count == 2)
    }
}
