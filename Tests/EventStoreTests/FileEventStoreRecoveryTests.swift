import Foundation
import Testing
import TributaryTesting
@testable import EventStore

@Suite struct FileEventStoreRecoveryTests {
    /// Five events in one stream, one per append; returns their (offset, length) in segment 0.
    private func fiveEvents(_ dir: String) async throws -> [(offset: Int, length: Int)] {
        try await withFileStore(dir) { store async throws in
            for i in 0..<5 {
                let e = NewEvent(type: "Numbered", data: Array("{\"n\":\(i),\"pad\":\"xxxxxxxxxxxxxxxx\"}".utf8),
                                 metadata: EventMetadata(correlationId: "c\(i)"))
                _ = try await store.append(to: "t-1", expected: .any, events: [e])
            }
        }
        return try await recordLocations(dir)
    }

    @Test func tailCutAtEveryByteOfTheLastRecordRecoversToThePreviousRecord() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let original = dir.sub("original")
        let locs = try await fiveEvents(original)
        let last = locs[4]
        let full = segmentBytes(original)
        #expect(full.count == last.offset + last.length)
        let expected = try await withFileStore(original) { try $0.readAll(from: .start, maxCount: 10, filter: nil) }
        let work = dir.sub("work")
        for cut in last.offset..<(last.offset + last.length) {
            // The copy keeps the checkpoint, which now points past the end: it must be rejected.
            copyDirectory(original, work)
            writeSegment(work, 0, Array(full[0..<cut]))
            let logs = LogCapture()
            try await withFileStore(work, fileOptions(logs: logs)) { store async throws in
                #expect(store.lastPosition == LogPosition(4), "cut at \(cut)")
                #expect(try store.readAll(from: .start, maxCount: 10, filter: nil) == Array(expected.prefix(4)))
                let again = try await store.append(to: "t-1", expected: .exact(StreamVersion(3)), events: events(1))
                #expect(again.firstPosition == LogPosition(5))
            }
            if cut > last.offset {
                #expect(logs.all.contains { $0.contains("truncating \(cut - last.offset) bytes") }, "cut at \(cut): \(logs.all)")
            }
            #expect(try EventStoreVerifier.verify(directory: work).isIntact)
        }
    }

    @Test func aCRCFailingFinalRecordIsTruncated() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let locs = try await fiveEvents(dir.path)
        var bytes = segmentBytes(dir.path)
        bytes[locs[4].offset + locs[4].length - 40] ^= 0x01
        writeSegment(dir.path, 0, bytes)
        let logs = LogCapture()
        try await withFileStore(dir.path, fileOptions(logs: logs, useCheckpoint: false)) { store async throws in
            #expect(store.lastPosition == LogPosition(4))
        }
        #expect(logs.all.contains { $0.contains("final record fails its CRC") })
    }

    @Test func aZeroFilledTailIsTruncated() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        _ = try await fiveEvents(dir.path)
        writeSegment(dir.path, 0, segmentBytes(dir.path) + [UInt8](repeating: 0, count: 4096))
        try await withFileStore(dir.path, fileOptions(useCheckpoint: false)) { store async throws in
            #expect(store.lastPosition == LogPosition(5))
        }
    }

    @Test func aFlippedBitMidLogFailsOpenAndTheVerifierNamesThePosition() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let locs = try await fiveEvents(dir.path)
        var bytes = segmentBytes(dir.path)
        bytes[locs[2].offset + locs[2].length - 45] ^= 0x10  // inside record 3's data
        writeSegment(dir.path, 0, bytes)
        do {
            _ = try FileEventStore(directory: dir.path, options: fileOptions(useCheckpoint: false))
            Issue.record("open should fail on mid-log corruption")
        } catch let EventStoreError.corrupt(position, file, offset, reason) {
            #expect(position == 3)
            #expect(file == SegmentFile.name(0))
            #expect(offset == Int64(locs[2].offset))
            #expect(reason.contains("CRC"))
        }
        let report = try EventStoreVerifier.verify(directory: dir.path)
        #expect(report.firstBrokenPosition == 3)
        #expect(report.records == 2)
        #expect(!report.tornTailOnly)
        #expect(report.description.contains("position 3"))
    }

    @Test func aCorruptLengthMidLogIsCorruptionNotATornTail() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let locs = try await fiveEvents(dir.path)
        var bytes = segmentBytes(dir.path)
        bytes[locs[1].offset + 1] ^= 0x40  // length of record 2 now claims ~16 KiB, past the end
        writeSegment(dir.path, 0, bytes)
        #expect(throws: EventStoreError.self) { _ = try FileEventStore(directory: dir.path, options: fileOptions(useCheckpoint: false)) }
        #expect(try EventStoreVerifier.verify(directory: dir.path).firstBrokenPosition == 2)
    }

    @Test func checkpointPlusTailScanGivesTheSameIndexAsAFullScan() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        var options = fileOptions()
        options.checkpointEvery = 50
        try await withFileStore(dir.path, options) { store async throws in
            for i in 0..<120 { _ = try await store.append(to: StreamName("c-\(i % 9)"), expected: .any, events: events(1 + i % 2)) }
        }
        let oldCheckpoint = try Data(contentsOf: URL(fileURLWithPath: dir.sub(IndexCheckpoint.fileName)))
        try await withFileStore(dir.path, options) { store async throws in
            for i in 0..<77 { _ = try await store.append(to: StreamName("c-\(i % 13)"), expected: .any, events: events(1)) }
        }
        // Put the older checkpoint back, as if the process had died before saving a newer one.
        try oldCheckpoint.write(to: URL(fileURLWithPath: dir.sub(IndexCheckpoint.fileName)))
        let logs = LogCapture()
        let viaCheckpoint = try FileEventStore(directory: dir.path, options: fileOptions(logs: logs))
        let loadedIndex = viaCheckpoint.index, loadedLocations = viaCheckpoint.locations, loadedLengths = viaCheckpoint.lengths
        let loadedRead = try viaCheckpoint.readAll(from: .start, maxCount: 10_000, filter: nil)
        viaCheckpoint.close()
        #expect(logs.all.contains { $0.contains("checkpoint of 180 events + tail scan") && $0.contains("77 records scanned") }, "\(logs.all)")
        let full = try FileEventStore(directory: dir.path, options: fileOptions(useCheckpoint: false))
        defer { full.close() }
        #expect(loadedLocations == full.locations)
        #expect(loadedLengths == full.lengths)
        #expect(loadedIndex.streamOfPosition == full.index.streamOfPosition)
        #expect(loadedIndex.ids == full.index.ids)
        #expect(loadedIndex.streams.map(\.name) == full.index.streams.map(\.name))
        #expect(loadedIndex.streams.map(\.positions) == full.index.streams.map(\.positions))
        #expect(loadedIndex.ordinals == full.index.ordinals)
        #expect(try full.readAll(from: .start, maxCount: 10_000, filter: nil) == loadedRead)
        #expect(loadedRead.count == 257)
    }

    @Test func aCheckpointFromAnotherLogIsIgnored() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let a = dir.sub("a"), b = dir.sub("b")
        try await withFileStore(a) { store async throws in _ = try await store.append(to: "x-1", expected: .any, events: events(30)) }
        try await withFileStore(b) { store async throws in _ = try await store.append(to: "y-1", expected: .any, events: events(30)) }
        try FileManager.default.removeItem(atPath: b + "/" + IndexCheckpoint.fileName)
        try FileManager.default.copyItem(atPath: a + "/" + IndexCheckpoint.fileName, toPath: b + "/" + IndexCheckpoint.fileName)
        let logs = LogCapture()
        try await withFileStore(b, fileOptions(logs: logs)) { store async throws in
            #expect(store.streamVersion("y-1") == StreamVersion(29))
            #expect(store.streamVersion("x-1") == nil)
        }
        #expect(logs.all.contains { $0.contains("checkpoint ignored") })
    }

    @Test func aDamagedCheckpointFileFallsBackToAFullScan() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        try await withFileStore(dir.path) { store async throws in _ = try await store.append(to: "x-1", expected: .any, events: events(10)) }
        let path = dir.sub(IndexCheckpoint.fileName)
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try await withFileStore(dir.path) { store async throws in
            #expect(store.streamVersion("x-1") == StreamVersion(9))
        }
    }
}

extension FileEventStoreRecoveryTests {
    @Test func checkpointBlocksAreAppendedAndATornLastBlockOnlyLengthensTheTailScan() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        var options = fileOptions()
        options.checkpointEvery = 40
        try await withFileStore(dir.path, options) { store async throws in
            for i in 0..<100 { _ = try await store.append(to: StreamName("k-\(i % 7)"), expected: .any, events: events(1)) }
        }
        let path = dir.sub(IndexCheckpoint.fileName)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let whole = try #require(IndexCheckpoint.decode(bytes))
        #expect(whole.eventCount == 100)
        #expect(whole.fileSize == bytes.count)
        // Blocks at 40 and 80 events, then the rest on close: cut into the last block.
        try Data(bytes.dropLast(10)).write(to: URL(fileURLWithPath: path))
        let logs = LogCapture()
        try await withFileStore(dir.path, fileOptions(logs: logs)) { store async throws in
            #expect(store.lastPosition == LogPosition(100))
            #expect(store.streamVersion("k-0") == StreamVersion(14))
        }
        #expect(logs.all.contains { $0.contains("checkpoint of 80 events + tail scan") && $0.contains("20 records scanned") }, "\(logs.all)")
    }
}
