import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS
import JSON

/// The outbox publisher: deterministic public ids, dedupe on re-publish, checkpoint from the log.
@Suite struct PublisherTests {
    /// Opened → account.opened; Deposited → account.deposited; Withdrawn → two events; others → none.
    static func map(_ e: RecordedEvent) throws -> [PublicEventDraft] {
        struct Payload: Encodable { var account: String; var amount: Int? }
        switch e.type {
        case "AccountOpened": return [try .json("account.opened", Payload(account: e.stream.value, amount: nil))]
        case "Deposited":
            let a = try JSONCoding.decode(AccountDecider.Amount.self, from: e.data).amount
            return [try .json("account.deposited", version: 2, Payload(account: e.stream.value, amount: a))]
        case "Withdrawn":
            let a = try JSONCoding.decode(AccountDecider.Amount.self, from: e.data).amount
            return [try .json("account.withdrawn", Payload(account: e.stream.value, amount: a)),
                    try .json("account.balance-changed", Payload(account: e.stream.value, amount: -a))]
        case "Poison": throw CancellationError()
        default: return []
        }
    }

    func publisher(_ loop: TestLoop, _ store: EventStore, _ log: EventStore, maxBatch: Int = 1024,
                   logger: @escaping CQRSLogger = { _, _ in }) -> Publisher {
        Publisher(source: "accounts", store: store, publicLog: log, executor: loop.executor, scheduler: ManualScheduler(),
                  maxBatch: maxBatch, logger: logger, map: PublisherTests.map)
    }

    func seed(_ loop: TestLoop, _ store: EventStore, accounts: Range<Int>) async throws {
        let h = try CommandHandler(decider: account, store: store)
        for i in accounts {
            let s = StreamName("account-\(i)")
            _ = try await h.send(.open(given: "A", family: "B"), on: s, context: CommandContext(correlationId: "c\(i)"), loop: loop).get()
            _ = try await h.send(.deposit(10), on: s, loop: loop).get()
            _ = try await h.send(.withdraw(3), on: s, loop: loop).get()
            _ = try await h.send(.touch, on: s, context: CommandContext(idempotencyKey: "touch-\(i)", fingerprint: "t"), loop: loop).get()
        }
    }

    @Test func publishesMappedEventsWithDeterministicIdsAndEnvelope() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try await seed(loop, store, accounts: 0..<2)   // 6 internal events + 2 `$idempotency` markers
        let p = publisher(loop, store, log)
        try await loop.run { try p.start() }
        #expect(await loop.eventually { p.checkpoint == store.lastPosition })
        let published = try log.readAll(from: .start, maxCount: 100, filter: nil)
        #expect(published.count == 8)                  // 2 × (opened, deposited, withdrawn, balance-changed)
        #expect(published.allSatisfy { $0.stream == "accounts" })
        let internalEvents = try store.readAll(from: .start, maxCount: 100, filter: .categories("account"))
        let opened = try #require(PublicEventEnvelope(published[0]))
        #expect(opened.id == Publisher.eventID(source: "accounts", position: internalEvents[0].position, index: 0))
        #expect(opened.type == "account.opened" && opened.version == 1 && opened.source == "accounts")
        #expect(opened.correlationId == "c0")
        #expect(opened.causationId == internalEvents[0].id.description.lowercased())
        #expect(opened.sourcePosition == internalEvents[0].position)
        #expect(opened.occurredAt == RFC3339.format(internalEvents[0].timestamp))
        let second = try #require(PublicEventEnvelope(published[3]))
        #expect(second.id == Publisher.eventID(source: "accounts", position: internalEvents[2].position, index: 1))
        // The JSON envelope carries every field of the public-event spec.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(PublicEventEnvelope(published[1])!.jsonBytes())) as? [String: Any])
        #expect(Set(object.keys) == ["id", "type", "version", "source", "occurredAt", "correlationId", "causationId", "data"])
        #expect(object["version"] as? Int == 2)
        #expect((object["data"] as? [String: Any])?["amount"] as? Int == 10)
    }

    @Test func republishingFromScratchAddsNothing() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try await seed(loop, store, accounts: 0..<3)
        let first = publisher(loop, store, log)
        try await loop.run { try first.start() }
        #expect(await loop.eventually { first.checkpoint == store.lastPosition })
        try await loop.run { first.stop() }
        let before = try log.readAll(from: .start, maxCount: 1000, filter: nil)
        // "Crash" that lost the checkpoint: more events arrive, a new publisher starts from scratch
        // with a different batch size (so its appends straddle the first run's).
        try await seed(loop, store, accounts: 3..<5)
        let second = publisher(loop, store, log, maxBatch: 5)
        try await loop.run { try second.start(from: .start) }
        #expect(await loop.eventually { second.checkpoint == store.lastPosition })
        let after = try log.readAll(from: .start, maxCount: 1000, filter: nil)
        #expect(after.count == 5 * 4)
        #expect(Array(after.prefix(before.count)) == before)
        #expect(Set(after.map(\.id)).count == after.count)
        // And a third run over everything appends nothing at all.
        let third = publisher(loop, store, log, maxBatch: 7)
        try await loop.run { try third.start(from: .start) }
        #expect(await loop.eventually { third.checkpoint == store.lastPosition })
        #expect(log.lastPosition == after.last!.position)
    }

    @Test func oneInternalEventsPublicEventsAreAppendedTogether() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try await seed(loop, store, accounts: 0..<1)
        let p = publisher(loop, store, log, maxBatch: 1)
        try await loop.run { try p.start() }
        #expect(await loop.eventually { p.checkpoint == store.lastPosition })
        // opened, deposited, withdrawn(+balance-changed): three appends, the last one of two events.
        #expect(log.stats.appends == 3)
        #expect(log.lastPosition == LogPosition(4))
    }

    @Test func checkpointIsRecoveredFromThePublicLog() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        try await seed(loop, store, accounts: 0..<2)
        let first = publisher(loop, store, log)
        try await loop.run { try first.start() }
        #expect(await loop.eventually { first.checkpoint == store.lastPosition })
        try await loop.run { first.stop() }
        let lastWithdrawal = try store.readAll(from: .start, maxCount: 100, filter: .eventTypes("Withdrawn")).last!
        let restarted = publisher(loop, store, log)
        #expect(try restarted.recoverCheckpoint() == lastWithdrawal.position)
        let appendsBefore = log.stats.appends
        try await seed(loop, store, accounts: 2..<3)
        try await loop.run { try restarted.start() }
        #expect(await loop.eventually { restarted.checkpoint == store.lastPosition })
        #expect(log.stats.appends - appendsBefore >= 1)
        #expect(try log.readAll(from: .start, maxCount: 100, filter: nil).count == 12)
        #expect(try await loop.run { restarted.published } == 4)   // only the new account's events
    }

    @Test func aMappingErrorStopsThePublisherAtThatPosition() async throws {
        let loop = TestLoop()
        let store = loop.makeStore(), log = loop.makeStore()
        _ = try rawAppend(store, "account-1", [NewEvent(type: "Deposited", data: json(#"{"amount":1}"#))])
        let poison = try rawAppend(store, "account-1", [NewEvent(type: "Poison", data: json("{}"))])
        _ = try rawAppend(store, "account-1", [NewEvent(type: "Deposited", data: json(#"{"amount":2}"#))])
        final class Lines: @unchecked Sendable { var all: [String] = [] }
        let lines = Lines()
        let p = publisher(loop, store, log, logger: { lines.all.append($1) })
        try await loop.run { try p.start() }
        #expect(await loop.eventually { if case .failed = p.status { return true } else { return false } })
        #expect(try await loop.run { p.status } == .failed(position: poison.lastPosition, reason: "\(CancellationError())"))
        #expect(try await loop.run { lines.all.contains { $0.contains("position \(poison.lastPosition)") } })
        #expect(await loop.eventually { log.lastPosition == LogPosition(1) })   // the first one only
    }

    @Test func aFailedAppendIsRetriedAfterTheDelay() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let log = InstrumentedStore(loop.makeStore())
        log.failingAppends = 2
        log.executorForFailures = loop.executor
        try await seed(loop, store, accounts: 0..<1)
        let scheduler = ManualScheduler()
        let p = Publisher(source: "accounts", store: store, publicLog: log, executor: loop.executor, scheduler: scheduler,
                          retryDelay: .seconds(1), map: PublisherTests.map)
        try await loop.run { try p.start() }
        #expect(await loop.eventually { if case .retrying = p.status { return true } else { return false } })
        #expect(try await loop.run { p.health.status } == "retrying")
        #expect(log.lastPosition == .start)
        try await loop.run { scheduler.advance(by: .seconds(1)) }   // second failure
        #expect(await loop.eventually { scheduler.pending == 1 })
        try await loop.run { scheduler.advance(by: .seconds(1)) }   // succeeds
        #expect(await loop.eventually { p.checkpoint == store.lastPosition })
        #expect(try await loop.run { p.status } == .running)
        #expect(log.lastPosition == LogPosition(4))
    }

    @Test func rfc3339Formatting() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_710_347.123)) == "2026-11-26T16:25:47.123Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
        // Against Foundation's formatter, whole milliseconds across four centuries.
        let reference = ISO8601DateFormatter()
        reference.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        reference.timeZone = TimeZone(identifier: "UTC")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let ms = Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &rng)   // 1900...2200
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            #expect(RFC3339.format(date) == reference.string(from: date), "\(ms)")
        }
    }
}
