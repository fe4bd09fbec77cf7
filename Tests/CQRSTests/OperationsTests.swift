import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS
import JSON

/// Operating components: retry with backoff, park and go on, the operator's retry / skip /
/// resume / rebuild, and what of it survives a restart (the journal in the service's store).
@Suite struct ConsumerOperationsTests {
    typealias Payment = ConsumerTests.Payment
    /// A fault the test repairs ("a fix, deployed"): payments to `account` fail while broken.
    final class Fault: @unchecked Sendable {
        var broken = true
        var account = "poison"
    }

    static let quick = FailurePolicy(retries: 2, backoff: .milliseconds(1), maxBackoff: .milliseconds(4), then: .park)

    func consumer(_ loop: TestLoop, _ log: EventStore, _ store: EventStore, fault: Fault, policy: FailurePolicy = quick,
                  sequenced: Bool = false) throws -> (Consumer<AccountDecider>, CommandHandler<AccountDecider>) {
        let handler = try CommandHandler(decider: account, store: store)
        let c = Consumer(name: "payments", publicLog: log, eventTypes: ["shop.customer-joined", "shop.paid", "shop.refund"], handler: handler,
                         executor: loop.executor, maxInFlight: 4, scheduler: loop.scheduler, retryDelay: .milliseconds(5),
                         policy: policy, journal: OperationsJournal(store: store),
                         sequence: sequenced ? { e in JSONObjectReader.read(e.data) { try $0.string("account") } } : nil) { e in
            let p = try JSONCoding.decode(Payment.self, from: e.data)
            if fault.broken && p.account == fault.account && e.type == "shop.paid" { throw ComponentFaults.Injected(component: "payments", match: p.account) }
            return try ConsumerTests.map(e)
        }
        return (c, handler)
    }

    func publish(_ log: EventStore, _ events: [(String, Payment)], from start: UInt64) throws {
        try ConsumerTests().publish(log, events, from: start)
    }

    func balance(_ h: CommandHandler<AccountDecider>, _ a: String) throws -> Int {
        try h.state(of: StreamName("account-\(a)")).state.balance
    }

    let joins: [(String, Payment)] = ["a", "b", "poison"].map { ("shop.customer-joined", Payment(account: $0, amount: 0)) }

    @Test func anEventThatCannotBeMappedIsParkedAndTheOthersGoOn() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, joins + [("shop.paid", Payment(account: "a", amount: 10)), ("shop.paid", Payment(account: "poison", amount: 5)),
                                  ("shop.paid", Payment(account: "a", amount: 7))], from: 1)
        let fault = Fault()
        let (c, h) = try consumer(loop, log, store, fault: fault)
        try await loop.run { c.start() }
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        #expect(try balance(h, "a") == 17)
        #expect(try balance(h, "poison") == 0)
        let (parked, retries, health) = try await loop.run { (c.parked, c.retriesTotal, c.health) }
        #expect(retries == 0, "a mapping is pure: not retried")
        #expect(parked.count == 1 && parked[0].position == 5 && parked[0].attempts == 1 && parked[0].eventType == "shop.paid")
        #expect(parked[0].error?.contains("injected fault") == true)
        #expect(!health.isHealthy && health.parked == 1 && health.status == "running", "parked is degraded, never healthy")
    }

    /// Three accounts join, then a payment to the poisoned one is parked (position 4).
    func parkOne(_ loop: TestLoop) async throws -> (store: MemoryEventStore, log: MemoryEventStore, fault: Fault, consumer: Consumer<AccountDecider>) {
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, joins + [("shop.paid", Payment(account: "poison", amount: 5))], from: 1)
        let fault = Fault()
        let (c, _) = try consumer(loop, log, store, fault: fault)
        try await loop.run { c.start() }
        #expect(await loop.eventually { c.parkedCount == 1 && c.backlog == 0 })
        return (store, log, fault, c)
    }

    @Test func aFailingCommandIsRetriedWithBackoffThenParkedOrItSucceeds() async throws {
        let loop = TestLoop()
        let log = loop.makeStore()
        let store = InstrumentedStore(loop.makeStore())
        store.executorForFailures = loop.executor
        try publish(log, joins, from: 1)
        let (c, h) = try consumer(loop, log, store, fault: Fault())
        try await loop.run { c.start() }
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        try await loop.run {
            store.failingStreams["account-a"] = 2   // transient: gone at the third attempt
            store.failingStreams["account-b"] = 100   // lasting: parked after the retries
        }
        try publish(log, [("shop.paid", Payment(account: "a", amount: 10)), ("shop.paid", Payment(account: "b", amount: 3))], from: 10)
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        #expect(try balance(h, "a") == 10 && balance(h, "b") == 0)
        let (parked, retries) = try await loop.run { (c.parked, c.retriesTotal) }
        #expect(retries == 4, "2 for a, 2 for b")
        #expect(parked.map { $0.position } == [5] && parked.first?.attempts == 3 && parked.first?.error?.contains("injected") == true)
    }

    @Test func aStoreOutageThatEndsInARejectionLeavesTheConsumerRunning() async throws {
        let loop = TestLoop()
        let log = loop.makeStore()
        let store = InstrumentedStore(loop.makeStore())
        store.executorForFailures = loop.executor
        try publish(log, joins, from: 1)
        let (c, _) = try consumer(loop, log, store, fault: Fault())
        try await loop.run { c.start() }
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        try await loop.run { store.failingAppends = 1 }   // a full disk, once
        // A refund the account cannot pay: once the store takes writes again, it is rejected.
        try publish(log, [("shop.refund", Payment(account: "a", amount: 5))], from: 10)
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        #expect(try await loop.run { (c.rejected, c.status) } == (1, .running), "not 'retrying' with nothing left to retry")
    }

    @Test func aRetriedEventIsNotOvertakenByALaterOneOfItsSequence() async throws {
        let loop = TestLoop()
        let log = loop.makeStore()
        let store = InstrumentedStore(loop.makeStore())
        store.executorForFailures = loop.executor
        // A deposit then a refund of it, to one account: in the other order the refund is
        // refused (insufficient funds) and the money stays.
        try publish(log, joins + [("shop.paid", Payment(account: "a", amount: 10)), ("shop.refund", Payment(account: "a", amount: 10)),
                                  ("shop.paid", Payment(account: "b", amount: 1))], from: 1)
        let (c, h) = try consumer(loop, log, store, fault: Fault(), sequenced: true)
        try await loop.run {
            store.failingStreams["account-a"] = 1   // the join: opened at the second attempt
            c.start()
        }
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        #expect(try balance(h, "a") == 0 && balance(h, "b") == 1)
        #expect(try await loop.run { (c.retriesTotal, c.rejected, c.parkedCount) } == (1, 0, 0))
    }

    @Test func aParkedEventWaitsForTheOperatorAcrossRestartsAndARetryAppliesItOnce() async throws {
        let loop = TestLoop()
        let (store, log, fault, c1) = try await parkOne(loop)
        try await loop.run { c1.stop() }

        // A fix is deployed: a new process, the same stores. The parked event stays parked.
        fault.broken = false
        let (c2, h2) = try consumer(loop, log, store, fault: fault)
        try await loop.run { c2.start() }
        #expect(await loop.eventually { c2.parkedCount == 1 && c2.checkpoint == log.lastPosition })
        #expect(try balance(h2, "poison") == 0, "a parked event is never handled again by itself")

        let note = OperatorNote(by: "ops", reason: "fixed the mapping")
        let retried = try await retry(loop, c2, at: 4, note)
        #expect(retried?.outcome == "resolved" && retried?.by == "ops" && retried?.reason == "fixed the mapping")
        #expect(try balance(h2, "poison") == 5)
        #expect(try await loop.run { c2.parkedCount } == 0)
        #expect(try await retry(loop, c2, at: 4, note) == nil, "no longer parked")
        try await loop.run { c2.stop() }

        // Again after a restart: applied once, nothing parked.
        let (c3, h3) = try consumer(loop, log, store, fault: fault)
        try await loop.run { c3.start() }
        #expect(await loop.eventually { c3.checkpoint == log.lastPosition && c3.backlog == 0 })
        #expect(try await loop.run { c3.parkedCount } == 0)
        #expect(try balance(h3, "poison") == 5)
    }

    @Test func aSkippedEventIsNeverHandledEvenWhenItWouldWork() async throws {
        let loop = TestLoop()
        let (store, log, fault, c1) = try await parkOne(loop)
        var skipped: Result<OperationEntry, Consumer<AccountDecider>.ParkedMoveError>?
        try await loop.run { c1.skipParked(at: LogPosition(4), note: OperatorNote(by: "ops", reason: "duplicate payment")) { skipped = $0 } }
        #expect(await loop.eventually { skipped != nil })
        #expect(try skipped?.get().type == OperationEntry.Kind.skipped.rawValue)
        try await loop.run { c1.stop() }

        fault.broken = false
        let (c2, h2) = try consumer(loop, log, store, fault: fault)
        try await loop.run { c2.start() }
        #expect(await loop.eventually { c2.checkpoint == log.lastPosition && c2.backlog == 0 })
        #expect(try balance(h2, "poison") == 0)
        #expect(try await loop.run { c2.parkedCount } == 0)
        let trail = try store.readStream(OperationsJournal.stream).compactMap(OperationEntry.init)
        #expect(trail.map(\.type) == [OperationEntry.Kind.parked.rawValue, OperationEntry.Kind.skipped.rawValue])
        #expect(trail[1].by == "ops" && trail[1].reason == "duplicate payment" && trail[1].recordedAt != nil)
    }

    @Test func laterEventsOfAParkedSequenceWaitBehindItAndAreRetriedInOrder() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, joins + [("shop.paid", Payment(account: "poison", amount: 5)), ("shop.paid", Payment(account: "a", amount: 1))],
                    from: 1)
        let fault = Fault()
        let (c, h) = try consumer(loop, log, store, fault: fault, sequenced: true)
        try await loop.run { c.start() }
        #expect(await loop.eventually { c.parkedCount == 1 && c.checkpoint == log.lastPosition })
        // The same account again: parked behind the first without being tried.
        fault.account = "none"
        try publish(log, [("shop.paid", Payment(account: "poison", amount: 3)), ("shop.paid", Payment(account: "a", amount: 1))], from: 10)
        #expect(await loop.eventually { c.parkedCount == 2 && c.checkpoint == log.lastPosition })
        #expect(try balance(h, "a") == 2 && balance(h, "poison") == 0)
        let behind = try await loop.run { c.parked[1] }
        #expect(behind.attempts == 0 && behind.sequence == "poison" && behind.error?.contains("behind public position 4") == true)
        #expect(try await retry(loop, c, at: 6, OperatorNote(by: "ops", reason: "x")) == nil, "refused: the earlier one first")

        fault.broken = false
        var all: Result<[OperationEntry], OperationError>?
        let runtimeLike = ParkedRetryAll(consumer: c)
        try await loop.run { runtimeLike.run { all = $0 } }
        #expect(await loop.eventually { all != nil })
        #expect(try all?.get().map { $0.position } == [4, 6])
        #expect(try balance(h, "poison") == 8)
    }

    @Test func withThePolicyStopAFailingEventStopsTheConsumerUntilAResume() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, joins + [("shop.paid", Payment(account: "poison", amount: 5)), ("shop.paid", Payment(account: "a", amount: 1))],
                    from: 1)
        let fault = Fault()
        let policy = FailurePolicy(retries: 1, backoff: .milliseconds(1), then: .stop)
        let (c, h) = try consumer(loop, log, store, fault: fault, policy: policy)
        try await loop.run { c.start() }
        #expect(await loop.eventually { if case .failed(LogPosition(4), _) = c.status { return true } else { return false } })
        #expect(try balance(h, "a") == 0 || balance(h, "a") == 1)
        fault.broken = false
        #expect(try await loop.run { try c.resume() } == LogPosition(4))
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        #expect(try balance(h, "poison") == 5 && balance(h, "a") == 1)
        #expect(throws: ResumeError.self) { try c.resume() }
    }

    func retry(_ loop: TestLoop, _ c: Consumer<AccountDecider>, at p: UInt64, _ note: OperatorNote) async throws -> OperationEntry? {
        var outcome: Result<OperationEntry, Consumer<AccountDecider>.ParkedMoveError>?
        try await loop.run { c.retryParked(at: LogPosition(p), note: note) { outcome = $0 } }
        #expect(await loop.eventually { outcome != nil })
        return try? outcome?.get()
    }

    /// Retries every parked event in position order, as `ServiceRuntime.retryParked` does.
    struct ParkedRetryAll {
        let consumer: Consumer<AccountDecider>
        func run(_ completion: @escaping (Result<[OperationEntry], OperationError>) -> Void) {
            var done: [OperationEntry] = []
            func next(_ rest: ArraySlice<OperationEntry>) {
                guard let e = rest.first, let p = e.position else { return completion(.success(done)) }
                consumer.retryParked(at: LogPosition(p), note: OperatorNote(by: "ops", reason: "all")) { r in
                    switch r {
                    case .success(let entry): done.append(entry); next(rest.dropFirst())
                    case .failure(let e): completion(.failure(.conflict(e.description)))
                    }
                }
            }
            next(consumer.parked[...])
        }
    }
}

@Suite struct ReadModelOperationsTests {
    func deposit(_ n: Int) -> NewEvent { NewEvent(type: "Deposited", data: json("{\"amount\":\(n)}")) }

    func runner(_ loop: TestLoop, _ store: EventStore, _ projection: ReplayableBalances, faults: ComponentFaults?,
                retries: Int = 0) -> ProjectionRunner {
        var o = ProjectionRunner.Options()
        o.failurePolicy = FailurePolicy(retries: retries, backoff: .milliseconds(1), maxBackoff: .milliseconds(4))
        o.faults = faults
        o.progressInterval = 0
        return ProjectionRunner(projection: projection, store: store, executor: loop.executor, scheduler: loop.scheduler, options: o)
    }

    @Test func aTransientFailureIsRetriedAndTheViewGoesOn() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for a in ["a", "x", "a"] { _ = try rawAppend(store, StreamName("account-\(a)"), [deposit(1)]) }
        let projection = ReplayableBalances()
        let r = runner(loop, store, projection, faults: ComponentFaults([.init(component: "balances", match: "account-x", times: 2)]), retries: 3)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.status == .live && r.position == LogPosition(3) })
        try await loop.run {
            #expect(projection.balances == ["account-a": 2, "account-x": 1])
            #expect(r.retriesTotal == 2 && r.health.isHealthy)
        }
    }

    @Test func aViewStopsAfterItsRetriesAndAResumeFromTheNextEventSkipsIt() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for a in ["a", "x", "a"] { _ = try rawAppend(store, StreamName("account-\(a)"), [deposit(1)]) }
        let projection = ReplayableBalances()
        let r = runner(loop, store, projection, faults: ComponentFaults([.init(component: "balances", match: "account-x")]), retries: 1)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.failure != nil })
        try await loop.run {
            #expect(r.failure?.position == LogPosition(2) && r.retriesTotal == 1 && !r.health.isHealthy)
            #expect(r.health.status == "failed" && r.health.error?.contains("injected fault") == true)
            #expect(throws: ResumeError.self) { try r.resume(skippingFailedEvent: true); try r.resume(skippingFailedEvent: true) }
        }
        #expect(await loop.eventually { r.status == .live && r.position == LogPosition(3) })
        try await loop.run { #expect(projection.balances == ["account-a": 2]) }
        // Later events of the same stream still fail: a skip passes one event, not a stream.
        _ = try rawAppend(store, "account-a", [deposit(5)])
        #expect(await loop.eventually { projection.balances["account-a"] == 7 })
    }

    @Test func aLiveRebuildServesTheOldViewUntilTheNewOneHasCaughtUp() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for i in 0..<200 { _ = try rawAppend(store, StreamName("account-\(i % 4)"), [deposit(1)]) }
        let projection = ReplayableBalances()
        let r = runner(loop, store, projection, faults: nil)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.status == .live && r.position == LogPosition(200) })
        // A bug damaged the view; the rebuild's copy waits at its first event until we let it go.
        let barrier = ReplayBarrier(parties: 2)
        var summary: Result<RebuildSummary, RebuildError>?
        try await loop.run {
            projection.balances["account-0"] = 999
            projection.barrier = barrier
            try r.rebuild { summary = $0 }
            projection.barrier = nil   // only the copy waits
            #expect(throws: RebuildError.self) { try r.rebuild { _ in } }
        }
        // Meanwhile the view serves, and keeps following the store.
        for _ in 0..<10 { _ = try rawAppend(store, "account-1", [deposit(1)]) }
        #expect(await loop.eventually { r.position == LogPosition(210) })
        try await loop.run {
            #expect(projection.balances["account-0"] == 999 && projection.balances["account-1"] == 60)
            #expect(r.rebuildProgress?.target == LogPosition(200) && r.health.rebuild != nil)
        }
        let epoch = try await loop.run { r.stateEpoch }
        barrier.arriveAndWait()
        #expect(await loop.eventually { summary != nil })
        #expect(try summary?.get().position == LogPosition(210))
        try await loop.run {
            #expect(projection.balances == ["account-0": 50, "account-1": 60, "account-2": 50, "account-3": 50])
            #expect(r.position == LogPosition(210) && r.rebuildProgress == nil && r.stateEpoch == epoch + 1 && r.status == .live)
        }
        _ = try rawAppend(store, "account-0", [deposit(1)])
        #expect(await loop.eventually { projection.balances["account-0"] == 51 })
    }

    @Test func rebuildingAFailedViewAfterTheFixFollowsTheStoreAgain() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for a in ["a", "x", "a"] { _ = try rawAppend(store, StreamName("account-\(a)"), [deposit(1)]) }
        let projection = ReplayableBalances()
        // Fails once (the bug), then never again (the fix is in).
        let r = runner(loop, store, projection, faults: ComponentFaults([.init(component: "balances", match: "account-x", times: 1)]))
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.failure != nil })
        var summary: Result<RebuildSummary, RebuildError>?
        try await loop.run { try r.rebuild { summary = $0 } }
        #expect(await loop.eventually { summary != nil })
        #expect(await loop.eventually { r.status == .live })
        _ = try rawAppend(store, "account-x", [deposit(4)])
        #expect(await loop.eventually { projection.balances == ["account-a": 2, "account-x": 5] })
    }

    @Test func aRebuildThatFailsLeavesTheViewAsItWas() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        for a in ["a", "a"] { _ = try rawAppend(store, StreamName("account-\(a)"), [deposit(1)]) }
        _ = try rawAppend(store, "account-p", [NewEvent(type: "Poison", data: json("{}"))])
        let projection = ReplayableBalances()
        var skips = ProjectionRunner.Options()
        skips.skips = [LogPosition(3)]   // an operator skipped the poison
        let r = ProjectionRunner(projection: projection, store: store, executor: loop.executor, scheduler: loop.scheduler, options: skips)
        try await loop.run { r.start() }
        #expect(await loop.eventually { r.status == .live && r.position == LogPosition(3) })
        var summary: Result<RebuildSummary, RebuildError>?
        try await loop.run { try r.rebuild { summary = $0 } }
        #expect(await loop.eventually { summary != nil })
        guard case .failure(.failed(let f)) = summary else { Issue.record("expected the rebuild to fail"); return }
        #expect(f.position == LogPosition(3), "a rebuild gets every event, skipped ones too")
        try await loop.run {
            #expect(r.status == .live && projection.balances == ["account-a": 2] && r.stateEpoch == 0)
        }
    }
}

@Suite struct OperationsLedgerTests {
    func entry(_ kind: OperationEntry.Kind, _ component: String, _ p: UInt64?, outcome: String? = nil, sequence: String? = nil) -> OperationEntry {
        var e = OperationEntry(kind, component: component, position: p.map(LogPosition.init))
        e.outcome = outcome
        e.sequence = sequence
        return e
    }

    @Test func theLedgerFoldsParkedRetriedSkippedResumedAndRebuilt() {
        var l = OperationsLedger()
        l.apply(entry(.parked, "c", 4, sequence: "o-1"))
        l.apply(entry(.parked, "c", 9, sequence: "o-1"))
        l.apply(entry(.parked, "c", 12))
        #expect(l.parkedAhead("c", sequence: "o-1", before: LogPosition(9)) == LogPosition(4))
        #expect(l.parkedAhead("c", sequence: "o-1", before: LogPosition(4)) == nil)
        l.apply(entry(.retried, "c", 4, outcome: "failed"))
        #expect(l.isParked("c", LogPosition(4)) && l.parked("c")[0].attempts == 1)
        l.apply(entry(.retried, "c", 4, outcome: "resolved"))
        l.apply(entry(.skipped, "c", 12))
        #expect(l.parked("c").map(\.position) == [9])
        #expect(l.skips("c", LogPosition(12)) && !l.skips("c", LogPosition(4)))
        l.apply(entry(.parked, "c", 12))   // a redelivery after a skip is not parked again
        #expect(l.parked("c").count == 1)
        l.apply(entry(.resumed, "view", 7, outcome: "next"))
        l.apply(entry(.resumed, "view", 8, outcome: "failed"))
        #expect(l.skipped["view"] == [7])
        l.apply(entry(.rebuildFinished, "view", 20))
        #expect(l.skipped["view"] == nil)
    }

    @Test func aStandbyTakingOverReadsWhatTheWriterBeforeItRecorded() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let standby = OperationsJournal(store: store), writer = OperationsJournal(store: store)
        func load(_ j: OperationsJournal, reload: Bool = false) async throws {
            let done = Flag()
            try await loop.run { if reload { j.reload { _ in done.set() } } else { j.whenLoaded { _ in done.set() } } }
            #expect(await loop.eventually { done.isSet })
        }
        try await load(standby)
        try await load(writer)
        for e in [entry(.parked, "saga", 5, sequence: "o-1"), entry(.skipped, "saga", 5), entry(.resumed, "view", 7, outcome: "next")] {
            let done = Flag()
            try await loop.run { writer.record(e) { _ in done.set() } }
            #expect(await loop.eventually { done.isSet })
        }
        #expect(try await loop.run { standby.ledger.skips("saga", LogPosition(5)) } == false)   // read once, at its start
        try await load(standby, reload: true)
        #expect(try await loop.run { standby.ledger.skips("saga", LogPosition(5)) && standby.ledger.skipped["view"] == [7] })
    }

    @Test func faultRulesParseAndCountDown() throws {
        let f = try ComponentFaults(parsing: "component=a,match=x,times=2; component=b,match=y")
        #expect(throws: ComponentFaults.Injected.self) { try f.check("a", stream: "s-x", data: []) }
        #expect(throws: ComponentFaults.Injected.self) { try f.check("a", stream: "", data: Array("{\"k\":\"x\"}".utf8)) }
        #expect(throws: Never.self) { try f.check("a", stream: "s-x", data: []) }
        #expect(throws: Never.self) { try f.check("b", stream: "s-x", data: []) }
        #expect(throws: ComponentFaults.SpecError.self) { try ComponentFaults(parsing: "component=a") }
        #expect(throws: ComponentFaults.SpecError.self) { try ComponentFaults(parsing: "component=a,match=x,times=0") }
        #expect(FailurePolicy(backoff: .milliseconds(100), maxBackoff: .milliseconds(500)).delay(beforeRetry: 3) == .milliseconds(400))
        #expect(FailurePolicy(backoff: .milliseconds(100), maxBackoff: .milliseconds(500)).delay(beforeRetry: 9) == .milliseconds(500))
    }
}

/// Set by a completion on the test loop, read there by `eventually`.
private final class Flag: @unchecked Sendable {
    var isSet = false
    func set() { isSet = true }
}
