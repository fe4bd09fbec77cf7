import Foundation
import Testing
import EventStore

extension StoreConformance {
    /// order-1: versions 0..9 at positions 1..10 interleaved with customer-1 events.
    private static func seed(_ store: EventStore) async throws {
        for i in 0..<10 {
            _ = try await store.append(to: "order-1", expected: .any, events: [event(i % 2 == 0 ? "OrderPlaced" : "OrderPaid", "{\"i\":\(i)}")])
            _ = try await store.append(to: "customer-1", expected: .any, events: [event("CustomerSeen")])
        }
        _ = try await store.append(to: "orderline-1", expected: .any, events: [event("LineAdded")])
    }

    static func readStreamForwardFromAVersionWithMaxCount(_ store: EventStore) async throws {
        try await seed(store)
        #expect(try store.readStream("order-1").map { $0.streamVersion.value } == Array(0...9))
        #expect(try store.readStream("order-1", from: StreamVersion(3), direction: .forward, maxCount: 4).map { $0.streamVersion.value } == [3, 4, 5, 6])
        #expect(try store.readStream("order-1", from: StreamVersion(8), direction: .forward, maxCount: 100).map { $0.streamVersion.value } == [8, 9])
        #expect(try store.readStream("order-1", from: StreamVersion(10), direction: .forward, maxCount: 5).isEmpty)
        #expect(try store.readStream("order-1", from: .first, direction: .forward, maxCount: 0).isEmpty)
        #expect(try store.readStream("nope-1", from: .first, direction: .forward, maxCount: 5).isEmpty)
        #expect(try store.readStream("order-1", from: .first, direction: .forward, maxCount: Int.max).count == 10)
    }

    /// Every stream once, with its version, page by page; a name filter; the last page has no `next`.
    static func listStreamsPagesEveryStreamOnceWithItsVersion(_ store: EventStore) async throws {
        try await seed(store)
        let all = try store.listStreams(containing: nil, after: nil, limit: 100)
        #expect(Set(all.streams.map { $0.name.value }) == ["order-1", "customer-1", "orderline-1"] && all.next == nil)
        #expect(all.streams.first { $0.name == "order-1" }?.version == StreamVersion(9))
        #expect(all.streams.first { $0.name == "orderline-1" }?.version == StreamVersion(0))
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try store.listStreams(containing: nil, after: cursor, limit: 1)
            #expect(page.streams.count <= 1)
            seen += page.streams.map { $0.name.value }
            cursor = page.next
        } while cursor != nil
        #expect(seen.sorted() == ["customer-1", "order-1", "orderline-1"])
        #expect(Set(try store.listStreams(containing: "order", after: nil, limit: 10).streams.map { $0.name.value }) == ["order-1", "orderline-1"])
        #expect(try store.listStreams(containing: "%_", after: nil, limit: 10).streams.isEmpty, "a plain substring, not a pattern")
        #expect(try store.listStreams(containing: "nothing", after: nil, limit: 10) == StreamPage(streams: [], next: nil))
    }

    static func readStreamBackward(_ store: EventStore) async throws {
        try await seed(store)
        #expect(try store.readStream("order-1", from: .end, direction: .backward, maxCount: 3).map { $0.streamVersion.value } == [9, 8, 7])
        #expect(try store.readStream("order-1", from: StreamVersion(4), direction: .backward, maxCount: 10).map { $0.streamVersion.value } == [4, 3, 2, 1, 0])
        #expect(try store.readStream("order-1", from: StreamVersion(0), direction: .backward, maxCount: 10).map { $0.streamVersion.value } == [0])
        #expect(try store.readStream("nope-1", from: .end, direction: .backward, maxCount: 10).isEmpty)
    }

    static func readAllIsExclusiveOfFromAndRespectsMaxCount(_ store: EventStore) async throws {
        try await seed(store)
        #expect(try store.readAll(from: .start, maxCount: 1000, filter: nil).map { $0.position.value } == Array(1...21))
        #expect(try store.readAll(from: LogPosition(5), maxCount: 3, filter: nil).map { $0.position.value } == [6, 7, 8])
        #expect(try store.readAll(from: LogPosition(21), maxCount: 3, filter: nil).isEmpty)
        #expect(try store.readAll(from: LogPosition(99), maxCount: 3, filter: nil).isEmpty)
        // Paging by the last position seen covers everything exactly once.
        var seen: [UInt64] = []
        var cursor = LogPosition.start
        while true {
            let page = try store.readAll(from: cursor, maxCount: 4, filter: nil)
            if page.isEmpty { break }
            seen += page.map { $0.position.value }
            cursor = page.last!.position
        }
        #expect(seen == Array(1...21))
    }

    static func readAllFilters(_ store: EventStore) async throws {
        try await seed(store)
        let orders = try store.readAll(from: .start, maxCount: 1000, filter: .categories("order"))
        #expect(orders.count == 10 && orders.allSatisfy { $0.stream == "order-1" })
        let prefixed = try store.readAll(from: .start, maxCount: 1000, filter: .streamPrefixes("order"))
        #expect(prefixed.count == 11, "prefix 'order' also matches orderline-1")
        let paid = try store.readAll(from: .start, maxCount: 1000, filter: .eventTypes("OrderPaid", "LineAdded"))
        #expect(paid.map { $0.type } == Array(repeating: "OrderPaid", count: 5) + ["LineAdded"])
        let both = try store.readAll(from: .start, maxCount: 2, filter: EventFilter(categories: ["order", "customer"], eventTypes: ["OrderPlaced", "CustomerSeen"]))
        #expect(both.map { $0.position.value } == [1, 2])
        let none = try store.readAll(from: .start, maxCount: 10, filter: .categories("invoice"))
        #expect(none.isEmpty)
        #expect(StreamName("order-1-x").category == "order")
        #expect(StreamName("plain").category == "plain")
    }

    static func snapshotsKeepTheLatestPerStream(_ store: EventStore) async throws {
        #expect(try store.loadSnapshot("order-1") == nil)
        try store.saveSnapshot("order-1", version: StreamVersion(4), data: Array("{\"v\":4}".utf8))
        try store.saveSnapshot("order-2", version: StreamVersion(1), data: [])
        #expect(try store.loadSnapshot("order-1") == Snapshot(version: StreamVersion(4), data: Array("{\"v\":4}".utf8)))
        try store.saveSnapshot("order-1", version: StreamVersion(9), data: Array("{\"v\":9}".utf8))
        #expect(try store.loadSnapshot("order-1") == Snapshot(version: StreamVersion(9), data: Array("{\"v\":9}".utf8)))
        #expect(try store.loadSnapshot("order-2") == Snapshot(version: StreamVersion(1), data: []))
        let odd = StreamName("weird/name with spaces-\u{1F600}")
        try store.saveSnapshot(odd, version: StreamVersion(0), data: [1, 2, 3])
        #expect(try store.loadSnapshot(odd)?.data == [1, 2, 3])
    }
}
