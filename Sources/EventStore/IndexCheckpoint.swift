import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A saved copy of the file engine's in-memory index, so opening a large log only scans the
/// records appended after it.
///
/// The index only ever grows at the end (new positions, new streams), so the checkpoint file
/// `index.ckpt` is append-only too: a sequence of *blocks*, each describing the events added
/// since the previous block. Saving costs only the delta; loading reads every block. Each
/// block carries its own CRC; loading stops at the first damaged block (a torn write is just
/// a shorter checkpoint). The result is trusted only after it is checked against the log: its
/// last record must be where it says, with the same position, id and chain hash; otherwise the
/// store falls back to a full scan. No fsync: losing the newest block only lengthens the tail scan.
///
/// Block (little-endian): "TRIBCKB1", u32 blockLength, u64 firstPosition, u64 eventCount,
/// u32 newStreamCount, u32 endSegment, u64 endOffset, 32-byte hash of the last record,
/// new stream names (u32 length + UTF-8 each, ordinals continue from earlier blocks), then per
/// event: u64 location, u32 length, u32 stream ordinal, u64 idHigh, u64 idLow; u32 CRC-32C of
/// the block before it.
struct IndexCheckpoint {
    static let fileName = "index.ckpt"
    static let magic: [UInt8] = Array("TRIBCKB1".utf8)
    static let fixedBlockSize = 8 + 4 + 8 + 8 + 4 + 4 + 8 + 32

    var lastHash: [UInt8]
    var endSegment: Int
    var endOffset: Int64
    var streamNames: [StreamName]
    var locations: [UInt64]
    var lengths: [UInt32]
    var streamOfPosition: [UInt32]
    var ids: [EventID]
    /// Bytes of valid blocks in the file (where the next block goes).
    var fileSize: Int

    var eventCount: Int { locations.count }

    /// Encodes the events after `firstPosition - 1` as one block.
    static func encodeBlock(firstPosition: Int, newStreams: [StreamName], locations: ArraySlice<UInt64>,
                            lengths: ArraySlice<UInt32>, ordinals: ArraySlice<UInt32>, ids: [EventID],
                            endSegment: Int, endOffset: Int64, lastHash: [UInt8]) -> [UInt8] {
        let n = locations.count
        var b: [UInt8] = []
        b.reserveCapacity(fixedBlockSize + 4 + n * 32 + newStreams.count * 24)
        b.append(contentsOf: magic)
        RecordFormat.put32(&b, 0)
        RecordFormat.put64(&b, UInt64(firstPosition))
        RecordFormat.put64(&b, UInt64(n))
        RecordFormat.put32(&b, UInt32(newStreams.count))
        RecordFormat.put32(&b, UInt32(endSegment))
        RecordFormat.put64(&b, UInt64(endOffset))
        b.append(contentsOf: lastHash)
        for s in newStreams { RecordFormat.put32(&b, UInt32(s.value.utf8.count)); b.append(contentsOf: s.value.utf8) }
        var li = locations.startIndex, le = lengths.startIndex, oi = ordinals.startIndex
        for k in 0..<n {
            RecordFormat.put64(&b, locations[li]); li += 1
            RecordFormat.put32(&b, lengths[le]); le += 1
            RecordFormat.put32(&b, ordinals[oi]); oi += 1
            RecordFormat.put64(&b, ids[k].high)
            RecordFormat.put64(&b, ids[k].low)
        }
        RecordFormat.set32(&b, 8, UInt32(b.count + 4))
        RecordFormat.put32(&b, CRC32C.checksum(b))
        return b
    }

    /// Parses the valid prefix of blocks; nil if not even one block is valid.
    static func decode(_ b: [UInt8]) -> IndexCheckpoint? {
        var c = IndexCheckpoint(lastHash: [], endSegment: 0, endOffset: 0, streamNames: [], locations: [], lengths: [],
                                streamOfPosition: [], ids: [], fileSize: 0)
        var at = 0
        while b.count - at >= fixedBlockSize + 4 {
            guard Array(b[at..<(at + 8)]) == magic else { break }
            let size = Int(RecordFormat.u32(b, at + 8))
            guard size >= fixedBlockSize + 4, at + size <= b.count,
                  CRC32C.checksum(b, range: at..<(at + size - 4)) == RecordFormat.u32(b, at + size - 4) else { break }
            var i = at + 12
            let first = Int(RecordFormat.u64(b, i)); i += 8
            let count = Int(RecordFormat.u64(b, i)); i += 8
            let newStreams = Int(RecordFormat.u32(b, i)); i += 4
            let endSegment = Int(RecordFormat.u32(b, i)); i += 4
            let endOffset = Int64(RecordFormat.u64(b, i)); i += 8
            let hash = Array(b[i..<(i + 32)]); i += 32
            guard first == c.eventCount + 1 else { break }
            var names: [StreamName] = []
            var ok = true
            for _ in 0..<newStreams {
                guard i + 4 <= at + size - 4 else { ok = false; break }
                let n = Int(RecordFormat.u32(b, i)); i += 4
                guard i + n <= at + size - 4 else { ok = false; break }
                names.append(StreamName(RecordFormat.string(b, i..<(i + n)))); i += n
            }
            guard ok, at + size - 4 - i == count * 32 else { break }
            let streamCount = c.streamNames.count + names.count
            c.locations.reserveCapacity(c.eventCount + count)
            c.lengths.reserveCapacity(c.eventCount + count)
            c.streamOfPosition.reserveCapacity(c.eventCount + count)
            c.ids.reserveCapacity(c.eventCount + count)
            var bad = false
            for _ in 0..<count {
                let ord = RecordFormat.u32(b, i + 12)
                if Int(ord) >= streamCount { bad = true; break }
                c.locations.append(RecordFormat.u64(b, i))
                c.lengths.append(RecordFormat.u32(b, i + 8))
                c.streamOfPosition.append(ord)
                c.ids.append(EventID(high: RecordFormat.u64(b, i + 16), low: RecordFormat.u64(b, i + 24)))
                i += 32
            }
            if bad {
                // Should not happen with a good CRC; drop this block.
                let keep = first - 1
                c.locations.removeLast(c.eventCount - keep); c.lengths.removeLast(c.lengths.count - keep)
                c.streamOfPosition.removeLast(c.streamOfPosition.count - keep); c.ids.removeLast(c.ids.count - keep)
                break
            }
            c.streamNames += names
            c.lastHash = hash
            c.endSegment = endSegment
            c.endOffset = endOffset
            at += size
            c.fileSize = at
        }
        return c.fileSize > 0 ? c : nil
    }

    /// Appends one block at `offset` of the checkpoint file (cut back on failure).
    static func appendBlock(_ block: [UInt8], at offset: Int, directory: String, io: FileIO) throws {
        let fd = try io.open(directory + "/" + fileName, flags: O_WRONLY | O_CREAT, mode: 0o644)
        defer { io.close(fd) }
        do {
            if offset == 0 { try io.ftruncate(fd, length: 0) }
            try io.pwrite(fd, block, offset: Int64(offset))
        } catch {
            try? io.ftruncate(fd, length: Int64(offset))
            throw error
        }
    }

    static func read(from directory: String, io: FileIO) -> IndexCheckpoint? {
        let path = directory + "/" + fileName
        guard let fd = try? io.open(path, flags: O_RDONLY, mode: 0) else { return nil }
        defer { io.close(fd) }
        guard let size = try? io.fileSize(fd), size > 0, size < Int64(Int32.max) * 8 else { return nil }
        var b = [UInt8](repeating: 0, count: Int(size))
        guard let n = try? io.pread(fd, into: &b, count: Int(size), offset: 0), n == Int(size) else { return nil }
        return decode(b)
    }

    static func remove(from directory: String, io: FileIO) {
        try? io.unlink(directory + "/" + fileName)
    }
}

/// Packs a record's segment number (high 24 bits) and byte offset (low 40 bits).
enum RecordLocation {
    static func pack(segment: Int, offset: Int64) -> UInt64 { UInt64(segment) << 40 | UInt64(offset) }
    static func segment(_ l: UInt64) -> Int { Int(l >> 40) }
    static func offset(_ l: UInt64) -> Int64 { Int64(l & 0xFF_FFFF_FFFF) }
}
