import Foundation

/// The on-disk record of the file engine (all integers little-endian):
///
/// ```
/// frame   u32 length        whole record, frame included
///         u32 lengthCheck   CRC-32C of the 4 length bytes (a corrupt length is never trusted)
///         u32 crc           CRC-32C of the body (everything below, hash included)
/// body    u8  format (1)    u8 flags (bit0 correlationId, bit1 causationId)   u16 reserved (0)
///         u64 position      i64 streamVersion   i64 timestamp (µs since 1970)
///         u64 idHigh        u64 idLow           u32 schemaVersion
///         u16 streamLength  u16 typeLength      u32 metadataLength   u32 dataLength
///         stream bytes, type bytes (UTF-8), metadata, data (as given)
///         32  hash = SHA-256(previous record's hash ‖ body before the hash); 32 zero bytes
///             precede the first record
/// metadata: [u32 len + correlationId] [u32 len + causationId] u32 count, then per property
///           (sorted by key) u32 len + key, u32 len + value
/// ```
enum RecordFormat {
    static let frameSize = 12
    static let fixedHeaderSize = 60
    static let hashSize = 32
    static let minRecordSize = frameSize + fixedHeaderSize + hashSize
    static let maxRecordSize = 64 << 20
    static let formatVersion: UInt8 = 1
    static let zeroHash = [UInt8](repeating: 0, count: 32)

    @inline(__always) static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
    @inline(__always) static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
    @inline(__always) static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(u32(b, i)) | UInt64(u32(b, i + 4)) << 32 }

    @inline(__always) static func put16(_ b: inout [UInt8], _ v: UInt16) {
        b.append(UInt8(truncatingIfNeeded: v)); b.append(UInt8(truncatingIfNeeded: v >> 8))
    }
    @inline(__always) static func put32(_ b: inout [UInt8], _ v: UInt32) {
        b.append(UInt8(truncatingIfNeeded: v)); b.append(UInt8(truncatingIfNeeded: v >> 8))
        b.append(UInt8(truncatingIfNeeded: v >> 16)); b.append(UInt8(truncatingIfNeeded: v >> 24))
    }
    @inline(__always) static func put64(_ b: inout [UInt8], _ v: UInt64) {
        put32(&b, UInt32(truncatingIfNeeded: v)); put32(&b, UInt32(truncatingIfNeeded: v >> 32))
    }
    @inline(__always) static func set32(_ b: inout [UInt8], _ i: Int, _ v: UInt32) {
        b[i] = UInt8(truncatingIfNeeded: v); b[i + 1] = UInt8(truncatingIfNeeded: v >> 8)
        b[i + 2] = UInt8(truncatingIfNeeded: v >> 16); b[i + 3] = UInt8(truncatingIfNeeded: v >> 24)
    }

    /// CRC-32C of a length field, stored next to it.
    static func lengthCheck(_ length: UInt32) -> UInt32 {
        let bytes: [UInt8] = [UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8),
                              UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 24)]
        return CRC32C.checksum(bytes)
    }

    /// Appends one encoded record to `buffer`; returns its hash (the next record's chain input).
    static func encode(into buffer: inout [UInt8], hasher: inout SHA256, prevHash: [UInt8], position: UInt64,
                       stream: StreamName, streamVersion: Int64, timestampMicros: Int64, event e: NewEvent) -> [UInt8] {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: frameSize))
        let bodyStart = buffer.count
        var flags: UInt8 = 0
        if e.metadata.correlationId != nil { flags |= 1 }
        if e.metadata.causationId != nil { flags |= 2 }
        buffer.append(formatVersion); buffer.append(flags); put16(&buffer, 0)
        put64(&buffer, position)
        put64(&buffer, UInt64(bitPattern: streamVersion))
        put64(&buffer, UInt64(bitPattern: timestampMicros))
        put64(&buffer, e.id.high); put64(&buffer, e.id.low)
        put32(&buffer, UInt32(truncatingIfNeeded: e.schemaVersion))
        put16(&buffer, UInt16(stream.value.utf8.count))
        put16(&buffer, UInt16(e.type.utf8.count))
        let metadataLengthAt = buffer.count
        put32(&buffer, 0)
        put32(&buffer, UInt32(e.data.count))
        buffer.append(contentsOf: stream.value.utf8)
        buffer.append(contentsOf: e.type.utf8)
        let metadataStart = buffer.count
        if let c = e.metadata.correlationId { put32(&buffer, UInt32(c.utf8.count)); buffer.append(contentsOf: c.utf8) }
        if let c = e.metadata.causationId { put32(&buffer, UInt32(c.utf8.count)); buffer.append(contentsOf: c.utf8) }
        put32(&buffer, UInt32(e.metadata.properties.count))
        if !e.metadata.properties.isEmpty {
            for key in e.metadata.properties.keys.sorted() {
                let value = e.metadata.properties[key]!
                put32(&buffer, UInt32(key.utf8.count)); buffer.append(contentsOf: key.utf8)
                put32(&buffer, UInt32(value.utf8.count)); buffer.append(contentsOf: value.utf8)
            }
        }
        set32(&buffer, metadataLengthAt, UInt32(buffer.count - metadataStart))
        buffer.append(contentsOf: e.data)
        hasher.reset()
        hasher.update(prevHash)
        hasher.update(buffer, range: bodyStart..<buffer.count)
        let hash = hasher.finalize()
        buffer.append(contentsOf: hash)
        let length = UInt32(buffer.count - start)
        set32(&buffer, start, length)
        set32(&buffer, start + 4, lengthCheck(length))
        set32(&buffer, start + 8, CRC32C.checksum(buffer, range: bodyStart..<buffer.count))
        return hash
    }

    /// Bytes an event will take on disk (for sizing and limits).
    static func encodedSize(stream: StreamName, event e: NewEvent) -> Int {
        var n = minRecordSize + stream.value.utf8.count + e.type.utf8.count + e.data.count + 4
        if let c = e.metadata.correlationId { n += 4 + c.utf8.count }
        if let c = e.metadata.causationId { n += 4 + c.utf8.count }
        for (k, v) in e.metadata.properties { n += 8 + k.utf8.count + v.utf8.count }
        return n
    }
}

/// The fixed fields and variable-part ranges of a record, located inside a buffer.
struct RecordHeader {
    var start: Int
    var length: Int
    var flags: UInt8
    var position: UInt64
    var streamVersion: Int64
    var timestampMicros: Int64
    var id: EventID
    var schemaVersion: UInt32
    var streamRange: Range<Int>
    var typeRange: Range<Int>
    var metadataRange: Range<Int>
    var dataRange: Range<Int>
    var hashRange: Range<Int>
    var bodyRange: Range<Int> { (start + RecordFormat.frameSize)..<(start + length) }
}

/// Result of looking at the bytes where a record should start.
enum FrameStatus {
    /// Fewer than 12 bytes, or a length whose check fails.
    case badFrame(reason: String)
    /// Frame is sound: the record is `length` bytes.
    case length(Int)
}

extension RecordFormat {
    /// Reads and checks the frame at `i` (12 bytes must be available).
    static func frame(_ b: [UInt8], at i: Int) -> FrameStatus {
        let length = u32(b, i)
        if lengthCheck(length) != u32(b, i + 4) { return .badFrame(reason: "length field fails its check") }
        let n = Int(length)
        if n < minRecordSize || n > maxRecordSize { return .badFrame(reason: "record length \(n) out of range") }
        return .length(n)
    }

    /// Verifies the CRC and parses the body of a complete record at `i` of `length` bytes.
    /// Returns nil with a reason if the CRC fails or the fields are inconsistent.
    static func parse(_ b: [UInt8], at i: Int, length: Int, checkCRC: Bool = true) -> (RecordHeader?, String) {
        let bodyStart = i + frameSize
        let end = i + length
        if checkCRC && CRC32C.checksum(b, range: bodyStart..<end) != u32(b, i + 8) { return (nil, "CRC mismatch") }
        let p = bodyStart
        guard b[p] == formatVersion else { return (nil, "unknown record format \(b[p])") }
        let streamLen = Int(u16(b, p + 48)), typeLen = Int(u16(b, p + 50))
        let metaLen = Int(u32(b, p + 52)), dataLen = Int(u32(b, p + 56))
        let varStart = p + fixedHeaderSize
        guard varStart + streamLen + typeLen + metaLen + dataLen + hashSize == end else { return (nil, "field lengths do not add up") }
        let streamRange = varStart..<(varStart + streamLen)
        let typeRange = streamRange.upperBound..<(streamRange.upperBound + typeLen)
        let metaRange = typeRange.upperBound..<(typeRange.upperBound + metaLen)
        let dataRange = metaRange.upperBound..<(metaRange.upperBound + dataLen)
        let header = RecordHeader(start: i, length: length, flags: b[p + 1], position: u64(b, p + 4),
                                  streamVersion: Int64(bitPattern: u64(b, p + 12)),
                                  timestampMicros: Int64(bitPattern: u64(b, p + 20)),
                                  id: EventID(high: u64(b, p + 28), low: u64(b, p + 36)),
                                  schemaVersion: u32(b, p + 44), streamRange: streamRange, typeRange: typeRange,
                                  metadataRange: metaRange, dataRange: dataRange, hashRange: dataRange.upperBound..<end)
        return (header, "")
    }

    static func string(_ b: [UInt8], _ r: Range<Int>) -> String { String(decoding: b[r], as: UTF8.self) }

    /// Chain hash of a parsed record given the previous hash.
    static func chainHash(_ b: [UInt8], _ h: RecordHeader, prevHash: [UInt8], hasher: inout SHA256) -> [UInt8] {
        hasher.reset()
        hasher.update(prevHash)
        hasher.update(b, range: h.bodyRange.lowerBound..<h.hashRange.lowerBound)
        return hasher.finalize()
    }

    static func storedHashMatches(_ b: [UInt8], _ h: RecordHeader, _ hash: [UInt8]) -> Bool {
        var j = h.hashRange.lowerBound
        for x in hash { if b[j] != x { return false }; j += 1 }
        return true
    }

    /// A record's metadata section, copied out of the read buffer, with the record's flags.
    struct EncodedMetadata: Sendable {
        var bytes: [UInt8]
        var flags: UInt8
    }

    static func decodeMetadata(_ e: EncodedMetadata) -> EventMetadata {
        let b = e.bytes
        var m = EventMetadata()
        var i = 0
        func next() -> String {
            let n = Int(u32(b, i)); i += 4
            let s = string(b, i..<(i + n)); i += n
            return s
        }
        if e.flags & 1 != 0 { m.correlationId = next() }
        if e.flags & 2 != 0 { m.causationId = next() }
        let count = Int(u32(b, i)); i += 4
        m.properties.reserveCapacity(count)
        for _ in 0..<count { let k = next(); m.properties[k] = next() }
        return m
    }

    /// Materializes a parsed record (its metadata is decoded when first read).
    static func event(_ b: [UInt8], _ h: RecordHeader, stream: StreamName? = nil) -> RecordedEvent {
        // A 4-byte section holds only a property count of 0: no metadata to keep.
        let metadata = h.metadataRange.count == 4 ? nil : EncodedMetadata(bytes: Array(b[h.metadataRange]), flags: h.flags)
        return RecordedEvent(id: h.id, stream: stream ?? StreamName(string(b, h.streamRange)),
                             streamVersion: StreamVersion(h.streamVersion), position: LogPosition(h.position),
                             type: string(b, h.typeRange), schemaVersion: Int(h.schemaVersion), data: Array(b[h.dataRange]),
                             encodedMetadata: metadata, timestamp: Date(timeIntervalSince1970: Double(h.timestampMicros) / 1_000_000))
    }
}

/// An event's metadata as bytes, for engines that store it as one value (PostgreSQL's
/// `metadata bytea`): a flags byte (1: correlation id, 2: causation id) then the record
/// format's metadata section (length-prefixed strings, properties sorted by key).
public enum MetadataCoding {
    public static func encode(_ m: EventMetadata) -> [UInt8] {
        var out: [UInt8] = [(m.correlationId != nil ? 1 : 0) | (m.causationId != nil ? 2 : 0)]
        func put(_ s: String) { RecordFormat.put32(&out, UInt32(s.utf8.count)); out.append(contentsOf: s.utf8) }
        if let c = m.correlationId { put(c) }
        if let c = m.causationId { put(c) }
        RecordFormat.put32(&out, UInt32(m.properties.count))
        for key in m.properties.keys.sorted() { put(key); put(m.properties[key]!) }
        return out
    }

    /// Decodes what `encode` wrote; nil when the bytes are not such an encoding.
    public static func decode(_ b: [UInt8]) -> EventMetadata? {
        guard let flags = b.first, flags & ~3 == 0 else { return nil }
        var i = 1
        func u32() -> Int? {
            guard i + 4 <= b.count else { return nil }
            defer { i += 4 }
            return Int(RecordFormat.u32(b, i))
        }
        func next() -> String? {
            guard let n = u32(), i + n <= b.count else { return nil }
            defer { i += n }
            return RecordFormat.string(b, i..<(i + n))
        }
        var m = EventMetadata()
        if flags & 1 != 0 { guard let c = next() else { return nil }; m.correlationId = c }
        if flags & 2 != 0 { guard let c = next() else { return nil }; m.causationId = c }
        guard let count = u32(), count <= b.count else { return nil }
        for _ in 0..<count {
            guard let k = next(), let v = next() else { return nil }
            m.properties[k] = v
        }
        return i == b.count ? m : nil
    }
}
