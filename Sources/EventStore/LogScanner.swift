import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One segment file of the log: `log-NNNNNNNN.seg`, numbered from 0 without gaps.
struct SegmentFile {
    let number: Int
    let path: String

    static func name(_ number: Int) -> String { "log-" + String(format: "%08d", number) + ".seg" }

    /// Segment files of `directory`, sorted; throws `.corrupt` if numbering has a gap.
    static func list(in directory: String, io: FileIO) throws -> [SegmentFile] {
        var out: [SegmentFile] = []
        for name in try io.listDirectory(directory) where name.hasPrefix("log-") && name.hasSuffix(".seg") {
            let digits = name.dropFirst(4).dropLast(4)
            guard let n = Int(digits) else { continue }
            out.append(SegmentFile(number: n, path: directory + "/" + name))
        }
        out.sort { $0.number < $1.number }
        for (i, s) in out.enumerated() where s.number != i {
            throw EventStoreError.corrupt(position: 0, file: SegmentFile.name(i), offset: 0, reason: "segment file missing")
        }
        return out
    }
}

/// A problem found while scanning the log.
struct ScanIssue {
    enum Kind { case tornTail, corrupt }
    var kind: Kind
    /// Position the record at `offset` should have had.
    var position: UInt64
    var segment: Int
    var offset: Int64
    var reason: String
}

/// Walks records in order, checking framing, CRC, positions and the hash chain.
/// Shared by recovery (which truncates a torn tail and refuses corruption) and the verifier.
struct LogScanner {
    let io: FileIO
    let segments: [SegmentFile]
    var chunkSize = 4 << 20

    struct Outcome {
        var lastHash: [UInt8]
        var nextPosition: UInt64
        var records: Int = 0
        /// Where valid data ends: the segment (array index) and byte offset to resume or truncate at.
        var endSegment: Int
        var endOffset: Int64
        var issue: ScanIssue?
    }

    /// Scans from `segment`/`offset` (the start of a record). `visit` gets every valid record,
    /// with the buffer holding it, its parsed header, segment number and file offset.
    func scan(fromSegment startSegment: Int, offset startOffset: Int64, prevHash: [UInt8], nextPosition: UInt64,
              visit: ([UInt8], RecordHeader, Int, Int64) throws -> Void) throws -> Outcome {
        var out = Outcome(lastHash: prevHash, nextPosition: nextPosition, endSegment: startSegment, endOffset: startOffset)
        var hasher = SHA256()
        var buf = [UInt8](repeating: 0, count: chunkSize)
        var segIndex = startSegment
        var offset = startOffset
        while segIndex < segments.count {
            let seg = segments[segIndex]
            let fd = try io.open(seg.path, flags: O_RDONLY, mode: 0)
            defer { io.close(fd) }
            let size = try io.fileSize(fd)
            var bufStart: Int64 = 0, bufLen = 0
            // Makes bytes [at, at+n) available in `buf`; returns their index in it.
            func ensure(_ at: Int64, _ n: Int) throws -> Int {
                if at >= bufStart && at + Int64(n) <= bufStart + Int64(bufLen) { return Int(at - bufStart) }
                let want = max(n, chunkSize)
                if buf.count < want { buf = [UInt8](repeating: 0, count: want) }
                let canRead = Int(min(Int64(want), size - at))
                bufLen = try io.pread(fd, into: &buf, count: canRead, offset: at)
                bufStart = at
                if bufLen < n { throw EventStoreError.io(errno: EIO, what: "short read of \(seg.path)") }
                return 0
            }
            func issue(_ kind: ScanIssue.Kind, _ reason: String) -> Outcome {
                var o = out
                o.endSegment = segIndex
                o.endOffset = offset
                o.issue = ScanIssue(kind: kind, position: out.nextPosition, segment: seg.number, offset: offset, reason: reason)
                return o
            }
            func restIsZero() throws -> Bool {
                var at = offset
                while at < size {
                    let n = Int(min(Int64(chunkSize), size - at))
                    let i = try ensure(at, n)
                    for j in i..<(i + n) where buf[j] != 0 { return false }
                    at += Int64(n)
                }
                return true
            }
            while offset < size {
                let remaining = size - offset
                if remaining < Int64(RecordFormat.frameSize) {
                    return try finish(issue(.tornTail, "incomplete record frame (\(remaining) bytes)"), segIndex)
                }
                let i = try ensure(offset, RecordFormat.frameSize)
                switch RecordFormat.frame(buf, at: i) {
                case .badFrame(let reason):
                    if try restIsZero() { return try finish(issue(.tornTail, "zero-filled tail of \(remaining) bytes"), segIndex) }
                    return issue(.corrupt, reason)
                case .length(let n):
                    if offset + Int64(n) > size {
                        return try finish(issue(.tornTail, "record of \(n) bytes cut short at \(remaining) bytes"), segIndex)
                    }
                    let j = try ensure(offset, n)
                    let (parsed, reason) = RecordFormat.parse(buf, at: j, length: n)
                    guard let h = parsed else {
                        if offset + Int64(n) == size && reason == "CRC mismatch" {
                            return try finish(issue(.tornTail, "final record fails its CRC"), segIndex)
                        }
                        return issue(.corrupt, reason)
                    }
                    if h.position != out.nextPosition {
                        return issue(.corrupt, "expected position \(out.nextPosition), found \(h.position)")
                    }
                    let hash = RecordFormat.chainHash(buf, h, prevHash: out.lastHash, hasher: &hasher)
                    if !RecordFormat.storedHashMatches(buf, h, hash) {
                        return issue(.corrupt, "hash chain broken (content differs from what was chained)")
                    }
                    try visit(buf, h, seg.number, offset)
                    out.lastHash = hash
                    out.nextPosition += 1
                    out.records += 1
                    offset += Int64(n)
                }
            }
            out.endSegment = segIndex
            out.endOffset = offset
            segIndex += 1
            if segIndex < segments.count { offset = 0 }
        }
        return out
    }

    /// A torn tail is only acceptable in the last segment that holds data.
    private func finish(_ o: Outcome, _ segIndex: Int) throws -> Outcome {
        for later in segments.dropFirst(segIndex + 1) {
            let fd = try io.open(later.path, flags: O_RDONLY, mode: 0)
            let size = try io.fileSize(fd)
            io.close(fd)
            if size > 0 {
                var c = o
                c.issue?.kind = .corrupt
                c.issue?.reason += " (and later segments hold data, so this is not the end of the log)"
                return c
            }
        }
        return o
    }
}
