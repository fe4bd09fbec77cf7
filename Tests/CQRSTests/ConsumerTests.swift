import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS
import JSON

/// Consumers: public events become commands with an exactly-once effect across crashes.
@Suite struct ConsumerTests {
    struct Payment: Codable { var account: String; var amount: Int }

    /// A public event as the publisher would have appended it.
    func publicEvent(_ type: String, _ payload: Payment, sourcePosition: UInt64) throws -> NewEvent {
        NewEvent(id: Publisher.eventID(source: "shop", position: LogPosition(sourcePosition), index: 0), type: type,
                 data: try JSONCoding.encode(payload),
                 metadata: EventMetadata(correlationId: "corr-\(sourcePosition)", causationId: nil,
                                         properties: [PublicMetadata.source: "shop", PublicMetadata.sourcePosition: String(sourcePosition)]))
    }

    /// shop.customer-joined → open; shop.paid → deposit; shop.refund → withdraw (may be rejected);
    /// shop.bonus → deposit on two accounts.
    static func map(_ e: PublicEventEnvelope) throws -> [ConsumerCommand<AccountDecider.Command>] {
        let p = try JSONCoding.decode(Payment.self, from: e.data)
        let s = StreamName("account-\(p.account)")
        switch e.type {
        case "shop.customer-joined": return [ConsumerCommand(stream: s, command: .open(given: p.account, family: "X"), concurrency: .noStream)]
        case "shop.paid": return [ConsumerCommand(stream: s, command: .deposit(p.amount))]
        case "shop.refund": return [ConsumerCommand(stream: s, command: .withdraw(p.amount))]
        case "shop.bonus": return [ConsumerCommand(stream: s, command: .deposit(p.amount)),
                                   ConsumerCommand(stream: "account-house", command: .deposit(p.amount))]
        default: return []
        }
    }

    func consumer(_ loop: TestLoop, _ log: EventStore, _ handler: CommandHandler<AccountDecider>, maxInFlight: Int = 8) -> Consumer<AccountDecider> {
        Consumer(name: "payments", publicLog: log, eventTypes: ["shop.customer-joined", "shop.paid", "shop.refund", "shop.bonus"],
                 handler: handler, executor: loop.executor, maxInFlight: maxInFlight, map: ConsumerTests.map)
    }

    func publish(_ log: EventStore, _ events: [(String, Payment)], from start: UInt64) throws {
        for (i, (type, p)) in events.enumerated() {
            _ = try rawAppend(log, "shop", [try publicEvent(type, p, sourcePosition: start + UInt64(i))])
        }
    }

    var firstBatch: [(String, Payment)] {
        [("shop.customer-joined", Payment(account: "a", amount: 0)), ("shop.customer-joined", Payment(account: "b", amount: 0)),
         ("shop.customer-joined", Payment(account: "house", amount: 0)), ("shop.ignored", Payment(account: "a", amount: 1)),
         ("shop.paid", Payment(account: "a", amount: 10)), ("shop.paid", Payment(account: "b", amount: 5)),
         ("shop.refund", Payment(account: "b", amount: 50)),      // rejected: insufficient funds
         ("shop.bonus", Payment(account: "a", amount: 1))]
    }
    var secondBatch: [(String, Payment)] {
        [("shop.paid", Payment(account: "a", amount: 100)), ("shop.refund", Payment(account: "a", amount: 3)),
         ("shop.bonus", Payment(account: "b", amount: 2))]
    }

    func balances(_ h: CommandHandler<AccountDecider>) throws -> [String: Int] {
        var out: [String: Int] = [:]
        for a in ["a", "b", "house"] { out[a] = try h.state(of: StreamName("account-\(a)")).state.balance }
        return out
    }

    @Test func appliesEachPublicEventOnceAndSurvivesRestarts() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, firstBatch, from: 1)
        let h1 = try CommandHandler(decider: account, store: store)
        let c1 = consumer(loop, log, h1, maxInFlight: 2)
        try await loop.run { try c1.start() }
        #expect(await loop.eventually { c1.checkpoint == log.lastPosition && c1.backlog == 0 })
        #expect(try balances(h1) == ["a": 11, "b": 5, "house": 1])
        #expect(try await loop.run { c1.rejected } == 1)
        let eventsAfterFirst = store.lastPosition

        // Crash: everything in memory is gone. More public events arrive meanwhile.
        try await loop.run { c1.stop() }
        try publish(log, secondBatch, from: 100)
        let h2 = try CommandHandler(decider: account, store: store)
        let c2 = consumer(loop, log, h2)
        let recovered = try Consumer<AccountDecider>.recoverCheckpoint(name: "payments", store: store)
        // The stored watermark trails by at most the in-flight window: conservative, never ahead.
        #expect(recovered >= LogPosition(5) && recovered < LogPosition(8))
        try await loop.run { try c2.start() }
        #expect(await loop.eventually { c2.checkpoint == log.lastPosition && c2.backlog == 0 })
        #expect(try balances(h2) == ["a": 108, "b": 7, "house": 3])
        #expect(store.lastPosition.value == eventsAfterFirst.value + 4)
    }

    @Test func redeliveryFromTheVeryStartAppliesNothingTwice() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, firstBatch + secondBatch, from: 1)
        let h1 = try CommandHandler(decider: account, store: store)
        let c1 = consumer(loop, log, h1)
        try await loop.run { try c1.start() }
        #expect(await loop.eventually { c1.checkpoint == log.lastPosition && c1.backlog == 0 })
        try await loop.run { c1.stop() }
        let before = store.lastPosition
        let expected = try balances(h1)

        // Restart that lost every checkpoint *and* the idempotency index (e.g. keys expired):
        // the deterministic event ids make the store refuse every repeat.
        let forgetful = IdempotencyIndex()
        let h2 = try CommandHandler(decider: account, store: store, idempotency: forgetful)
        let c2 = consumer(loop, log, h2, maxInFlight: 1)
        try await loop.run { try c2.start(from: .start) }
        #expect(await loop.eventually { c2.checkpoint == log.lastPosition && c2.backlog == 0 })
        #expect(store.lastPosition == before)
        #expect(try balances(h2) == expected)
        let (succeeded, repeats) = try await loop.run { (c2.succeeded, c2.repeats) }
        #expect(succeeded == 0 && repeats >= 8)
    }

    @Test func lagReachesZeroWhenTheLogEndsWithEventsOfOtherTypes() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, Array(firstBatch.prefix(2)) + [("shop.ignored", Payment(account: "a", amount: 1)),
                                                         ("shop.ignored", Payment(account: "b", amount: 1))], from: 1)
        let h = try CommandHandler(decider: account, store: store)
        let c = consumer(loop, log, h)
        try await loop.run { try c.start() }
        #expect(await loop.eventually { c.backlog == 0 && c.lag == 0 })
        // The stored checkpoint stays with the last event it acted on; only the lag looks past it.
        #expect(try await loop.run { (c.checkpoint, c.followedTo) } == (LogPosition(2), LogPosition(4)))
        try publish(log, [("shop.paid", Payment(account: "a", amount: 7))], from: 10)
        #expect(await loop.eventually { c.lag == 0 && c.checkpoint == LogPosition(5) })
        #expect(try h.state(of: StreamName("account-a")).state.balance == 7)
    }

    @Test func aStoreThatRefusesWritesIsWaitedOutThenEveryEffectIsAppliedOnce() async throws {
        let loop = TestLoop()
        let log = loop.makeStore()
        let store = InstrumentedStore(loop.makeStore())
        store.executorForFailures = loop.executor
        store.failingAppends = 3   // e.g. a full disk for a while
        try publish(log, Array(firstBatch.prefix(3)) + [("shop.paid", Payment(account: "a", amount: 4))], from: 1)
        let h = try CommandHandler(decider: account, store: store)
        let scheduler = ManualScheduler()
        let c = Consumer(name: "payments", publicLog: log, eventTypes: ["shop.customer-joined", "shop.paid"], handler: h,
                         executor: loop.executor, maxInFlight: 1, scheduler: scheduler, retryDelay: .seconds(1), map: ConsumerTests.map)
        try await loop.run { try c.start() }
        #expect(await loop.eventually { if case .retrying = c.status { return true } else { return false } })
        #expect(try await loop.run { (c.checkpoint, c.health.isHealthy, c.health.status) } == (.start, true, "retrying"))
        for _ in 0..<5 {
            try await loop.run { scheduler.advance(by: .seconds(1)) }
            _ = await loop.eventually(0.2) { c.checkpoint == log.lastPosition }
        }
        #expect(await loop.eventually { c.checkpoint == log.lastPosition && c.backlog == 0 })
        #expect(try await loop.run { c.status } == .running)
        #expect(try balances(h) == ["a": 4, "b": 0, "house": 0])
        #expect(try await loop.run { c.succeeded } == 4)
    }

    @Test func withoutASchedulerAStoreFailureStopsTheConsumer() async throws {
        let loop = TestLoop()
        let log = loop.makeStore()
        let store = InstrumentedStore(loop.makeStore())
        store.executorForFailures = loop.executor
        store.failingAppends = 1
        try publish(log, Array(firstBatch.prefix(1)), from: 1)
        let c = consumer(loop, log, try CommandHandler(decider: account, store: store))
        try await loop.run { try c.start() }
        #expect(await loop.eventually { if case .failed = c.status { return true } else { return false } })
    }

    @Test func effectsCarryTheCheckpointAndCausation() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try publish(log, Array(firstBatch.prefix(1)), from: 1)
        let h = try CommandHandler(decider: account, store: store)
        let c = consumer(loop, log, h)
        try await loop.run { try c.start() }
        #expect(await loop.eventually { c.checkpoint == LogPosition(1) && c.backlog == 0 })
        let effect = try store.readStream("account-a")[0]
        let publicEvent = try log.readAll(from: .start, maxCount: 1, filter: nil)[0]
        #expect(effect.metadata.properties[Consumer<AccountDecider>.positionProperty("payments")] == "1")
        #expect(effect.metadata.causationId == publicEvent.id.description.lowercased())
        #expect(effect.metadata.correlationId == "corr-1")
        #expect(effect.id == DeterministicID.make("command", "consumer:payments:\(publicEvent.id.description.lowercased()):0", "consumer", "0"))
    }

    @Test func aMappingErrorStopsTheConsumer() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        _ = try rawAppend(log, "shop", [NewEvent(type: "shop.paid", data: json("not json"),
                                                 metadata: EventMetadata(properties: [PublicMetadata.source: "shop"]))])
        let c = consumer(loop, log, try CommandHandler(decider: account, store: store))
        try await loop.run { try c.start() }
        #expect(await loop.eventually { if case .failed = c.status { return true } else { return false } })
        guard case .failed(let position, _) = try await loop.run({ c.status }) else { return }
        #expect(position == LogPosition(1))
    }
}
