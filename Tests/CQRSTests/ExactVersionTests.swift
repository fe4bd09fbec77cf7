import Testing
import TributaryTesting
import EventStore
@testable import CQRS

/// `.exact` (If-Match): never re-decided; a mismatch names the actual version.
@Suite struct ExactVersionTests {
    @Test func matchingVersionSucceeds() async throws {
        let loop = TestLoop()
        let handler = try CommandHandler(decider: account, store: loop.makeStore())
        let s: StreamName = "account-1"
        _ = await handler.send(.open(given: "A", family: "B"), on: s, loop: loop)
        let r = await handler.send(.deposit(3), on: s, .exact(.first), loop: loop)
        #expect(try r.get().version == StreamVersion(1))
    }

    @Test func staleVersionIsAMismatchNamingTheActualVersion() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let handler = try CommandHandler(decider: account, store: store)
        let s: StreamName = "account-1"
        _ = await handler.send(.open(given: "A", family: "B"), on: s, loop: loop)
        _ = await handler.send(.deposit(3), on: s, loop: loop)
        let r = await handler.send(.deposit(4), on: s, .exact(.first), loop: loop)
        #expect(r.failureValue == .versionMismatch(stream: s, expected: .first, actual: StreamVersion(1)))
        #expect(store.streamVersion(s) == StreamVersion(1))
    }

    @Test func mismatchDetectedByTheStoreAfterAWriteBehindTheCache() async throws {
        let loop = TestLoop()
        let inner = loop.makeStore()
        let store = InstrumentedStore(inner)
        let handler = try CommandHandler(decider: account, store: store)
        let s: StreamName = "account-1"
        _ = await handler.send(.open(given: "A", family: "B"), on: s, loop: loop)
        store.beforeAppend = { stream in
            store.beforeAppend = nil
            inner.append(to: stream, expected: .any, events: [NewEvent(type: "Deposited", data: json(#"{"amount":1}"#))]) { _ in }
        }
        let r = await handler.send(.deposit(4), on: s, .exact(.first), loop: loop)
        #expect(r.failureValue == .versionMismatch(stream: s, expected: .first, actual: StreamVersion(1)))
        // The version the client saw elsewhere (1) is accepted: the cache catches up first.
        let ok = await handler.send(.deposit(4), on: s, .exact(StreamVersion(1)), loop: loop)
        #expect(try ok.get().version == StreamVersion(2))
    }

    @Test func exactOnAMissingStreamReportsNoStream() async throws {
        let loop = TestLoop()
        let handler = try CommandHandler(decider: account, store: loop.makeStore())
        let r = await handler.send(.deposit(1), on: "account-x", .exact(StreamVersion(3)), loop: loop)
        #expect(r.failureValue == .versionMismatch(stream: "account-x", expected: StreamVersion(3), actual: nil))
    }

    @Test func domainRejectionsPassThrough() async throws {
        let loop = TestLoop()
        let handler = try CommandHandler(decider: account, store: loop.makeStore())
        let r = await handler.send(.withdraw(1), on: "account-x", loop: loop)
        guard case .failure(.domain(let e)) = r else { Issue.record("expected a domain error, got \(r)"); return }
        #expect(e.kind == .notFound)
    }

    @Test func noOpSucceedsWithCurrentVersionAndAppendsNothing() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let handler = try CommandHandler(decider: account, store: store)
        let open = try await handler.send(.open(given: "A", family: "B"), on: "account-1", loop: loop).get()
        #expect(open.createdStream)
        let r = try await handler.send(.touch, on: "account-1", loop: loop).get()
        #expect(r.version == .first)
        #expect(r.position == open.position)
        #expect(r.events.isEmpty && !r.createdStream)
        #expect(store.lastPosition == LogPosition(1))
    }
}
