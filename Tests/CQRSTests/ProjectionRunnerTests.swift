import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS
import JSON

/// Balance per account, from `account` streams. `Poison` events make it throw.
final class BalanceProjection: Projection {
    let name = "balances"
    var filter: EventFilter? { .categories("account") }
    var snapshotSchemaVersion = 1
    var balances: [String: Int] = [:]
    var applied = 0
    struct Poisoned: Error {}

    func apply(_ event: RecordedEvent) throws {
        applied += 1
        switch event.type {
        case "Deposited": balances[event.stream.value, default: 0] += try JSONCoding.decode(AccountDecider.Amount.self, from: event.data).amount
        case "Poison": throw Poisoned()
        default: break
        }
    }
    func captureSnapshot() throws -> SnapshotEncoding? {
        let copy = balances
        return { try JSONCoding.encode(copy) }
    }
    func restore(from bytes: [UInt8]) throws { balances = try JSONCoding.decode([String: Int].self, from: bytes) }
}

@Suite struct ProjectionRunnerTests {
    func deposit(_ n: Int, _ stream: StreamName = "account-1") -> NewEvent { NewEvent(type: "Deposited", data: json("{\"amount\":\(n)}")) }

    final class Log: @unchecked Sendable {
        var lines: [(LogLevel, String)] = []
        var progress: [ReplayProgress] = []
    }

    func makeRunner(_ loop: TestLoop, _ store: EventStore, _ projection: BalanceProjection, _ scheduler: ManualScheduler,
                    log: Log, snapshotEvery: UInt64? = nil) -> ProjectionRunner {
        var o = ProjectionRunner.Options()
        o.snapshotEvery = snapshotEvery
        o.progressInterval = 0
        return ProjectionRunner(projection: projection, store: store, executor: loop.executor, scheduler: scheduler, options: o,
                                logger: { log.lines.append(($0, $1)) }, progress: { log.progress.append($0) })
    }

    @Test func catchesUpThenFollowsLive() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for _ in 0..<100 { _ = try rawAppend(store, "account-1", [deposit(1)]) }
        let projection = BalanceProjection(), log = Log(), scheduler = ManualScheduler()
        let runner = makeRunner(loop, store, projection, scheduler, log: log)
        var caughtUp = 0
        try await loop.run { runner.onCaughtUp = { caughtUp += 1 }; runner.start() }
        #expect(await loop.eventually { runner.isCaughtUp })
        try await loop.run {
            #expect(runner.status == .live)
            #expect(projection.balances["account-1"] == 100)
            #expect(runner.position == LogPosition(100) && runner.lag == 0)
            #expect(caughtUp == 1)
            #expect(log.progress.last?.done == true && log.progress.last?.replayed == 100)
        }
        _ = try rawAppend(store, "account-2", [deposit(7)])
        #expect(await loop.eventually { projection.balances["account-2"] == 7 })
        #expect(try await loop.run { runner.position } == LogPosition(101))
    }

    @Test func emptyStoreIsLiveAtOnce() async throws {
        let loop = TestLoop()
        let runner = makeRunner(loop, loop.makeStore(), BalanceProjection(), ManualScheduler(), log: Log())
        let live = try await loop.run { runner.start(); return runner.isCaughtUp }
        #expect(live)
    }

    @Test func filteredOutEventsStillAdvanceThePosition() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let projection = BalanceProjection(), scheduler = ManualScheduler()
        let runner = makeRunner(loop, store, projection, scheduler, log: Log())
        try await loop.run { runner.start() }
        let r = try rawAppend(store, "other-1", [deposit(5)])
        let result: PositionWaitResult = await withCheckedContinuation { c in
            loop.queue.async { runner.wait(forPosition: r.lastPosition, timeout: .seconds(5)) { c.resume(returning: $0) } }
        }
        #expect(result == .reached(r.lastPosition))
        #expect(try await loop.run { projection.applied } == 0)
    }

    @Test func waitAnswersImmediatelyAfterArrivalOrOnTimeout() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        _ = try rawAppend(store, "account-1", [deposit(1)])
        let projection = BalanceProjection(), scheduler = ManualScheduler()
        let runner = makeRunner(loop, store, projection, scheduler, log: Log())
        try await loop.run { runner.start() }
        #expect(await loop.eventually { runner.isCaughtUp })
        // Already reached: answered synchronously, on the calling (loop) thread.
        let immediate = try await loop.run { () -> PositionWaitResult? in
            var got: PositionWaitResult?
            runner.wait(forPosition: LogPosition(1), timeout: .seconds(1)) { got = $0 }
            return got
        }
        #expect(immediate == .reached(LogPosition(1)))
        // Not yet: answered when the event arrives.
        final class Box: @unchecked Sendable { var results: [PositionWaitResult] = [] }
        let box = Box()
        try await loop.run {
            runner.wait(forPosition: LogPosition(2), timeout: .seconds(1)) { box.results.append($0) }
            runner.wait(forPosition: LogPosition(50), timeout: .seconds(1)) { box.results.append($0) }
        }
        #expect(try await loop.run { box.results.isEmpty && runner.waitingQueries == 2 })
        _ = try rawAppend(store, "account-1", [deposit(1)])
        #expect(await loop.eventually { box.results == [.reached(LogPosition(2))] })
        // Never reached: times out with the position so far.
        try await loop.run { scheduler.advance(by: .milliseconds(999)) }
        #expect(try await loop.run { box.results.count } == 1)
        try await loop.run { scheduler.advance(by: .milliseconds(1)) }
        #expect(try await loop.run { box.results } == [.reached(LogPosition(2)), .timedOut(LogPosition(2))])
        #expect(try await loop.run { runner.waitingQueries } == 0)
    }

    @Test func anApplyErrorStopsTheProjectionAndReportsThePosition() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        _ = try rawAppend(store, "account-1", [deposit(1), deposit(2)])
        _ = try rawAppend(store, "account-1", [NewEvent(type: "Poison", data: json("{}"))])   // position 3
        _ = try rawAppend(store, "account-1", [deposit(4)])
        let projection = BalanceProjection(), log = Log(), scheduler = ManualScheduler()
        let runner = makeRunner(loop, store, projection, scheduler, log: log)
        try await loop.run { runner.start() }
        #expect(await loop.eventually { runner.failure != nil })
        try await loop.run {
            let failure = runner.failure
            #expect(failure?.position == LogPosition(3))
            #expect(failure?.eventType == "Poison" && failure?.stream == "account-1")
            #expect(runner.position == LogPosition(2))       // the last event applied
            #expect(projection.balances["account-1"] == 3)   // never skipped past the failure
            #expect(log.lines.contains { $0.0 == .error && $0.1.contains("position 3") })
            #expect(!runner.isCaughtUp && runner.lag == 2)
            #expect(runner.health.status == "failed" && !runner.health.isHealthy)
            #expect(runner.health.error?.contains("position 3") == true)
        }
        let result: PositionWaitResult = await withCheckedContinuation { c in
            loop.queue.async { runner.wait(forPosition: LogPosition(4), timeout: .seconds(1)) { c.resume(returning: $0) } }
        }
        guard case .failed(let f?) = result else { Issue.record("expected failure, got \(result)"); return }
        #expect(f.position == LogPosition(3))
    }

    @Test func waitersAreToldWhenTheProjectionFails() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let runner = makeRunner(loop, store, BalanceProjection(), ManualScheduler(), log: Log())
        final class Box: @unchecked Sendable { var result: PositionWaitResult? }
        let box = Box()
        try await loop.run {
            runner.start()
            runner.wait(forPosition: LogPosition(2), timeout: .seconds(60)) { box.result = $0 }
        }
        _ = try rawAppend(store, "account-1", [NewEvent(type: "Poison", data: json("{}"))])
        #expect(await loop.eventually { box.result != nil })
        guard case .failed(let f?)? = try await loop.run({ box.result }) else { Issue.record("expected failure"); return }
        #expect(f.position == LogPosition(1))
    }

    @Test func restartsFromItsSnapshot() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for i in 0..<25 { _ = try rawAppend(store, StreamName("account-\(i % 3)"), [deposit(1)]) }
        let first = BalanceProjection()
        let r1 = makeRunner(loop, store, first, ManualScheduler(), log: Log(), snapshotEvery: 10)
        try await loop.run { r1.start() }
        #expect(await loop.eventually { r1.isCaughtUp && r1.snapshotsSaved >= 1 })
        try await loop.run { r1.stop() }
        let snap = try #require(try store.loadSnapshot(ProjectionRunner.snapshotStream(for: "balances")))
        #expect(snap.version.value >= 10)
        // A fresh projection restores the snapshot and only replays the tail.
        let second = BalanceProjection()
        let r2 = makeRunner(loop, store, second, ManualScheduler(), log: Log(), snapshotEvery: 10)
        try await loop.run { r2.start() }
        #expect(await loop.eventually { r2.isCaughtUp })
        try await loop.run {
            #expect(second.balances == first.balances)
            #expect(r2.eventsDelivered == UInt64(25 - snap.version.value))
        }
        // Another snapshot format version: ignored, full replay.
        let third = BalanceProjection()
        third.snapshotSchemaVersion = 2
        let r3 = makeRunner(loop, store, third, ManualScheduler(), log: Log())
        try await loop.run { r3.start() }
        #expect(await loop.eventually { r3.isCaughtUp })
        try await loop.run {
            #expect(third.balances == first.balances)
            #expect(r3.eventsDelivered == 25)
        }
    }

    @Test func upcastersRunBeforeApply() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        _ = try rawAppend(store, "account-1", [NewEvent(type: "Deposited", schemaVersion: 0, data: json(#"{"cents":5}"#))])
        let projection = BalanceProjection()
        var o = ProjectionRunner.Options()
        o.upcasters.registerObject(type: "Deposited", from: 0) { $0["amount"] = $0.removeValue(forKey: "cents") }
        let runner = ProjectionRunner(projection: projection, store: store, executor: loop.executor, scheduler: ManualScheduler(), options: o)
        try await loop.run { runner.start() }
        #expect(await loop.eventually { runner.isCaughtUp })
        #expect(try await loop.run { projection.balances["account-1"] } == 5)
    }
}
