import CCRC32C

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the CPU's instruction where there is
/// one (x86-64 SSE4.2, module CCRC32C), else table-driven slicing-by-8.
///
/// Used to frame log records and checked on every read, so a full replay's cost depends on it:
/// the instruction makes checksums a negligible share of a replay.
public enum CRC32C {
    /// Whether `checksum` uses the CPU's instruction.
    public static let usesHardware = tributary_crc32c_available() == 1

    /// 8 tables of 256 entries, flattened: table k at offset k*256.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 {
                let prev = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (prev >> 8) ^ t[Int(prev & 0xFF)]
            }
        }
        return t
    }()

    /// CRC-32C of `bytes[range]`, continuing from `crc` (pass a previous result to chain).
    public static func checksum(_ bytes: [UInt8], range: Range<Int>, continuing crc: UInt32 = 0) -> UInt32 {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "CRC32C range out of bounds")
        if usesHardware {
            return ~tributary_crc32c_update(~crc, bytes, range.lowerBound, range.count)
        }
        return tableChecksum(bytes, range: range, continuing: crc)
    }

    /// The table-driven computation (CPUs without the instruction; tests compare the two).
    static func tableChecksum(_ bytes: [UInt8], range: Range<Int>, continuing crc: UInt32 = 0) -> UInt32 {
        let t = tables
        var c = ~crc
        var i = range.lowerBound
        let end = range.upperBound
        while end - i >= 8 {
            let lo = c ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
            let b4 = Int(bytes[i + 4]), b5 = Int(bytes[i + 5]), b6 = Int(bytes[i + 6]), b7 = Int(bytes[i + 7])
            c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                ^ t[3 * 256 + b4] ^ t[2 * 256 + b5] ^ t[1 * 256 + b6] ^ t[b7]
            i += 8
        }
        while i < end {
            c = (c >> 8) ^ t[Int((c ^ UInt32(bytes[i])) & 0xFF)]
            i += 1
        }
        return ~c
    }

    /// CRC-32C of all of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { checksum(bytes, range: 0..<bytes.count) }
}
