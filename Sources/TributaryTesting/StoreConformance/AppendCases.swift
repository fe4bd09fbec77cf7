import Foundation
import Testing
import EventStore

extension StoreConformance {
    static func appendAssignsVersionsFromZeroAndGaplessPositions(_ store: EventStore) async throws {
        let r1 = try await store.append(to: "order-1", expected: .noStream, events: events(3))
        #expect(r1 == AppendResult(nextExpectedVersion: StreamVersion(2), firstPosition: LogPosition(1), lastPosition: LogPosition(3)))
        let r2 = try await store.append(to: "order-2", expected: .any, events: events(1))
        #expect(r2 == AppendResult(nextExpectedVersion: StreamVersion(0), firstPosition: LogPosition(4), lastPosition: LogPosition(4)))
        let r3 = try await store.append(to: "order-1", expected: .exact(StreamVersion(2)), events: events(2))
        #expect(r3 == AppendResult(nextExpectedVersion: StreamVersion(4), firstPosition: LogPosition(5), lastPosition: LogPosition(6)))
        #expect(store.lastPosition == LogPosition(6))
        #expect(store.streamVersion("order-1") == StreamVersion(4))
        #expect(store.streamVersion("order-2") == StreamVersion(0))
        #expect(store.streamVersion("order-3") == nil)
        let all = try store.readAll(from: .start, maxCount: 100, filter: nil)
        #expect(all.map { $0.position.value } == [1, 2, 3, 4, 5, 6])
        #expect(all.map { $0.streamVersion.value } == [0, 1, 2, 0, 3, 4])
    }

    static func expectedVersionNoStream(_ store: EventStore) async throws {
        _ = try await store.append(to: "a-1", expected: .noStream, events: events(2))
        let error = await appendError(store, "a-1", .noStream, events(1))
        #expect(error == .wrongExpectedVersion(stream: "a-1", expected: .noStream, actual: StreamVersion(1)))
    }

    static func expectedVersionStreamExists(_ store: EventStore) async throws {
        let error = await appendError(store, "a-1", .streamExists, events(1))
        #expect(error == .wrongExpectedVersion(stream: "a-1", expected: .streamExists, actual: nil))
        _ = try await store.append(to: "a-1", expected: .any, events: events(1))
        let r = try await store.append(to: "a-1", expected: .streamExists, events: events(1))
        #expect(r.nextExpectedVersion == StreamVersion(1))
    }

    static func expectedVersionExactNamesTheActualVersion(_ store: EventStore) async throws {
        let missing = await appendError(store, "a-1", .exact(StreamVersion(0)), events(1))
        #expect(missing == .wrongExpectedVersion(stream: "a-1", expected: .exact(StreamVersion(0)), actual: nil))
        _ = try await store.append(to: "a-1", expected: .any, events: events(3))
        let stale = await appendError(store, "a-1", .exact(StreamVersion(1)), events(1))
        #expect(stale == .wrongExpectedVersion(stream: "a-1", expected: .exact(StreamVersion(1)), actual: StreamVersion(2)))
        #expect(stale?.description.contains("actual 2") == true)
        let ahead = await appendError(store, "a-1", .exact(StreamVersion(7)), events(1))
        #expect(ahead == .wrongExpectedVersion(stream: "a-1", expected: .exact(StreamVersion(7)), actual: StreamVersion(2)))
        let ok = try await store.append(to: "a-1", expected: .exact(StreamVersion(2)), events: events(1))
        #expect(ok.nextExpectedVersion == StreamVersion(3))
        #expect(store.lastPosition == LogPosition(4), "failed appends write nothing")
    }

    static func expectedVersionAnyAlwaysAppends(_ store: EventStore) async throws {
        for i in 0..<5 {
            let r = try await store.append(to: "a-1", expected: .any, events: events(1))
            #expect(r.nextExpectedVersion == StreamVersion(Int64(i)))
        }
    }

    static func idempotentReappendReturnsOriginalResultAndWritesNothing(_ store: EventStore) async throws {
        _ = try await store.append(to: "a-1", expected: .any, events: events(2))
        let batch = events(3)
        let original = try await store.append(to: "a-1", expected: .exact(StreamVersion(1)), events: batch)
        _ = try await store.append(to: "b-1", expected: .any, events: events(1))
        let again = try await store.append(to: "a-1", expected: .exact(StreamVersion(1)), events: batch)
        #expect(again == original)
        let againAny = try await store.append(to: "a-1", expected: .any, events: batch)
        #expect(againAny == original)
        let prefix = try await store.append(to: "a-1", expected: .exact(StreamVersion(1)), events: Array(batch.prefix(2)))
        #expect(prefix == AppendResult(nextExpectedVersion: StreamVersion(3), firstPosition: original.firstPosition,
                                       lastPosition: LogPosition(original.firstPosition.value + 1)))
        #expect(store.lastPosition == LogPosition(6))
        #expect(try store.readStream("a-1").count == 5)
    }

    static func idempotentReappendOfFirstEventsWithNoStream(_ store: EventStore) async throws {
        let batch = events(2)
        let original = try await store.append(to: "a-1", expected: .noStream, events: batch)
        let again = try await store.append(to: "a-1", expected: .noStream, events: batch)
        #expect(again == original)
    }

    static func partialOverlapIsAnIdempotencyConflict(_ store: EventStore) async throws {
        let batch = events(2)
        _ = try await store.append(to: "a-1", expected: .any, events: batch)
        let overlap = await appendError(store, "a-1", .any, [batch[1], event()])
        guard case .idempotencyConflict(let stream, let reason)? = overlap else {
            Issue.record("expected idempotencyConflict, got \(String(describing: overlap))"); return
        }
        #expect(stream == "a-1")
        #expect(reason.contains("partial"))
        #expect(store.lastPosition == LogPosition(2))
    }

    static func reappendAtAnotherPlaceIsAConflict(_ store: EventStore) async throws {
        let batch = events(2)
        _ = try await store.append(to: "a-1", expected: .noStream, events: batch)
        let elsewhere = await appendError(store, "b-1", .any, batch)
        if case .idempotencyConflict? = elsewhere {} else { Issue.record("other stream: \(String(describing: elsewhere))") }
        let otherVersion = await appendError(store, "a-1", .exact(StreamVersion(5)), batch)
        if case .idempotencyConflict? = otherVersion {} else { Issue.record("other version: \(String(describing: otherVersion))") }
        let reordered = await appendError(store, "a-1", .any, [batch[1], batch[0]])
        if case .idempotencyConflict? = reordered {} else { Issue.record("reordered: \(String(describing: reordered))") }
        #expect(store.lastPosition == LogPosition(2))
    }

    static func invalidAppendsAreRejected(_ store: EventStore) async throws {
        let empty = await appendError(store, "a-1", .any, [])
        if case .invalidArgument? = empty {} else { Issue.record("empty append: \(String(describing: empty))") }
        let e = event()
        let twice = await appendError(store, "a-1", .any, [e, e])
        if case .invalidArgument? = twice {} else { Issue.record("duplicate id: \(String(describing: twice))") }
        let noName = await appendError(store, StreamName(""), .any, events(1))
        if case .invalidArgument? = noName {} else { Issue.record("empty stream name: \(String(describing: noName))") }
        #expect(store.lastPosition == .start)
    }

    static func eventFieldsRoundTrip(_ store: EventStore) async throws {
        let id = EventID()
        let meta = EventMetadata(correlationId: "corr-1", causationId: "cause-9", properties: ["user": "ann", "tenant": "t1"])
        let body = "{\"amount\":42,\"note\":\"caf\u{e9}\"}"
        let e = NewEvent(id: id, type: "OrderPlaced", schemaVersion: 3, data: Array(body.utf8), metadata: meta)
        let before = Date().addingTimeInterval(-5)
        _ = try await store.append(to: "order-7", expected: .noStream, events: [e, event("Empty", "")])
        let read = try store.readStream("order-7")
        #expect(read.count == 2)
        let r = read[0]
        #expect(r.id == id)
        #expect(r.stream == "order-7")
        #expect(r.streamVersion == StreamVersion(0))
        #expect(r.position == LogPosition(1))
        #expect(r.type == "OrderPlaced")
        #expect(r.schemaVersion == 3)
        #expect(r.data == Array(body.utf8))
        #expect(r.metadata == meta)
        #expect(r.timestamp > before && r.timestamp < Date().addingTimeInterval(5))
        #expect(read[1].data.isEmpty)
        #expect(read[1].metadata == EventMetadata())
        #expect(try store.readAll(from: .start, maxCount: 1, filter: nil) == [r])
    }

    static func appendsAfterCloseFail(_ store: EventStore) async throws {
        _ = try await store.append(to: "a-1", expected: .any, events: events(1))
        store.close()
        let error = await appendError(store, "a-1", .any, events(1))
        #expect(error == .closed)
        #expect(!store.health.isHealthy)
    }

    static func statsCountAppends(_ store: EventStore) async throws {
        #expect(store.health == .healthy)
        for _ in 0..<3 { _ = try await store.append(to: "a-1", expected: .any, events: events(2)) }
        let s = store.stats
        #expect(s.appends == 3)
        #expect(s.eventsWritten == 6)
    }
}
