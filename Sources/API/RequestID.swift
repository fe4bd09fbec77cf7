import EventStore

/// Random identifiers in the canonical lowercase UUID (v4) form, for correlation ids and
/// server-generated entity ids. Formatting by hand: Foundation's `UUID().uuidString` cost
/// a measurable share of the command path.
enum RequestID {
    private static let hex = Array("0123456789abcdef".utf8)

    static func make() -> String {
        let rng = RandomWords.shared
        var high = rng.next(), low = rng.next()
        high = (high & ~0xF000) | 0x4000                            // version 4
        low = (low & ~(0xC000 << 48)) | (0x8000 << 48)              // RFC 4122 variant
        var out = [UInt8](repeating: UInt8(ascii: "-"), count: 36)
        var i = 0
        func put(_ value: UInt64, nibbles: Int) {
            for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                if i == 8 || i == 13 || i == 18 || i == 23 { i += 1 }
                out[i] = hex[Int((value >> UInt64(shift)) & 0xF)]
                i += 1
            }
        }
        put(high, nibbles: 16)
        put(low, nibbles: 16)
        return String(decoding: out, as: UTF8.self)
    }
}
