import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS
import JSON

/// `BalanceProjection` that may be replayed off the loop.
final class ReplayableBalances: Projection, BackgroundReplayable {
    let name = "balances"
    var filter: EventFilter? { .categories("account") }
    var balances: [String: Int] = [:]
    /// Change hook: every key reported on adoption.
    var onChange: ((String) -> Void)?
    /// Events this instance applied itself (a replayed one's come from its shadow).
    var applyCount = 0
    struct Poisoned: Error {}

    func apply(_ event: RecordedEvent) throws {
        if let barrier, !arrived { arrived = true; barrier.arriveAndWait() }
        applyCount += 1
        switch event.type {
        case "Deposited":
            balances[event.stream.value, default: 0] += try JSONCoding.decode(AccountDecider.Amount.self, from: event.data).amount
            onChange?(event.stream.value)
        case "Poison": throw Poisoned()
        default: break
        }
    }

    /// Shared with the shadows: each one's first apply waits there for the others.
    var barrier: ReplayBarrier?
    private var arrived = false

    func makeEmpty() -> ReplayableBalances {
        let shadow = ReplayableBalances()
        shadow.barrier = barrier
        return shadow
    }
    func adoptState(of other: ReplayableBalances) {
        balances = other.balances
        if let onChange { for k in balances.keys { onChange(k) } }
    }
}

/// Lets `parties` threads meet: each waits (up to 20 s) until all have arrived.
final class ReplayBarrier: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var count = 0
    private(set) var timedOut = false
    private(set) var threads = Set<ObjectIdentifier>()

    init(parties: Int) { self.parties = parties }

    func arriveAndWait() {
        condition.lock(); defer { condition.unlock() }
        count += 1
        threads.insert(ObjectIdentifier(Thread.current))
        condition.broadcast()
        let deadline = Date().addingTimeInterval(20)
        while count < parties {
            if !condition.wait(until: deadline) { timedOut = true; return }
        }
    }
}

@Suite(.serialized) struct BackgroundReplayTests {
    func deposit(_ n: Int) -> NewEvent { NewEvent(type: "Deposited", data: json("{\"amount\":\(n)}")) }

    /// `count` deposits of 1 to `stream`, one append each.
    func deposits(_ count: Int, to stream: StreamName = "account-1", in store: EventStore) throws {
        for _ in 0..<count { _ = try rawAppend(store, stream, [deposit(1)]) }
    }

    /// A replay queue that runs nothing until resumed.
    func heldQueue() -> DispatchQueue {
        let queue = DispatchQueue(label: "test.replay")
        queue.suspend()
        return queue
    }

    func makeRunner(_ loop: TestLoop, _ store: EventStore, _ projection: Projection, queue: DispatchQueue,
                    threshold: UInt64 = 10, progress: @escaping (ReplayProgress) -> Void = { _ in }) -> ProjectionRunner {
        var o = ProjectionRunner.Options()
        o.backgroundReplay = .queue(queue)
        o.backgroundReplayThreshold = threshold
        o.progressInterval = 0
        return ProjectionRunner(projection: projection, store: store, executor: loop.executor, scheduler: ManualScheduler(),
                                options: o, progress: progress)
    }

    @Test func aLongCatchUpRunsOffTheLoopAndIsSwappedIn() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for i in 0..<300 { _ = try rawAppend(store, StreamName("account-\(i % 3)"), [deposit(1)]) }
        let projection = ReplayableBalances()
        var changed = Set<String>()
        projection.onChange = { changed.insert($0) }
        let queue = heldQueue()   // hold the replay: the loop must keep serving the old (empty) state
        let runner = makeRunner(loop, store, projection, queue: queue)
        var caughtUp = 0
        let before = try await loop.run { () -> (ProjectionStatus, LogPosition, Int) in
            runner.onCaughtUp = { caughtUp += 1 }
            runner.start()
            return (runner.status, runner.position, projection.balances.count)
        }
        #expect(before.0 == .catchingUp && before.1 == .start && before.2 == 0)
        // A query waiting for the end is answered once the replay is swapped in.
        var waited: PositionWaitResult?
        try await loop.run { runner.wait(forPosition: LogPosition(300), timeout: .seconds(60)) { waited = $0 } }
        queue.resume()
        #expect(await loop.eventually { runner.isCaughtUp })
        try await loop.run {
            #expect(projection.balances == ["account-0": 100, "account-1": 100, "account-2": 100])
            #expect(runner.position == LogPosition(300) && runner.lag == 0 && runner.status == .live)
            #expect(runner.eventsDelivered == 300 && runner.eventsApplied == 300)
            #expect(caughtUp == 1)
            #expect(waited == .reached(LogPosition(300)))
            #expect(changed == ["account-0", "account-1", "account-2"], "adoption reports every entry")
            #expect(projection.applyCount == 0, "the live instance applied nothing itself: its shadow did")
        }
        // Then it follows the store on the loop.
        _ = try rawAppend(store, "account-9", [deposit(5)])
        #expect(await loop.eventually { projection.balances["account-9"] == 5 })
    }

    /// The production setting: each replay on a thread of its own, several at once.
    @Test func replaysOnTheirOwnThreadsRunSideBySide() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for i in 0..<3_000 { _ = try rawAppend(store, StreamName("account-\(i % 7)"), [deposit(1)]) }
        var o = ProjectionRunner.Options()
        o.enableBackgroundReplay(after: 10)
        o.progressInterval = 0
        // Each replay's first apply waits until all three are inside one: run one after the
        // other (a pool of one thread per core on a 2-core machine), they would time out.
        let barrier = ReplayBarrier(parties: 3)
        let projections = (0..<3).map { _ in
            let p = ReplayableBalances()
            p.barrier = barrier
            return p
        }
        let runners = projections.map {
            ProjectionRunner(projection: $0, store: store, executor: loop.executor, scheduler: ManualScheduler(), options: o)
        }
        try await loop.run { for r in runners { r.start() } }
        #expect(await loop.eventually(30) { runners.allSatisfy(\.isCaughtUp) })
        #expect(!barrier.timedOut, "the three replays ran at the same time")
        #expect(barrier.threads.count == 3, "on three threads")
        try await loop.run {
            for (p, r) in zip(projections, runners) {
                #expect(p.balances.count == 7 && p.balances.values.reduce(0, +) == 3_000)
                #expect(r.position == LogPosition(3_000) && p.applyCount == 0, "replayed by the shadow, off the loop")
            }
        }
    }

    @Test func aShortCatchUpStaysOnTheLoop() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        try deposits(5, in: store)
        let queue = heldQueue()   // would hang the test if used
        let projection = ReplayableBalances()
        let runner = makeRunner(loop, store, projection, queue: queue, threshold: 10)
        try await loop.run { runner.start() }
        #expect(await loop.eventually { runner.isCaughtUp })
        #expect(try await loop.run { projection.balances["account-1"] } == 5)
        queue.resume()
    }

    @Test func aFailingEventStopsTheProjectionWithItsPosition() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        try deposits(50, in: store)
        _ = try rawAppend(store, "account-1", [NewEvent(type: "Poison", data: json("{}"))])
        try deposits(50, in: store)
        let projection = ReplayableBalances()
        let runner = makeRunner(loop, store, projection, queue: DispatchQueue(label: "test.replay"))
        try await loop.run { runner.start() }
        #expect(await loop.eventually { runner.failure != nil })
        try await loop.run {
            #expect(runner.failure?.position == LogPosition(51))
            #expect(runner.failure?.eventType == "Poison")
            #expect(projection.balances.isEmpty, "nothing half-replayed is swapped in")
            #expect(!runner.isCaughtUp)
        }
    }

    @Test func stoppingDuringTheReplayDiscardsIt() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        try deposits(100, in: store)
        let queue = heldQueue()
        let projection = ReplayableBalances()
        let runner = makeRunner(loop, store, projection, queue: queue)
        try await loop.run { runner.start(); runner.stop() }
        queue.resume()
        queue.sync {}   // the replay ran (or saw the cancel)
        try await Task.sleep(nanoseconds: 100_000_000)
        try await loop.run {
            #expect(runner.status == .stopped)
            #expect(projection.balances.isEmpty)
            #expect(!runner.isCaughtUp)
        }
    }

    @Test func aProjectionThatCannotReplayOffTheLoopCatchesUpOnIt() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        try deposits(100, in: store)
        let queue = heldQueue()   // would hang the test if used
        let projection = BalanceProjection()   // not BackgroundReplayable
        let runner = makeRunner(loop, store, projection, queue: queue)
        try await loop.run { runner.start() }
        #expect(await loop.eventually { runner.isCaughtUp })
        #expect(try await loop.run { projection.balances["account-1"] } == 100)
        queue.resume()
    }
}
