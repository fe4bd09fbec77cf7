import Testing
import TributaryTesting
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

/// The cache against a plain reference LRU (an array in use order) under a random mix of
/// gets, puts and removes: the same streams are kept, and its storage stays bounded.
@Suite struct StateCacheModelTests {
    @Test(arguments: [1, 4, 8, 100])
    func matchesAReferenceLRU(capacity: Int) {
        var rng = SplitMix64(state: UInt64(capacity) &+ 0x9E37_79B9_7F4A_7C15)
        let cache = StateCache<Int>(capacity: capacity)
        var order: [String] = []           // least recently used first
        var values: [String: Int] = [:]
        let keys = capacity * 3
        for step in 0..<20_000 {
            let key = "s-\(rng.next() % UInt64(keys))"
            switch rng.next() % 10 {
            case 0..<4:
                let got = cache.get(StreamName(key))?.state
                #expect(got == values[key], "get \(key) at step \(step)")
                if got != nil { order.removeAll { $0 == key }; order.append(key) }
            case 4..<9:
                cache.put(StreamName(key), .init(state: step, version: nil, position: .start, snapshotVersion: nil))
                values[key] = step
                order.removeAll { $0 == key }; order.append(key)
                if order.count > capacity { values[order.removeFirst()] = nil }
            default:
                cache.remove(StreamName(key))
                values[key] = nil
                order.removeAll { $0 == key }
            }
            #expect(cache.count == values.count, "count at step \(step)")
            #expect(cache.storageCount <= capacity + 1, "storage bound at step \(step)")
        }
    }

    @Test func churnReusesStorage() {
        let cache = StateCache<Int>(capacity: 10)
        for i in 0..<100_000 {
            cache.put(StreamName("s-\(i)"), .init(state: i, version: nil, position: .start, snapshotVersion: nil))
            _ = cache.get(StreamName("s-\(i / 2)"))
        }
        #expect(cache.count == 10 && cache.storageCount <= 11)
        #expect(cache.get("s-99999")?.state == 99_999)
    }
}
