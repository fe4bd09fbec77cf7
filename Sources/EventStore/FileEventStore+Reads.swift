import Foundation

/// Reads: locate records under the state lock (copying only the few locations needed), then
/// `pread` outside it, so readers never block the writer and only ever see committed records.
extension FileEventStore {
    /// Largest single read when replaying the log.
    static let readChunkBytes = 1 << 20

    public func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int) throws -> [RecordedEvent] {
        guard maxCount > 0, from.value >= 0 else { return [] }
        stateLock.lock()
        if readsClosed { stateLock.unlock(); throw EventStoreError.closed }
        guard let head = index.version(of: stream) else { stateLock.unlock(); return [] }
        let count = Int(head) + 1
        var range: Range<Int>
        switch direction {
        case .forward:
            let lo = Int(clamping: from.value)
            range = min(lo, count)..<min(count, lo.addingReportingOverflow(maxCount).overflow ? count : lo + maxCount)
        case .backward:
            let hi = min(Int(clamping: from.value), count - 1)
            range = max(0, hi - maxCount + 1)..<(hi + 1)
        }
        if range.isEmpty { stateLock.unlock(); return [] }
        let positions = index.positions(of: stream, versions: range)
        var locs: [UInt64] = []
        var lens: [UInt32] = []
        locs.reserveCapacity(positions.count)
        lens.reserveCapacity(positions.count)
        for p in positions { locs.append(locations[Int(p - 1)]); lens.append(lengths[Int(p - 1)]) }
        let fds = segmentFDs
        stateLock.unlock()

        var out: [RecordedEvent] = []
        out.reserveCapacity(positions.count)
        var buf = [UInt8](repeating: 0, count: Int(lens.max() ?? 0))
        for k in 0..<positions.count {
            let n = Int(lens[k])
            let seg = RecordLocation.segment(locs[k]), off = RecordLocation.offset(locs[k])
            let got = try io.pread(fds[seg], into: &buf, count: n, offset: off)
            guard got == n else { throw EventStoreError.corrupt(position: positions[k], file: SegmentFile.name(seg), offset: off, reason: "record cut short") }
            let (parsed, reason) = RecordFormat.parse(buf, at: 0, length: n)
            guard let h = parsed, h.position == positions[k] else {
                throw EventStoreError.corrupt(position: positions[k], file: SegmentFile.name(seg), offset: off, reason: parsed == nil ? reason : "position mismatch")
            }
            out.append(RecordFormat.event(buf, h, stream: stream))
        }
        if direction == .backward { out.reverse() }
        return out
    }

    public func listStreams(containing: String?, after: String?, limit: Int) throws -> StreamPage {
        stateLock.lock()
        defer { stateLock.unlock() }
        if readsClosed { throw EventStoreError.closed }
        return try index.list(containing: containing, after: after, limit: max(1, limit))
    }

    public func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?) throws -> [RecordedEvent] {
        try scan(after: from.value, maxCount: maxCount, filter: filter).events
    }

    /// Reads the log after `after` in large sequential chunks, keeping events that match;
    /// `scannedTo` is the last position examined (matching or not), for subscriptions.
    func scan(after: UInt64, maxCount: Int, filter: EventFilter?) throws -> (events: [RecordedEvent], scannedTo: UInt64) {
        stateLock.lock()
        if readsClosed { stateLock.unlock(); throw EventStoreError.closed }
        let last = index.lastPosition
        stateLock.unlock()
        var out: [RecordedEvent] = []
        var p = after
        guard maxCount > 0 else { return (out, p) }
        var buf = [UInt8](repeating: 0, count: FileEventStore.readChunkBytes)
        while p < last && out.count < maxCount {
            let hi = min(last, p + 8192)
            stateLock.lock()
            if readsClosed { stateLock.unlock(); throw EventStoreError.closed }
            let locs = Array(locations[Int(p)..<Int(hi)])
            let lens = Array(lengths[Int(p)..<Int(hi)])
            let fds = segmentFDs
            stateLock.unlock()
            var k = 0
            while k < locs.count && out.count < maxCount {
                // One pread for a run of adjacent records in the same segment (up to the chunk size).
                let seg = RecordLocation.segment(locs[k])
                let start = RecordLocation.offset(locs[k])
                var end = start + Int64(lens[k])
                var m = k + 1
                while m < locs.count && RecordLocation.segment(locs[m]) == seg && RecordLocation.offset(locs[m]) == end
                        && end - start + Int64(lens[m]) <= Int64(FileEventStore.readChunkBytes) {
                    end += Int64(lens[m])
                    m += 1
                }
                let n = Int(end - start)
                if buf.count < n { buf = [UInt8](repeating: 0, count: n) }
                let got = try io.pread(fds[seg], into: &buf, count: n, offset: start)
                guard got == n else { throw EventStoreError.corrupt(position: p + 1, file: SegmentFile.name(seg), offset: start, reason: "record cut short") }
                var i = 0
                for r in k..<m {
                    let len = Int(lens[r])
                    let expected = p + 1
                    let (parsed, reason) = RecordFormat.parse(buf, at: i, length: len)
                    guard let h = parsed, h.position == expected else {
                        throw EventStoreError.corrupt(position: expected, file: SegmentFile.name(seg), offset: start + Int64(i),
                                                      reason: parsed == nil ? reason : "position mismatch")
                    }
                    p = expected
                    if let filter {
                        if filter.matches(stream: RecordFormat.string(buf, h.streamRange), type: RecordFormat.string(buf, h.typeRange)) {
                            out.append(RecordFormat.event(buf, h))
                        }
                    } else {
                        out.append(RecordFormat.event(buf, h))
                    }
                    i += len
                    if out.count == maxCount { break }
                }
                k = m
            }
        }
        return (out, p)
    }
}
