import Testing
import TributaryTesting
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders
import JSON

/// `?version=` / `?asOf=` views and the audit history, computed from the stream.
@Suite struct TemporalAndHistoryTests {
    func setUp() async throws -> Harness {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        _ = try await h.send(place1, context: CommandContext(correlationId: "req-1", causationId: "cmd-1")).get()
        _ = try await h.send(.addLine(lineB)).get()
        _ = try await h.send(.removeLine(sku: "A-1")).get()
        return h
    }

    @Test func viewAtEachVersion() async throws {
        let h = try await setUp()
        let v0 = try #require(try await awaiting(on: h.queue) { h.service.order("o1", atVersion: 0, asOf: nil, completion: $0) })
        #expect(v0.total == 1000 && v0.lines == [lineA] && v0.version == 0 && v0.customerName == "Ada Lovelace")
        let v1 = try #require(try await awaiting(on: h.queue) { h.service.order("o1", atVersion: 1, asOf: nil, completion: $0) })
        #expect(v1.total == 1250 && v1.version == 1)
        let latest = try #require(try await awaiting(on: h.queue) { h.service.order("o1", atVersion: nil, asOf: nil, completion: $0) })
        #expect(latest.lines == [lineB] && latest.version == 2)
        #expect(await h.waitForViews())
        #expect(try await h.run { h.service.order("o1") } == latest)
        #expect(try await awaiting(on: h.queue) { h.service.order("nope", atVersion: 0, asOf: nil, completion: $0) } == nil)
    }

    @Test func viewAsOfATime() async throws {
        let h = try await setUp()
        let history = try #require(try await awaiting(on: h.queue) { h.service.history("o1", completion: $0) })
        let times = history.map(\.time)
        #expect(times == times.sorted() && Set(times).count == 3)
        let second = try h.store.readStream("order-o1")[1].timestamp
        let v = try #require(try await awaiting(on: h.queue) { h.service.order("o1", atVersion: nil, asOf: second, completion: $0) })
        #expect(v.version == 1)
        let before = second.addingTimeInterval(-0.5)
        #expect(try await awaiting(on: h.queue) { h.service.order("o1", atVersion: nil, asOf: before, completion: $0) }?.version == 0)
        #expect(try await awaiting(on: h.queue) { h.service.order("o1", atVersion: nil, asOf: Date(timeIntervalSince1970: 0), completion: $0) } == nil)
    }

    @Test func historyListsTheStreamsEventsWithMetadata() async throws {
        let h = try await setUp()
        let history = try #require(try await awaiting(on: h.queue) { h.service.history("o1", completion: $0) })
        #expect(history.map(\.type) == ["OrderPlaced", "LineAdded", "LineRemoved"])
        #expect(history.map(\.version) == [0, 1, 2])
        #expect(history[0].correlationId == "req-1")
        #expect(history[0].causationId == "cmd-1")
        #expect(history.map(\.position) == history.map(\.position).sorted())
        guard case .object(let data) = history[0].data else { Issue.record("data is not an object"); return }
        #expect(data["total"] == .int(1000))
        #expect(data["customerId"] == .string("c1"))
        // Codable round trip (what the HTTP layer serializes).
        let bytes = try JSONCoding.encode(history)
        #expect(try JSONCoding.decode([HistoryEntry].self, from: bytes) == history)
        #expect(try await awaiting(on: h.queue) { h.service.history("unknown", completion: $0) } == nil)
    }
}
