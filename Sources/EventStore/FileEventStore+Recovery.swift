import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opening: checkpoint or full scan, tail repair, index rebuild.
extension FileEventStore {
    func recover() throws {
        let started = Date()
        var segments = try SegmentFile.list(in: directory, io: io)
        if segments.isEmpty {
            let fd = try io.open(directory + "/" + SegmentFile.name(0), flags: O_RDWR | O_CREAT, mode: 0o644)
            io.close(fd)
            try io.fsync(directoryFD)
            segments = try SegmentFile.list(in: directory, io: io)
        }
        let scanner = LogScanner(io: io, segments: segments)
        var startSegment = 0
        var startOffset: Int64 = 0
        var prevHash = RecordFormat.zeroHash
        var how = "full scan"
        if !options.useCheckpoint { IndexCheckpoint.remove(from: directory, io: io) }
        if options.useCheckpoint, let checkpoint = IndexCheckpoint.read(from: directory, io: io) {
            if let reason = mismatch(checkpoint, segments) {
                log(.warning, "index checkpoint ignored (\(reason)); scanning the whole log")
                IndexCheckpoint.remove(from: directory, io: io)
            } else {
                index = StreamIndex(streamNames: checkpoint.streamNames, streamOfPosition: checkpoint.streamOfPosition,
                                    idsByPosition: checkpoint.ids)
                locations = checkpoint.locations
                lengths = checkpoint.lengths
                startSegment = checkpoint.endSegment
                startOffset = checkpoint.endOffset
                prevHash = checkpoint.lastHash
                checkpointedEvents = UInt64(checkpoint.eventCount)
                checkpointedStreams = checkpoint.streamNames.count
                checkpointFileSize = checkpoint.fileSize
                how = "checkpoint of \(checkpoint.eventCount) events + tail scan"
            }
        }
        let outcome = try scanner.scan(fromSegment: startSegment, offset: startOffset, prevHash: prevHash,
                                       nextPosition: index.lastPosition + 1) { buf, h, segment, offset in
            let stream = StreamName(RecordFormat.string(buf, h.streamRange))
            let version = index.append(stream: stream, id: h.id)
            if version != h.streamVersion {
                throw EventStoreError.corrupt(position: h.position, file: SegmentFile.name(segment), offset: offset,
                                              reason: "stream '\(stream)' version \(h.streamVersion) where \(version) was expected")
            }
            locations.append(RecordLocation.pack(segment: segment, offset: offset))
            lengths.append(UInt32(h.length))
            uncheckpointedIDs.append(h.id)
        }
        if let issue = outcome.issue {
            switch issue.kind {
            case .corrupt:
                throw EventStoreError.corrupt(position: issue.position, file: SegmentFile.name(issue.segment),
                                              offset: issue.offset, reason: issue.reason)
            case .tornTail:
                try truncateTail(segments, issue: issue, endSegment: outcome.endSegment)
                segments = Array(segments.prefix(outcome.endSegment + 1))
            }
        }
        activeSegment = outcome.endSegment
        activeOffset = outcome.endOffset
        lastHash = outcome.lastHash
        writtenHash = lastHash
        committedOffset = activeOffset
        for (i, s) in segments.enumerated() {
            segmentFDs.append(try io.open(s.path, flags: i == segments.count - 1 ? O_RDWR : O_RDONLY, mode: 0))
        }
        if outcome.endSegment != segments.count - 1 {
            // Trailing empty segments (created just before a crash or failed write) are kept;
            // continue writing in the last one.
            activeSegment = segments.count - 1
            activeOffset = 0
            committedOffset = 0
        }
        try openSyncDescriptors()
        let millis = Int(Date().timeIntervalSince(started) * 1000)
        log(.info, "opened \(directory): \(index.lastPosition) events in \(index.streams.count) streams, durability \(options.durability), recovered by \(how) (\(outcome.records) records scanned) in \(millis) ms")
        if UInt64(outcome.records) >= options.checkpointEvery { writeCheckpoint() }
    }

    /// Why a checkpoint cannot be trusted, nil if it matches the log.
    private func mismatch(_ c: IndexCheckpoint, _ segments: [SegmentFile]) -> String? {
        guard c.eventCount > 0 else { return "empty" }
        guard c.endSegment < segments.count else { return "segment \(c.endSegment) missing" }
        let last = c.locations[c.eventCount - 1]
        let segment = RecordLocation.segment(last), offset = RecordLocation.offset(last)
        let length = Int(c.lengths[c.eventCount - 1])
        guard segment == c.endSegment, offset + Int64(length) == c.endOffset else { return "inconsistent end" }
        guard let fd = try? io.open(segments[segment].path, flags: O_RDONLY, mode: 0) else { return "cannot open segment" }
        defer { io.close(fd) }
        guard let size = try? io.fileSize(fd), size >= c.endOffset else { return "log is shorter than the checkpoint" }
        var buf = [UInt8](repeating: 0, count: length)
        guard (try? io.pread(fd, into: &buf, count: length, offset: offset)) == length else { return "cannot read last record" }
        guard case .length(let n) = RecordFormat.frame(buf, at: 0), n == length else { return "last record frame differs" }
        let (parsed, _) = RecordFormat.parse(buf, at: 0, length: length)
        guard let h = parsed, h.position == UInt64(c.eventCount), h.id == c.ids[c.eventCount - 1],
              RecordFormat.storedHashMatches(buf, h, c.lastHash) else { return "last record differs" }
        return nil
    }

    /// Cuts a torn final record (and removes the empty segments after it), logging what was cut.
    private func truncateTail(_ segments: [SegmentFile], issue: ScanIssue, endSegment: Int) throws {
        let seg = segments[endSegment]
        let fd = try io.open(seg.path, flags: O_RDWR, mode: 0)
        defer { io.close(fd) }
        let size = try io.fileSize(fd)
        log(.warning, "recovery: truncating \(size - issue.offset) bytes at \(SegmentFile.name(seg.number)) offset \(issue.offset) (would-be position \(issue.position)): \(issue.reason)")
        try io.ftruncate(fd, length: issue.offset)
        try io.fdatasync(fd)
        for later in segments.dropFirst(endSegment + 1) { try io.unlink(later.path) }
        if segments.count > endSegment + 1 { try io.fsync(directoryFD) }
    }
}
