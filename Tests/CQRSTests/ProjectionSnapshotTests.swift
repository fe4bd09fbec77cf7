import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS
import JSON

/// Balances again, but the snapshot's encoding can be held (to prove it runs off the loop and
/// one at a time) and records the queue it ran on.
final class GatedBalanceProjection: Projection, @unchecked Sendable {
    let name = "gated-balances"
    var filter: EventFilter? { .categories("account") }
    var balances: [String: Int] = [:]
    /// Encodings started / whether any ran on the loop queue (written off the loop, read after).
    let lock = NSLock()
    var encodingsStarted = 0
    var encodedOnLoop = false
    var gate: DispatchSemaphore?
    let loopKey: DispatchSpecificKey<Bool>

    init(loopKey: DispatchSpecificKey<Bool>) { self.loopKey = loopKey }

    func apply(_ event: RecordedEvent) throws {
        if event.type == "Deposited" {
            balances[event.stream.value, default: 0] += try JSONCoding.decode(AccountDecider.Amount.self, from: event.data).amount
        }
    }

    func captureSnapshot() throws -> SnapshotEncoding? {
        let copy = balances, gate = self.gate
        return { [self] in
            lock.lock(); encodingsStarted += 1; if DispatchQueue.getSpecific(key: loopKey) == true { encodedOnLoop = true }; lock.unlock()
            gate?.wait()
            return try JSONCoding.encode(copy)
        }
    }
    func restore(from bytes: [UInt8]) throws { balances = try JSONCoding.decode([String: Int].self, from: bytes) }
}

@Suite struct ProjectionSnapshotTests {
    final class Log: @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
        func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
        func contains(_ s: String) -> Bool { lock.lock(); defer { lock.unlock() }; return lines.contains { $0.contains(s) } }
    }

    func deposit(_ n: Int) -> NewEvent { NewEvent(type: "Deposited", data: json("{\"amount\":\(n)}")) }

    func fill(_ store: EventStore, _ count: Int, amount: Int = 1) throws {
        for i in 0..<count { _ = try rawAppend(store, StreamName("account-\(i % 3)"), [deposit(amount)]) }
    }

    func runner(_ loop: TestLoop, _ store: EventStore, _ projection: Projection, every: UInt64?, log: Log,
                snapshots: EventStore? = nil) -> ProjectionRunner {
        var o = ProjectionRunner.Options()
        o.snapshotEvery = every
        o.snapshotStore = snapshots
        return ProjectionRunner(projection: projection, store: store, executor: loop.executor, scheduler: ManualScheduler(),
                                options: o, logger: { _, m in log.add(m) })
    }

    func loopWithKey() -> (TestLoop, DispatchSpecificKey<Bool>) {
        let loop = TestLoop(), key = DispatchSpecificKey<Bool>()
        loop.queue.setSpecific(key: key, value: true)
        return (loop, key)
    }

    /// Starts, catches up, stops and saves a final snapshot; returns the projection.
    func snapshotted(_ loop: TestLoop, _ store: EventStore, key: DispatchSpecificKey<Bool>, log: Log,
                     snapshots: EventStore? = nil) async throws -> GatedBalanceProjection {
        let p = GatedBalanceProjection(loopKey: key)
        let r = runner(loop, store, p, every: 1_000_000, log: log, snapshots: snapshots)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.isCaughtUp })
        let pending = try await loop.run { () -> PendingSnapshot? in r.stop(); return r.saveFinalSnapshot() }
        let saved = try #require(pending)
        guard case .success? = saved.wait(timeout: 5) else { Issue.record("final snapshot not saved"); return p }
        return p
    }

    @Test func periodicSnapshotsAreEncodedOffTheLoopOneAtATime() async throws {
        let (loop, key) = loopWithKey()
        let store = loop.makeStore()
        let p = GatedBalanceProjection(loopKey: key)
        p.gate = DispatchSemaphore(value: 0)
        let log = Log()
        let r = runner(loop, store, p, every: 10, log: log)
        try await loop.run { r.start() }
        try fill(store, 12)
        #expect(await loop.eventually { p.lock.withLock { p.encodingsStarted } == 1 })
        // The encoding is held: the loop keeps applying events, and no second save starts.
        try fill(store, 30)
        #expect(await loop.eventually { r.position == LogPosition(42) })
        #expect(p.lock.withLock { p.encodingsStarted } == 1)
        #expect(try await loop.run { r.snapshotsSaved } == 0)
        p.gate?.signal()
        #expect(await loop.eventually { r.snapshotsSaved == 1 })
        // The next delivery starts the next one (again held until signalled).
        try fill(store, 1)
        #expect(await loop.eventually { p.lock.withLock { p.encodingsStarted } == 2 })
        p.gate?.signal()
        #expect(await loop.eventually { r.snapshotsSaved == 2 })
        #expect(!p.encodedOnLoop)
        let snap = try #require(try store.loadSnapshot(ProjectionRunner.snapshotStream(for: p.name)))
        #expect(snap.version.value == 43)
        #expect(log.contains("saved snapshot at position 43"))
        try await loop.run { r.stop() }
    }

    /// After an operator's rebuild swapped a new state in at position R, a snapshot taken at or
    /// before R may hold the replaced state: it is not restored (a full replay instead).
    @Test func aSnapshotThatPredatesTheLastRebuildIsNotRestored() async throws {
        let (loop, key) = loopWithKey()
        let store = loop.makeStore()
        try fill(store, 25)
        _ = try await snapshotted(loop, store, key: key, log: Log())
        for (floor, restored) in [(LogPosition(25), nil), (LogPosition(24), LogPosition(25))] {
            let p = GatedBalanceProjection(loopKey: key), log = Log()
            let r = runner(loop, store, p, every: 1_000_000, log: log)
            try await loop.run {
                r.snapshotFloor = floor
                r.start()
            }
            #expect(await loop.eventually { r.isCaughtUp })
            #expect(try await loop.run { (r.restoredSnapshotPosition, r.position) } == (restored, LogPosition(25)))
            #expect(log.contains("predates its rebuild") == (restored == nil))
        }
    }

    @Test func startLoadsTheSnapshotAndReplaysOnlyTheTail() async throws {
        let (loop, key) = loopWithKey()
        let store = loop.makeStore()
        try fill(store, 25)
        let first = try await snapshotted(loop, store, key: key, log: Log())
        try fill(store, 5, amount: 2)
        let second = GatedBalanceProjection(loopKey: key), log = Log()
        let r = runner(loop, store, second, every: 1_000_000, log: log)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.isCaughtUp })
        try await loop.run {
            #expect(r.restoredSnapshotPosition == LogPosition(25))
            #expect(r.eventsDelivered == 5)
            #expect(r.position == LogPosition(30))
            var expected = first.balances
            for i in 0..<5 { expected["account-\(i % 3)", default: 0] += 2 }
            #expect(second.balances == expected)
        }
        #expect(log.contains("loaded snapshot at position 25"))
        #expect(!first.encodedOnLoop)
    }

    @Test func aSnapshotAheadOfTheStoreIsIgnored() async throws {
        // The snapshot was taken over 30 events; the store came back from a crash with 20.
        let (loop, key) = loopWithKey()
        let snapshots = loop.makeStore()
        let before = loop.makeStore()
        try fill(before, 30)
        _ = try await snapshotted(loop, before, key: key, log: Log(), snapshots: snapshots)
        let truncated = loop.makeStore()
        try fill(truncated, 20)
        let p = GatedBalanceProjection(loopKey: key), log = Log()
        let r = runner(loop, truncated, p, every: 1_000_000, log: log, snapshots: snapshots)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.isCaughtUp })
        try await loop.run {
            #expect(r.restoredSnapshotPosition == nil)
            #expect(r.eventsDelivered == 20)
            #expect(p.balances == ["account-0": 7, "account-1": 7, "account-2": 6])
        }
        #expect(log.contains("ahead of the store"))
    }

    @Test func aSnapshotOfAStoreThatWasCutBackAndGrewAgainIsIgnored() async throws {
        // Same position count, other events at the snapshot's position: its anchor does not match.
        let (loop, key) = loopWithKey()
        let snapshots = loop.makeStore()
        let before = loop.makeStore()
        try fill(before, 30)
        _ = try await snapshotted(loop, before, key: key, log: Log(), snapshots: snapshots)
        let rewritten = loop.makeStore()
        try fill(rewritten, 40, amount: 3)
        let p = GatedBalanceProjection(loopKey: key), log = Log()
        let r = runner(loop, rewritten, p, every: 1_000_000, log: log, snapshots: snapshots)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.isCaughtUp })
        try await loop.run {
            #expect(r.restoredSnapshotPosition == nil)
            #expect(r.eventsDelivered == 40)
            #expect(p.balances.values.reduce(0, +) == 120)
        }
        #expect(log.contains("does not match"))
    }

    @Test func aCorruptOrForeignSnapshotIsIgnored() async throws {
        let (loop, key) = loopWithKey()
        let store = loop.makeStore()
        try fill(store, 12)
        let stream = ProjectionRunner.snapshotStream(for: "gated-balances")
        let cases: [([UInt8], String)] = [
            (json("garbage, not a snapshot"), "unreadable"),
            (json("tributary-snapshot 1 1 12\n{}"), "unreadable"),  // envelope 1 (no anchor)
            (SnapshotFormat.encode(schemaVersion: 7, position: LogPosition(12), anchor: "x", state: json("{}")), "state schema version 7"),
        ]
        for (bytes, message) in cases {
            try store.saveSnapshot(stream, version: StreamVersion(12), data: bytes)
            let p = GatedBalanceProjection(loopKey: key), log = Log()
            let r = runner(loop, store, p, every: 1_000_000, log: log)
            try await loop.run { r.start() }
            #expect(await loop.eventually { r.isCaughtUp })
            try await loop.run {
                #expect(r.restoredSnapshotPosition == nil)
                #expect(r.eventsDelivered == 12)
                #expect(p.balances == ["account-0": 4, "account-1": 4, "account-2": 4])
                r.stop()
            }
            #expect(log.contains(message), "\(log.lines)")
        }
        // A state that passes the envelope checks but does not decode: restore throws, rebuild.
        let anchor = SnapshotFormat.anchor(of: try #require(try store.readAll(from: LogPosition(11), maxCount: 1, filter: nil).first))
        try store.saveSnapshot(stream, version: StreamVersion(12),
                               data: SnapshotFormat.encode(schemaVersion: 1, position: LogPosition(12), anchor: anchor, state: json("[1,")))
        let p = GatedBalanceProjection(loopKey: key), log = Log()
        let r = runner(loop, store, p, every: 1_000_000, log: log)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.isCaughtUp })
        try await loop.run { #expect(r.restoredSnapshotPosition == nil); #expect(r.eventsDelivered == 12) }
        #expect(log.contains("ignoring snapshot"))
    }

    @Test func snapshotsOffMeansNoneSavedAndNoneLoaded() async throws {
        let (loop, key) = loopWithKey()
        let store = loop.makeStore()
        try fill(store, 25)
        _ = try await snapshotted(loop, store, key: key, log: Log())
        let p = GatedBalanceProjection(loopKey: key)
        let r = runner(loop, store, p, every: nil, log: Log())
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.isCaughtUp })
        try await loop.run {
            #expect(r.restoredSnapshotPosition == nil)
            #expect(r.eventsDelivered == 25)
            r.stop()
            #expect(r.saveFinalSnapshot() == nil)
        }
    }
}

extension ProjectionSnapshotTests {
    @Test func periodicSnapshotsWaitForTheMinimumInterval() async throws {
        let (loop, key) = loopWithKey()
        let store = loop.makeStore()
        let clock = TestClock(Date(timeIntervalSince1970: 1_000))
        var o = ProjectionRunner.Options()
        o.snapshotEvery = 5
        o.snapshotMinInterval = 10
        o.clock = clock.function
        let p = GatedBalanceProjection(loopKey: key)
        let r = ProjectionRunner(projection: p, store: store, executor: loop.executor, scheduler: ManualScheduler(), options: o)
        try await loop.run { r.start() }
        try fill(store, 6)
        #expect(await loop.eventually { r.snapshotsSaved == 1 })
        try fill(store, 20)                                   // far past 5 more events, but within 10 s
        #expect(await loop.eventually { r.position == LogPosition(26) })
        try await Task.sleep(nanoseconds: 50_000_000)
        #expect(try await loop.run { r.snapshotsSaved } == 1)
        try await loop.run { clock.advance(10) }
        try fill(store, 1)
        #expect(await loop.eventually { r.snapshotsSaved == 2 })
        #expect(try store.loadSnapshot(ProjectionRunner.snapshotStream(for: p.name))?.version.value == 27)
        try await loop.run { r.stop() }
    }
}
