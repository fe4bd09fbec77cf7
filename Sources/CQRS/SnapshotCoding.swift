/// A compact binary encoding for read-model snapshots, written field by field.
///
/// JSON through `Codable` decoded a large read model far too slowly for a restart; these bytes
/// decode in a small fraction of that time, and restart time is what snapshots are for. Layout: integers are 8 bytes
/// little-endian, lengths and counts 4 bytes, strings UTF-8 with their length in front. There is
/// no self-description: a projection that changes what it writes must bump its
/// `snapshotSchemaVersion` (old snapshots are then ignored and the model is rebuilt).
public struct SnapshotWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// The `SnapshotEncoding` that writes with `body` into a writer of `capacity` bytes and
    /// returns its bytes (the counterpart of `SnapshotReader.readAll`).
    public static func encoding(capacity: Int, _ body: @escaping (inout SnapshotWriter) -> Void) -> SnapshotEncoding {
        {
            var writer = SnapshotWriter(capacity: capacity)
            body(&writer)
            return writer.bytes
        }
    }

    public mutating func write(_ v: UInt64) {
        var v = v
        for _ in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v)); v >>= 8 }
    }
    public mutating func write(_ v: Int64) { write(UInt64(bitPattern: v)) }
    public mutating func write(_ v: Int) { write(Int64(v)) }
    public mutating func write(_ v: Bool) { bytes.append(v ? 1 : 0) }

    /// A length or count (at most 2^32 - 1).
    public mutating func writeCount(_ n: Int) {
        precondition(n >= 0 && n <= Int(UInt32.max), "snapshot count out of range")
        var v = UInt32(n)
        for _ in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v)); v >>= 8 }
    }
    public mutating func write(_ s: String) {
        let utf8 = s.utf8
        writeCount(utf8.count)
        bytes.append(contentsOf: utf8)
    }
    public mutating func write(_ s: String?) {
        write(s != nil)
        if let s { write(s) }
    }
}

/// Reads what a `SnapshotWriter` wrote; every read throws `SnapshotDecodingError` past the end.
public struct SnapshotReader {
    private let bytes: [UInt8]
    private var index: Int

    public init(_ bytes: [UInt8]) { self.bytes = bytes; index = 0 }

    /// True once every byte has been read (check it at the end: trailing bytes mean a mismatch).
    public var isAtEnd: Bool { index == bytes.count }

    /// Reads a whole snapshot with `body`; bytes left over are a mismatch and throw.
    public static func readAll<T>(_ bytes: [UInt8], _ body: (inout SnapshotReader) throws -> T) throws -> T {
        var reader = SnapshotReader(bytes)
        let value = try body(&reader)
        guard reader.isAtEnd else { throw SnapshotDecodingError(offset: bytes.count) }
        return value
    }

    private mutating func take(_ n: Int) throws -> Int {
        guard n >= 0, bytes.count - index >= n else { throw SnapshotDecodingError(offset: index) }
        defer { index += n }
        return index
    }

    public mutating func readUInt64() throws -> UInt64 {
        let at = try take(8)
        var v: UInt64 = 0
        for i in (0..<8).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }
    public mutating func readInt64() throws -> Int64 { Int64(bitPattern: try readUInt64()) }
    public mutating func readInt() throws -> Int {
        let v = try readInt64()
        guard let i = Int(exactly: v) else { throw SnapshotDecodingError(offset: index) }
        return i
    }
    public mutating func readBool() throws -> Bool {
        let at = try take(1)
        switch bytes[at] {
        case 0: return false
        case 1: return true
        default: throw SnapshotDecodingError(offset: at)
        }
    }
    public mutating func readCount() throws -> Int {
        let at = try take(4)
        return Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
    }
    public mutating func readString() throws -> String {
        let n = try readCount()
        let at = try take(n)
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }
    public mutating func readOptionalString() throws -> String? {
        try readBool() ? try readString() : nil
    }
}

/// A snapshot's bytes ended early or held an impossible value.
public struct SnapshotDecodingError: Error, CustomStringConvertible {
    public var offset: Int
    public init(offset: Int) { self.offset = offset }
    public var description: String { "snapshot state is malformed at byte \(offset)" }
}
