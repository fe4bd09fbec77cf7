import Testing
import TributaryTesting
import EventStore
@testable import CQRS

/// A writer appending behind the cache's back causes a conflict that is re-decided on fresh state.
@Suite struct ConflictRetryTests {
    @Test func externalAppendIsRetriedOnFreshState() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let handler = try CommandHandler(decider: account, store: store)
        let stream: StreamName = "account-1"
        _ = await handler.send(.open(given: "A", family: "B"), on: stream, loop: loop)
        _ = await handler.send(.deposit(10), on: stream, loop: loop)   // cache: balance 10, version 1
        // Another writer deposits 50 directly in the store.
        _ = try rawAppend(store, stream, [NewEvent(type: "Deposited", data: json(#"{"amount":50}"#))], expected: .exact(StreamVersion(1)))
        // Only valid on fresh state (60), not on the cached one (10).
        let r = await handler.send(.withdraw(40), on: stream, loop: loop)
        let outcome = try r.get()
        #expect(outcome.version == StreamVersion(3))
        // Seen by the freshness check before deciding: no failed append was needed.
        #expect(try await loop.run { handler.stats.conflictRetries } == 0)
        #expect(try handler.state(of: stream).state.balance == 20)
    }

    @Test func raceBetweenDecisionAndAppendIsReDecided() async throws {
        let loop = TestLoop()
        let inner = loop.makeStore()
        let store = InstrumentedStore(inner)
        let handler = try CommandHandler(decider: account, store: store)
        let stream: StreamName = "account-1"
        _ = await handler.send(.open(given: "A", family: "B"), on: stream, loop: loop)
        _ = await handler.send(.deposit(10), on: stream, loop: loop)
        // Another writer withdraws 10 after our decision, before our append.
        store.beforeAppend = { s in
            store.beforeAppend = nil
            inner.append(to: s, expected: .any, events: [NewEvent(type: "Withdrawn", data: json(#"{"amount":10}"#))]) { _ in }
        }
        let r = await handler.send(.withdraw(5), on: stream, loop: loop)
        // Re-decided on fresh state (balance 0): rejected, nothing appended by us.
        guard case .failure(.domain(let e)) = r else { Issue.record("expected rejection, got \(r)"); return }
        #expect(e.code == "insufficient-funds")
        #expect(try await loop.run { handler.stats.conflictRetries } == 1)
        #expect(inner.streamVersion(stream) == StreamVersion(2))
        // And a valid one after the race succeeds on top of it.
        let ok = try await handler.send(.deposit(1), on: stream, loop: loop).get()
        #expect(ok.version == StreamVersion(3))
    }

    @Test func retryingIsBounded() async throws {
        let loop = TestLoop()
        let inner = loop.makeStore()
        let store = InstrumentedStore(inner)
        let handler = try CommandHandler(decider: account, store: store)
        let stream: StreamName = "account-1"
        _ = await handler.send(.open(given: "A", family: "B"), on: stream, loop: loop)
        var interfering = 0
        store.beforeAppend = { s in
            interfering += 1
            inner.append(to: s, expected: .any, events: [NewEvent(type: "Deposited", data: json(#"{"amount":1}"#))]) { _ in }  // memory store commits synchronously
        }
        let r = await handler.send(.deposit(5), on: stream, loop: loop)
        #expect(r.failureValue == .tooManyConflicts(stream: stream, attempts: 5))
        #expect(interfering == 5)
    }

    @Test func creationRaceIsReportedForNoStream() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let handler = try CommandHandler(decider: account, store: store)
        let stream: StreamName = "account-9"
        // Cache learns the stream is empty, then someone creates it.
        _ = await handler.send(.deposit(1), on: stream, loop: loop)
        _ = try rawAppend(store, stream, [NewEvent(type: "AccountOpened", schemaVersion: 2, data: json(#"{"givenName":"X","familyName":"Y"}"#))])
        let r = await handler.send(.open(given: "A", family: "B"), on: stream, .noStream, loop: loop)
        #expect(r.failureValue == .streamAlreadyExists(stream: stream, actual: .first))
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}
