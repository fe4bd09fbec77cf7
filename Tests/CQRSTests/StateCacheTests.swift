import Testing
import EventStore
@testable import CQRS

/// The aggregate state cache stays bounded and keeps recently used streams.
@Suite struct StateCacheTests {
    @Test func evictsLeastRecentlyUsedBeyondCapacity() {
        let cache = StateCache<Int>(capacity: 8)
        for i in 0..<8 { cache.put(StreamName("s-\(i)"), .init(state: i, version: nil, position: .start, snapshotVersion: nil)) }
        _ = cache.get("s-0")                         // touch the oldest
        cache.put("s-8", .init(state: 8, version: nil, position: .start, snapshotVersion: nil))
        #expect(cache.count <= 8)
        #expect(cache.get("s-0")?.state == 0)        // recently used: kept
        #expect(cache.get("s-8")?.state == 8)
        #expect(cache.get("s-1") == nil)             // least recently used: gone
    }

    @Test func handlerCacheIsBoundedAndReloadsEvictedStreams() async throws {
        let loop = TestLoop()
        var o = CommandHandler<AccountDecider>.Options()
        o.cacheCapacity = 4
        let handler = try CommandHandler(decider: account, store: loop.makeStore(), options: o)
        for i in 0..<20 { _ = try await handler.send(.open(given: "A", family: "B"), on: StreamName("account-\(i)"), loop: loop).get() }
        #expect(try await loop.run { handler.cachedStreams } <= 4)
        let r = try await handler.send(.deposit(1), on: "account-0", loop: loop).get()
        #expect(r.version == StreamVersion(1))
    }
}
