import Foundation
import Testing
import TributaryTesting
@testable import EventStore

@Suite struct EventStoreVerifierTests {
    @Test func anIntactLogVerifies() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        try await withFileStore(dir.path) { store async throws in
            for _ in 0..<10 { _ = try await store.append(to: "v-1", expected: .any, events: events(3)) }
        }
        let report = try EventStoreVerifier.verify(directory: dir.path)
        #expect(report.isIntact)
        #expect(report.records == 30)
        #expect(report.lastGoodPosition == 30)
    }

    @Test func aPayloadEditedInPlaceWithItsCRCRecomputedIsCaughtByTheHashChain() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        try await withFileStore(dir.path) { store async throws in
            for i in 0..<6 { _ = try await store.append(to: "acct-1", expected: .any, events: [event("Deposited", "{\"amount\":\(100 + i)}")]) }
        }
        let locs = try await recordLocations(dir.path)
        var bytes = segmentBytes(dir.path)
        let target = locs[3]
        let (parsed, _) = RecordFormat.parse(bytes, at: target.offset, length: target.length)
        let h = try #require(parsed)
        let amountDigit = h.dataRange.lowerBound + "{\"amount\":".utf8.count
        #expect(bytes[amountDigit] == UInt8(ascii: "1"))
        bytes[amountDigit] = UInt8(ascii: "9")  // 103 becomes 903
        RecordFormat.set32(&bytes, target.offset + 8, CRC32C.checksum(bytes, range: (target.offset + 12)..<(target.offset + target.length)))
        writeSegment(dir.path, 0, bytes)
        // The CRC alone no longer notices...
        #expect(RecordFormat.parse(bytes, at: target.offset, length: target.length).0 != nil)
        // ...but the chain does.
        let report = try EventStoreVerifier.verify(directory: dir.path)
        #expect(report.firstBrokenPosition == 4)
        #expect(report.records == 3)
        #expect(report.problem?.contains("hash chain") == true)
        #expect(throws: EventStoreError.self) { _ = try FileEventStore(directory: dir.path, options: fileOptions(useCheckpoint: false)) }
    }

    @Test func aTornTailIsReportedAsSuch() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        try await withFileStore(dir.path) { store async throws in _ = try await store.append(to: "v-1", expected: .any, events: events(3)) }
        let bytes = segmentBytes(dir.path)
        writeSegment(dir.path, 0, Array(bytes.dropLast(7)))
        let report = try EventStoreVerifier.verify(directory: dir.path)
        #expect(report.firstBrokenPosition == 3)
        #expect(report.tornTailOnly)
        #expect(report.records == 2)
    }
}
