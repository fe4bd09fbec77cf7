import EventStore

/// Name-based event ids: the same name always gives the same id, so re-appending after a crash
/// or a retry is deduplicated by the store's idempotent append.
///
/// Like a UUID v5, but hashed with SHA-256 (the EventStore module's, public) and stamped as
/// version 8 ("custom") with the RFC 4122 variant, so it never collides with random v4 ids.
public enum DeterministicID {
    /// The id for `parts` joined unambiguously (each part length-prefixed).
    public static func make(_ parts: String...) -> EventID { make(parts) }

    public static func make(_ parts: [String]) -> EventID {
        var bytes: [UInt8] = Array("tributary/v1".utf8)
        for p in parts {
            let u = Array(p.utf8)
            let n = UInt32(truncatingIfNeeded: u.count)
            bytes += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            bytes += u
        }
        var d = SHA256.hash(bytes)
        d[6] = (d[6] & 0x0F) | 0x80   // version 8
        d[8] = (d[8] & 0x3F) | 0x80   // RFC 4122 variant
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(d[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(d[i]) }
        return EventID(high: high, low: low)
    }
}

/// Request fingerprints for idempotency: the app hashes what identifies a request (method,
/// path, body bytes) so "same key, different body" can be detected.
public enum RequestFingerprint {
    /// Lowercase hex SHA-256 of the parts, each length-prefixed.
    public static func of(_ parts: [UInt8]...) -> String {
        var bytes: [UInt8] = []
        for p in parts {
            let n = UInt32(truncatingIfNeeded: p.count)
            bytes += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            bytes += p
        }
        return SHA256.hash(bytes).hexString
    }
}

/// Fast random-looking (version 4) event ids without a system call per id.
///
/// `EventID()` asks the kernel for 16 random bytes every time (a `getrandom` call, measurable
/// on the command path). This generator draws 128 random bits once, then mixes a counter
/// through SplitMix64: ids are unique within the generator (the mix is a bijection of the
/// counter) and unpredictable across restarts. Loop-confined (not thread-safe).
public final class EventIDGenerator {
    private let seedHigh: UInt64
    private var counter: UInt64

    public init() {
        let g = RandomWords.shared
        seedHigh = g.next()
        counter = g.next()
    }

    /// A fresh id (RFC 4122 version 4 layout).
    public func next() -> EventID {
        counter &+= 1
        let low = EventIDGenerator.mix(counter)
        let high = EventIDGenerator.mix(seedHigh ^ low) // decorrelate the halves
        return EventID(high: (high & ~0xF000) | 0x4000, low: (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
    }

    /// SplitMix64 finalizer: a bijection on UInt64.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
