import Foundation

/// Random 64-bit words from a userspace generator seeded by the operating system: ChaCha20
/// (RFC 8439's block function) keyed with 256 bits from `SystemRandomNumberGenerator` and
/// re-keyed from it every 2^20 blocks. `SystemRandomNumberGenerator` makes a system call for
/// every `next()` — twice per command for its ids; this makes one per 64 MiB of output. The
/// stream is unpredictable without the key, as ids must be. Thread-safe.
public final class RandomWords: RandomNumberGenerator, @unchecked Sendable {
    /// The process-wide pool every id generator draws from.
    public static let shared = RandomWords()

    /// `shared` as a value, for `random(in:using:)`: `var g = RandomWords.Generator()`.
    public struct Generator: RandomNumberGenerator {
        public init() {}
        public mutating func next() -> UInt64 { RandomWords.shared.next() }
    }

    private static let blocksPerKey: UInt32 = 1 << 20
    private let lock = NSLock()
    private var key = [UInt32](repeating: 0, count: 8)
    private var nonce = [UInt32](repeating: 0, count: 3)
    private var counter: UInt32 = 0
    private var block = [UInt32](repeating: 0, count: 16)
    private var used = 16

    public init() { rekey() }

    public func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        if used + 2 > 16 {
            if counter == Self.blocksPerKey { rekey() }
            ChaCha20.block(key: key, counter: counter, nonce: nonce, into: &block)
            counter += 1
            used = 0
        }
        let word = UInt64(block[used]) << 32 | UInt64(block[used + 1])
        used += 2
        return word
    }

    /// A fresh key and nonce from the operating system.
    private func rekey() {
        var os = SystemRandomNumberGenerator()
        for i in 0..<4 {
            let w = os.next() as UInt64
            key[2 * i] = UInt32(truncatingIfNeeded: w)
            key[2 * i + 1] = UInt32(truncatingIfNeeded: w >> 32)
        }
        let n = os.next() as UInt64
        nonce = [UInt32(truncatingIfNeeded: n), UInt32(truncatingIfNeeded: n >> 32), UInt32(truncatingIfNeeded: os.next() as UInt64)]
        counter = 0
    }
}

/// The ChaCha20 block function (RFC 8439, section 2.3): 16 words of key stream for a key,
/// block counter and nonce.
enum ChaCha20 {
    static let constants: [UInt32] = [0x6170_7865, 0x3320_646E, 0x7962_2D32, 0x6B20_6574]   // "expand 32-byte k"

    static func block(key: [UInt32], counter: UInt32, nonce: [UInt32], into out: inout [UInt32]) {
        var s = constants + key + [counter] + nonce
        let initial = s
        @inline(__always) func quarter(_ a: Int, _ b: Int, _ c: Int, _ d: Int) {
            s[a] &+= s[b]; s[d] ^= s[a]; s[d] = s[d] << 16 | s[d] >> 16
            s[c] &+= s[d]; s[b] ^= s[c]; s[b] = s[b] << 12 | s[b] >> 20
            s[a] &+= s[b]; s[d] ^= s[a]; s[d] = s[d] << 8 | s[d] >> 24
            s[c] &+= s[d]; s[b] ^= s[c]; s[b] = s[b] << 7 | s[b] >> 25
        }
        for _ in 0..<10 {
            quarter(0, 4, 8, 12); quarter(1, 5, 9, 13); quarter(2, 6, 10, 14); quarter(3, 7, 11, 15)
            quarter(0, 5, 10, 15); quarter(1, 6, 11, 12); quarter(2, 7, 8, 13); quarter(3, 4, 9, 14)
        }
        for i in 0..<16 { out[i] = s[i] &+ initial[i] }
    }
}
