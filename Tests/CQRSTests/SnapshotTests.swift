import Testing
import TributaryTesting
import EventStore
@testable import CQRS

/// Aggregate snapshots every N events; replay starts from the snapshot; old formats are ignored.
@Suite struct SnapshotTests {
    func handler(_ store: EventStore, every: Int?, decider: AccountDecider = account) throws -> CommandHandler<AccountDecider> {
        var o = CommandHandler<AccountDecider>.Options()
        o.snapshotEvery = every
        return try CommandHandler(decider: decider, store: store, options: o)
    }

    func fill(_ loop: TestLoop, _ store: EventStore, deposits: Int) async throws {
        let h = try handler(store, every: 10)
        _ = try await h.send(.open(given: "A", family: "B"), on: "account-1", loop: loop).get()
        for _ in 0..<deposits { _ = try await h.send(.deposit(1), on: "account-1", loop: loop).get() }
        #expect(try await loop.run { h.stats.snapshotsSaved } == (deposits + 1) / 10)
    }

    @Test func replayStartsFromTheLatestSnapshot() async throws {
        let loop = TestLoop()
        let inner = loop.makeStore()
        try await fill(loop, inner, deposits: 24)   // versions 0...24; snapshots at 9 and 19
        #expect(try inner.loadSnapshot("account-1")?.version == StreamVersion(19))
        let counting = InstrumentedStore(inner)
        let h = try handler(counting, every: 10)
        let r = try await h.send(.deposit(1), on: "account-1", loop: loop).get()
        #expect(r.version == StreamVersion(25))
        #expect(counting.eventsRead == 1 + 5)             // the snapshot's own event (still there?), then 20...24 only
        #expect(try h.state(of: "account-1").state.balance == 25)
    }

    @Test func snapshotOfAnotherStateSchemaIsIgnored() async throws {
        let loop = TestLoop()
        let inner = loop.makeStore()
        try await fill(loop, inner, deposits: 24)
        let counting = InstrumentedStore(inner)
        var v2 = account
        v2.stateSchemaVersion = 2
        let h = try handler(counting, every: 10, decider: v2)
        let r = try await h.send(.deposit(1), on: "account-1", loop: loop).get()
        #expect(r.version == StreamVersion(25))
        #expect(counting.eventsRead == 25 + 1)            // full replay, then the new snapshot's anchor event
        // It then writes a snapshot in its own format.
        #expect(try inner.loadSnapshot("account-1")?.version == StreamVersion(24))   // re-snapshotted on load, in its own format
    }

    @Test func aSnapshotOfEventsTheStoreNoLongerHasIsIgnored() async throws {
        // A crash without fsync durability can lose events a snapshot already saw: the stream
        // then has fewer events (or, grown again, other ones) than the snapshot claims.
        let loop = TestLoop()
        let a = loop.makeStore()
        try await fill(loop, a, deposits: 24)                        // snapshot at 19 (balance 19)
        let survivor = loop.makeStore()                               // what was durable: versions 0...4
        let h0 = try handler(survivor, every: nil)
        _ = try await h0.send(.open(given: "A", family: "B"), on: "account-1", loop: loop).get()
        for _ in 0..<4 { _ = try await h0.send(.deposit(1), on: "account-1", loop: loop).get() }
        let stale = try #require(try a.loadSnapshot("account-1"))
        try survivor.saveSnapshot("account-1", version: stale.version, data: stale.data)

        let h = try handler(survivor, every: 10)
        let r = try await h.send(.deposit(1), on: "account-1", loop: loop).get()
        #expect(r.version == StreamVersion(5))
        #expect(try h.state(of: "account-1").state.balance == 5)

        // Grown past the snapshot's version again (in another process, say): still not trusted.
        // Only this stream was written, so the event at version 19 even sits at the same global
        // position as the lost one; its id and commit time (the anchor) tell them apart.
        for _ in 0..<20 { _ = try await h0.send(.deposit(2), on: "account-1", loop: loop).get() }
        try survivor.saveSnapshot("account-1", version: stale.version, data: stale.data)
        let h2 = try handler(survivor, every: 10)
        _ = try await h2.send(.deposit(1), on: "account-1", loop: loop).get()
        #expect(try h2.state(of: "account-1").state.balance == 5 + 40 + 1)   // the stale one would give 19 + 12 + 1
    }

    @Test func snapshotsDisabledMeansFullReplay() async throws {
        let loop = TestLoop()
        let inner = loop.makeStore()
        try await fill(loop, inner, deposits: 24)
        let counting = InstrumentedStore(inner)
        let h = try handler(counting, every: nil)
        _ = try await h.send(.deposit(1), on: "account-1", loop: loop).get()
        #expect(counting.eventsRead == 25)
    }

    @Test func snapshotEnvelopeRoundTripsAndRejectsOtherVersions() {
        let bytes = SnapshotFormat.encode(schemaVersion: 3, position: LogPosition(42), anchor: "id@7", state: json("{}"))
        guard case let .snapshot(position, anchor, state) = SnapshotFormat.decode(bytes, schemaVersion: 3) else {
            Issue.record("envelope not read back"); return
        }
        #expect(position == LogPosition(42) && anchor == "id@7" && Array(state) == json("{}"))
        guard case .otherSchema(3) = SnapshotFormat.decode(bytes, schemaVersion: 2) else { Issue.record("schema 2 accepted"); return }
        guard case .unreadable = SnapshotFormat.decode(json("{\"legacy\":true}"), schemaVersion: 3) else { Issue.record("legacy accepted"); return }
        guard case .unreadable = SnapshotFormat.decode(json("tributary-snapshot 1 3 42\n{}"), schemaVersion: 3) else {
            Issue.record("envelope 1 (no anchor) accepted"); return
        }
    }
}
