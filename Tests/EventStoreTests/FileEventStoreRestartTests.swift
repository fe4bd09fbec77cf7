import Foundation
import Testing
import TributaryTesting
@testable import EventStore

@Suite struct FileEventStoreRestartTests {
    @Test func restartPreservesEventsStreamsIdempotencyAndSnapshots() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let repeated = events(2)
        let (before, original) = try await withFileStore(dir.path) { store async throws in
            for i in 0..<30 { _ = try await store.append(to: StreamName("s-\(i % 4)"), expected: .any, events: events(1 + i % 3)) }
            let original = try await store.append(to: "s-9", expected: .noStream, events: repeated)
            try store.saveSnapshot("s-1", version: StreamVersion(3), data: Array("snap".utf8))
            return (try store.readAll(from: .start, maxCount: 10_000, filter: nil), original)
        }
        try await withFileStore(dir.path) { store async throws in
            #expect(try store.readAll(from: .start, maxCount: 10_000, filter: nil) == before)
            #expect(store.lastPosition == LogPosition(UInt64(before.count)))
            for s in 0..<4 {
                let name = StreamName("s-\(s)")
                #expect(store.streamVersion(name) == StreamVersion(Int64(before.filter { $0.stream == name }.count - 1)))
            }
            // The id index survived: re-appending is still a no-op.
            #expect(try await store.append(to: "s-9", expected: .noStream, events: repeated) == original)
            #expect(try store.loadSnapshot("s-1") == Snapshot(version: StreamVersion(3), data: Array("snap".utf8)))
            // And new appends continue the chain and positions.
            let next = try await store.append(to: "s-0", expected: .any, events: events(1))
            #expect(next.firstPosition == LogPosition(UInt64(before.count + 1)))
        }
        let report = try EventStoreVerifier.verify(directory: dir.path)
        #expect(report.isIntact)
        #expect(report.records == before.count + 1)
    }

    @Test func restartWithoutCheckpointGivesTheSameState() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let before = try await withFileStore(dir.path) { store async throws in
            for i in 0..<20 { _ = try await store.append(to: StreamName("s-\(i % 3)"), expected: .any, events: events(2)) }
            return try store.readAll(from: .start, maxCount: 10_000, filter: nil)
        }
        try await withFileStore(dir.path, fileOptions(useCheckpoint: false)) { store async throws in
            #expect(try store.readAll(from: .start, maxCount: 10_000, filter: nil) == before)
        }
    }

    @Test func segmentsRollOverAndReadAcrossThem() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        var options = fileOptions()
        options.segmentSize = 1024
        let before = try await withFileStore(dir.path, options) { store async throws in
            for i in 0..<40 { _ = try await store.append(to: StreamName("s-\(i % 3)"), expected: .any, events: events(1 + i % 2)) }
            return try store.readAll(from: .start, maxCount: 10_000, filter: nil)
        }
        let segments = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".seg") }
        #expect(segments.count > 5)
        for s in segments {
            let size = (try FileManager.default.attributesOfItem(atPath: dir.sub(s))[.size] as? NSNumber)?.intValue ?? 0
            #expect(size <= 1024 + 400, "a segment only exceeds the limit by at most one batch")
        }
        try await withFileStore(dir.path, fileOptions(useCheckpoint: false)) { store async throws in
            #expect(try store.readAll(from: .start, maxCount: 10_000, filter: nil) == before)
            #expect(try store.readStream("s-1").map(\.streamVersion.value) == Array(0..<Int64(before.filter { $0.stream == "s-1" }.count)))
            #expect(try store.readAll(from: LogPosition(10), maxCount: 5, filter: nil).map(\.position.value) == [11, 12, 13, 14, 15])
        }
        #expect(try EventStoreVerifier.verify(directory: dir.path).records == before.count)
    }

    @Test func secondOpenOfTheSameDirectoryIsRefused() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        try await withFileStore(dir.path) { _ async throws in
            #expect(throws: EventStoreError.self) { _ = try FileEventStore(directory: dir.path, options: fileOptions()) }
        }
    }

    @Test(arguments: [FileEventStoreOptions.Durability.batch(maxDelayMillis: 5), .none])
    func relaxedDurabilityModesStillPersistOnClose(durability: FileEventStoreOptions.Durability) async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let before = try await withFileStore(dir.path, fileOptions(durability)) { store async throws in
            for _ in 0..<20 { _ = try await store.append(to: "a-1", expected: .any, events: events(3)) }
            return try store.readAll(from: .start, maxCount: 1000, filter: nil)
        }
        try await withFileStore(dir.path) { store async throws in
            #expect(try store.readAll(from: .start, maxCount: 1000, filter: nil) == before)
        }
    }
}

@Suite struct RecordedMetadataTests {
    /// Events read from a file keep their metadata encoded until it is read; reading gives
    /// exactly what was appended, equality and hashing ignore how it is held, and setting it
    /// replaces it.
    @Test func metadataReadFromAFileIsWhatWasAppended() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let full = EventMetadata(correlationId: "corr-1", causationId: "cause-ü",
                                 properties: ["b": "2", "a": "1", "idempotency": String(repeating: "k", count: 300)])
        let appended = [
            NewEvent(id: EventID(), type: "A", data: [1], metadata: full),
            NewEvent(id: EventID(), type: "B", data: [2], metadata: EventMetadata(causationId: "only-cause")),
            NewEvent(id: EventID(), type: "C", data: [3], metadata: EventMetadata()),
        ]
        let live = try await withFileStore(dir.path) { store async throws in
            _ = try await store.append(to: "m-1", expected: .noStream, events: appended)
            return try store.readAll(from: .start, maxCount: 10, filter: nil)
        }
        try await withFileStore(dir.path) { store async throws in
            let read = try store.readAll(from: .start, maxCount: 10, filter: nil)
            #expect(read.map(\.metadata) == appended.map(\.metadata))
            #expect(read == live)
            #expect(Set(read) == Set(live))
            // An eagerly built copy of the same event is equal and hashes alike.
            let eager = RecordedEvent(id: read[0].id, stream: read[0].stream, streamVersion: read[0].streamVersion,
                                      position: read[0].position, type: read[0].type, schemaVersion: read[0].schemaVersion,
                                      data: read[0].data, metadata: full, timestamp: read[0].timestamp)
            #expect(eager == read[0])
            #expect(eager.hashValue == read[0].hashValue)
            var changed = read[0]
            changed.metadata = EventMetadata(correlationId: "other")
            #expect(changed.metadata == EventMetadata(correlationId: "other"))
            #expect(changed != read[0])
        }
    }
}
