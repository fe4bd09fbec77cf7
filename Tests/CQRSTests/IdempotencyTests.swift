import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS

/// Idempotency-Key: replay the first outcome, reject a different body, survive restarts, expire.
@Suite struct IdempotencyTests {
    let s: StreamName = "account-1"

    func ctx(_ key: String, _ body: String) -> CommandContext {
        CommandContext(correlationId: "corr", idempotencyKey: key, fingerprint: RequestFingerprint.of(Array("POST".utf8), Array(body.utf8)))
    }

    func opened(_ loop: TestLoop, _ store: EventStore, clock: TestClock) async throws -> CommandHandler<AccountDecider> {
        var options = CommandHandler<AccountDecider>.Options()
        options.clock = clock.function
        let handler = try CommandHandler(decider: account, store: store, options: options)
        _ = try await handler.send(.open(given: "A", family: "B"), on: s, loop: loop).get()
        return handler
    }

    @Test func sameKeySameBodyReplaysTheFirstOutcomeAndAppendsOnce() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        let first = try await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get()
        let second = try await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get()
        #expect(!first.replayed && second.replayed)
        #expect(second.version == first.version && second.position == first.position)
        #expect(second.events == [.deposited(5)])
        #expect(store.streamVersion(s) == StreamVersion(1))
    }

    @Test func sameKeyDifferentBodyIsRejected() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        _ = try await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get()
        let r = await handler.send(.deposit(6), on: s, context: ctx("k1", "6"), loop: loop)
        #expect(r.failureValue == .idempotencyKeyReused(key: "k1"))
        #expect(store.streamVersion(s) == StreamVersion(1))
    }

    @Test func aRejectionIsNotRememberedSoARetryIsDecidedAgain() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        let rejected = await handler.send(.withdraw(5), on: s, context: ctx("k1", "w5"), loop: loop)
        guard case .failure(.domain) = rejected else { Issue.record("expected rejection, got \(rejected)"); return }
        _ = try await handler.send(.deposit(5), on: s, loop: loop).get()
        let retried = try await handler.send(.withdraw(5), on: s, context: ctx("k1", "w5"), loop: loop).get()
        #expect(!retried.replayed && retried.version == StreamVersion(2))
    }

    @Test func keyIsRememberedAcrossARestart() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        let first = try await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get()
        let noop = try await handler.send(.touch, on: s, context: ctx("k2", "touch"), loop: loop).get()
        // "Restart": a new handler (new cache, index rebuilt by scanning) over the same store.
        var options = CommandHandler<AccountDecider>.Options()
        options.clock = clock.function
        let restarted = try CommandHandler(decider: account, store: store, options: options)
        #expect(restarted.idempotency.count == 2)
        let again = try await restarted.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get()
        #expect(again.replayed && again.position == first.position && again.version == first.version)
        let noopAgain = try await restarted.send(.touch, on: s, context: ctx("k2", "touch"), loop: loop).get()
        #expect(noopAgain.replayed && noopAgain.version == noop.version && noopAgain.position == noop.position)
        let mismatch = await restarted.send(.deposit(7), on: s, context: ctx("k1", "7"), loop: loop)
        #expect(mismatch.failureValue == .idempotencyKeyReused(key: "k1"))
        #expect(store.streamVersion(s) == StreamVersion(1))
    }

    @Test func keysExpireAfterTheRetentionWindow() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        _ = try await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get()
        clock.advance(23 * 3600)
        #expect(try await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get().replayed)
        clock.advance(2 * 3600)
        // Forgotten: a different body under the old key is now a new command...
        let fresh = try await handler.send(.deposit(6), on: s, context: ctx("k1", "6"), loop: loop).get()
        #expect(!fresh.replayed && fresh.version == StreamVersion(2))
        // ...and a restart does not resurrect expired keys.
        var options = CommandHandler<AccountDecider>.Options()
        options.clock = clock.function
        clock.advance(25 * 3600)
        let restarted = try CommandHandler(decider: account, store: store, options: options)
        #expect(restarted.idempotency.count == 0)
    }

    @Test func theStoreStillRefusesAnExpiredKeysExactRepeat() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        _ = try await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop).get()
        clock.advance(48 * 3600)
        // Same key and body: same deterministic event ids, already stored → never applied twice.
        let r = await handler.send(.deposit(5), on: s, context: ctx("k1", "5"), loop: loop)
        #expect(r.failureValue == .alreadyApplied(key: "k1"))
        #expect(store.streamVersion(s) == StreamVersion(1))
    }

    @Test func concurrentRetriesWithOneKeyApplyOnce() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        let c = ctx("k1", "5")
        let results: [CommandOutcome<AccountDecider.Event>] = await withCheckedContinuation { cont in
            loop.queue.async {
                var out: [CommandOutcome<AccountDecider.Event>] = []
                for stream in [self.s, "account-other"] as [StreamName] {   // e.g. a generated id that differs per retry
                    for _ in 0..<3 {
                        handler.handle(.deposit(5), on: stream, context: c) { r in
                            if case .success(let o) = r { out.append(o) }
                            if out.count == 6 { cont.resume(returning: out) }
                        }
                    }
                }
            }
        }
        #expect(results.filter { !$0.replayed }.count == 1)
        #expect(Set(results.map(\.stream)) == [s])
        #expect(store.streamVersion(s) == StreamVersion(1))
    }

    @Test func deterministicIdsAndMetadataOnTheFirstEvent() async throws {
        let loop = TestLoop(), clock = TestClock()
        let store = loop.makeStore()
        let handler = try await opened(loop, store, clock: clock)
        let c = ctx("k9", "5")
        _ = try await handler.send(.deposit(5), on: s, context: c, loop: loop).get()
        let e = try store.readStream(s)[1]
        #expect(e.id == DeterministicID.make("command", "k9", c.fingerprint, "0"))
        #expect(e.metadata.properties[RuntimeMetadata.idempotencyKey] == "k9")
        #expect(e.metadata.correlationId == "corr")
    }
}

@Suite struct IdempotencyPruningTests {
    func entry(_ at: Date) -> IdempotencyIndex.Entry {
        IdempotencyIndex.Entry(fingerprint: "f", stream: "s-1", firstVersion: StreamVersion(0), eventCount: 1,
                               version: StreamVersion(0), position: LogPosition(1), handledAt: at)
    }

    /// Pruning rebuilds the dictionary, so it must not run every few thousand inserts of a
    /// big index (that made startup scans quadratic); expired keys still go.
    @Test func pruningIsAmortizedAndStillDropsExpiredKeys() {
        let clock = TestClock()
        let index = IdempotencyIndex(retention: 100, clock: { clock.now })
        for i in 0..<300_000 { index.record(key: "k\(i)", entry(clock.now)) }
        #expect(index.count == 300_000)
        #expect(index.prunes <= 12, "\(index.prunes) prunes for 300k inserts (every 4096 would be 73)")
        clock.advance(200)   // all of them expire
        for i in 0..<400_000 { index.record(key: "n\(i)", entry(clock.now)) }
        #expect(index.count <= 400_000, "the 300k expired keys were pruned on the way (\(index.count) held)")
        #expect(index.lookup(key: "k1", fingerprint: "f") == .miss)
        #expect(index.lookup(key: "n1", fingerprint: "f") != .miss)
    }
}
