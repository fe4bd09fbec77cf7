import Foundation

/// What `EventStoreVerifier.verify` found.
public struct VerifyReport: Hashable, Sendable, CustomStringConvertible {
    /// Records whose framing, CRC, position and chain hash all check out (up to the first problem).
    public var records: Int
    /// Position of the last good record (0 if none).
    public var lastGoodPosition: UInt64
    /// Position of the first broken record: bad CRC, broken hash chain, wrong position,
    /// or a torn final record. Nil when the whole log verifies.
    public var firstBrokenPosition: UInt64?
    /// Segment file and byte offset of the first problem.
    public var file: String?
    public var offset: Int64?
    /// What is wrong, in words.
    public var problem: String?
    /// True when the only problem is a torn final record (recovery would truncate it).
    public var tornTailOnly: Bool

    public init(records: Int, lastGoodPosition: UInt64, firstBrokenPosition: UInt64?, file: String?, offset: Int64?,
                problem: String?, tornTailOnly: Bool) {
        self.records = records; self.lastGoodPosition = lastGoodPosition; self.firstBrokenPosition = firstBrokenPosition
        self.file = file; self.offset = offset; self.problem = problem; self.tornTailOnly = tornTailOnly
    }

    /// The log fully verifies (no problem at all).
    public var isIntact: Bool { firstBrokenPosition == nil }

    public var description: String {
        if let p = firstBrokenPosition {
            return "BROKEN at position \(p) (\(file ?? "?") offset \(offset ?? -1)): \(problem ?? "?"); \(records) good records before it" + (tornTailOnly ? " [torn tail only]" : "")
        }
        return "OK: \(records) records, hash chain intact, last position \(lastGoodPosition)"
    }
}

/// Checks a data directory offline, without changing it: every record's framing and CRC-32C,
/// the gapless position sequence, and the whole SHA-256 hash chain (which catches edits that
/// recomputed the CRC). Backs `tributary verify --data DIR`. Run it on a closed store.
public enum EventStoreVerifier {
    public static func verify(directory: String, fileIO: FileIO = SystemFileIO()) throws -> VerifyReport {
        let segments = try SegmentFile.list(in: directory, io: fileIO)
        let scanner = LogScanner(io: fileIO, segments: segments)
        let outcome = try scanner.scan(fromSegment: 0, offset: 0, prevHash: RecordFormat.zeroHash, nextPosition: 1) { _, _, _, _ in }
        var report = VerifyReport(records: outcome.records, lastGoodPosition: outcome.nextPosition - 1,
                                  firstBrokenPosition: nil, file: nil, offset: nil, problem: nil, tornTailOnly: false)
        if let issue = outcome.issue {
            report.firstBrokenPosition = issue.position
            report.file = SegmentFile.name(issue.segment)
            report.offset = issue.offset
            report.problem = issue.reason
            report.tornTailOnly = issue.kind == .tornTail
        }
        return report
    }
}
