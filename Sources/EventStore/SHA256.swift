import CSHA256

/// SHA-256 (FIPS 180-4), streaming. Used for the log's tamper-evident hash chain and for
/// snapshot file names. A value type: `reset()` and reuse it to avoid allocations.
///
/// Blocks go through the CPU's SHA instructions when it has them (the small C module
/// `CSHA256`; every log record is hashed, so it shows in the server's profile under a
/// command load), else through the portable Swift rounds below; tests check the two agree.
public struct SHA256 {
    /// Whether this CPU runs SHA-256 in hardware.
    public static let usesHardware = tributary_sha256_available() == 1

    static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static let initialState: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    /// h0…h7, in one buffer the C function updates in place: no per-block allocation.
    private var h = SHA256.initialState
    private let hardware: Bool
    /// Bytes of an incomplete block.
    private var pending = [UInt8](repeating: 0, count: 64)
    private var pendingCount = 0
    private var totalBytes: UInt64 = 0

    public init() { hardware = SHA256.usesHardware }

    /// `hardware: false` forces the portable rounds (tests compare the two).
    init(hardware: Bool) { self.hardware = hardware && SHA256.usesHardware }

    /// Starts a new message, keeping the buffers.
    public mutating func reset() {
        for i in 0..<8 { h[i] = SHA256.initialState[i] }
        pendingCount = 0
        totalBytes = 0
    }

    /// Hashes `bytes[range]`.
    public mutating func update(_ bytes: [UInt8], range: Range<Int>) {
        totalBytes &+= UInt64(range.count)
        var i = range.lowerBound
        let end = range.upperBound
        if pendingCount > 0 {
            while pendingCount < 64 && i < end { pending[pendingCount] = bytes[i]; pendingCount += 1; i += 1 }
            if pendingCount < 64 { return }
            compress(pending, at: 0, blocks: 1)
            pendingCount = 0
        }
        let blocks = (end - i) / 64
        if blocks > 0 {
            compress(bytes, at: i, blocks: blocks)
            i += blocks * 64
        }
        while i < end { pending[pendingCount] = bytes[i]; pendingCount += 1; i += 1 }
    }

    public mutating func update(_ bytes: [UInt8]) { update(bytes, range: 0..<bytes.count) }

    /// Finishes the message and returns the 32-byte digest. Call `reset()` before reusing.
    public mutating func finalize() -> [UInt8] {
        // The padding goes straight into the pending block: no temporary arrays.
        let bitLength = totalBytes &* 8
        pending[pendingCount] = 0x80
        pendingCount += 1
        if pendingCount > 56 {
            for i in pendingCount..<64 { pending[i] = 0 }
            compress(pending, at: 0, blocks: 1)
            pendingCount = 0
        }
        for i in pendingCount..<56 { pending[i] = 0 }
        for i in 0..<8 { pending[56 + i] = UInt8(truncatingIfNeeded: bitLength >> UInt64(56 - 8 * i)) }
        compress(pending, at: 0, blocks: 1)
        pendingCount = 0
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in h {
            out.append(UInt8(truncatingIfNeeded: word >> 24)); out.append(UInt8(truncatingIfNeeded: word >> 16))
            out.append(UInt8(truncatingIfNeeded: word >> 8)); out.append(UInt8(truncatingIfNeeded: word))
        }
        return out
    }

    /// One-shot digest.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var s = SHA256()
        s.update(bytes)
        return s.finalize()
    }

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    /// Compresses `blocks` 64-byte blocks of `bytes` from `start`.
    private mutating func compress(_ bytes: [UInt8], at start: Int, blocks: Int) {
        precondition(start >= 0 && start + blocks * 64 <= bytes.count)
        if hardware {
            tributary_sha256_blocks(&h, bytes, start, blocks)
        } else {
            for b in 0..<blocks { compressPortably(bytes, at: start + b * 64) }
        }
    }

    // Fully unrolled (generated): the schedule lives in 16 local words, so the optimizer keeps
    // everything in registers with no bounds checks in the rounds.
    private mutating func compressPortably(_ block: [UInt8], at start: Int) {
        precondition(start >= 0 && start + 64 <= block.count)
        let k = SHA256.k
        precondition(k.count == 64)
        var w0 = UInt32(block[start + 0]) << 24 | UInt32(block[start + 0 + 1]) << 16 | UInt32(block[start + 0 + 2]) << 8 | UInt32(block[start + 0 + 3])
        var w1 = UInt32(block[start + 4]) << 24 | UInt32(block[start + 4 + 1]) << 16 | UInt32(block[start + 4 + 2]) << 8 | UInt32(block[start + 4 + 3])
        var w2 = UInt32(block[start + 8]) << 24 | UInt32(block[start + 8 + 1]) << 16 | UInt32(block[start + 8 + 2]) << 8 | UInt32(block[start + 8 + 3])
        var w3 = UInt32(block[start + 12]) << 24 | UInt32(block[start + 12 + 1]) << 16 | UInt32(block[start + 12 + 2]) << 8 | UInt32(block[start + 12 + 3])
        var w4 = UInt32(block[start + 16]) << 24 | UInt32(block[start + 16 + 1]) << 16 | UInt32(block[start + 16 + 2]) << 8 | UInt32(block[start + 16 + 3])
        var w5 = UInt32(block[start + 20]) << 24 | UInt32(block[start + 20 + 1]) << 16 | UInt32(block[start + 20 + 2]) << 8 | UInt32(block[start + 20 + 3])
        var w6 = UInt32(block[start + 24]) << 24 | UInt32(block[start + 24 + 1]) << 16 | UInt32(block[start + 24 + 2]) << 8 | UInt32(block[start + 24 + 3])
        var w7 = UInt32(block[start + 28]) << 24 | UInt32(block[start + 28 + 1]) << 16 | UInt32(block[start + 28 + 2]) << 8 | UInt32(block[start + 28 + 3])
        var w8 = UInt32(block[start + 32]) << 24 | UInt32(block[start + 32 + 1]) << 16 | UInt32(block[start + 32 + 2]) << 8 | UInt32(block[start + 32 + 3])
        var w9 = UInt32(block[start + 36]) << 24 | UInt32(block[start + 36 + 1]) << 16 | UInt32(block[start + 36 + 2]) << 8 | UInt32(block[start + 36 + 3])
        var w10 = UInt32(block[start + 40]) << 24 | UInt32(block[start + 40 + 1]) << 16 | UInt32(block[start + 40 + 2]) << 8 | UInt32(block[start + 40 + 3])
        var w11 = UInt32(block[start + 44]) << 24 | UInt32(block[start + 44 + 1]) << 16 | UInt32(block[start + 44 + 2]) << 8 | UInt32(block[start + 44 + 3])
        var w12 = UInt32(block[start + 48]) << 24 | UInt32(block[start + 48 + 1]) << 16 | UInt32(block[start + 48 + 2]) << 8 | UInt32(block[start + 48 + 3])
        var w13 = UInt32(block[start + 52]) << 24 | UInt32(block[start + 52 + 1]) << 16 | UInt32(block[start + 52 + 2]) << 8 | UInt32(block[start + 52 + 3])
        var w14 = UInt32(block[start + 56]) << 24 | UInt32(block[start + 56 + 1]) << 16 | UInt32(block[start + 56 + 2]) << 8 | UInt32(block[start + 56 + 3])
        var w15 = UInt32(block[start + 60]) << 24 | UInt32(block[start + 60 + 1]) << 16 | UInt32(block[start + 60 + 2]) << 8 | UInt32(block[start + 60 + 3])
        var a = self.h[0], b = self.h[1], c = self.h[2], d = self.h[3], e = self.h[4], f = self.h[5], g = self.h[6], h = self.h[7]
        @inline(__always) func round(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32, _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ kw: UInt32) {
            let t1 = h &+ (SHA256.rotr(e, 6) ^ SHA256.rotr(e, 11) ^ SHA256.rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ kw
            let t2 = (SHA256.rotr(a, 2) ^ SHA256.rotr(a, 13) ^ SHA256.rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            d = d &+ t1
            h = t1 &+ t2
        }
        @inline(__always) func expand(_ w: inout UInt32, _ w15: UInt32, _ w7: UInt32, _ w2: UInt32) {
            w = w &+ (SHA256.rotr(w15, 7) ^ SHA256.rotr(w15, 18) ^ (w15 >> 3)) &+ w7 &+ (SHA256.rotr(w2, 17) ^ SHA256.rotr(w2, 19) ^ (w2 >> 10))
        }
        round(a, b, c, &d, e, f, g, &h, k[0] &+ w0)
        round(h, a, b, &c, d, e, f, &g, k[1] &+ w1)
        round(g, h, a, &b, c, d, e, &f, k[2] &+ w2)
        round(f, g, h, &a, b, c, d, &e, k[3] &+ w3)
        round(e, f, g, &h, a, b, c, &d, k[4] &+ w4)
        round(d, e, f, &g, h, a, b, &c, k[5] &+ w5)
        round(c, d, e, &f, g, h, a, &b, k[6] &+ w6)
        round(b, c, d, &e, f, g, h, &a, k[7] &+ w7)
        round(a, b, c, &d, e, f, g, &h, k[8] &+ w8)
        round(h, a, b, &c, d, e, f, &g, k[9] &+ w9)
        round(g, h, a, &b, c, d, e, &f, k[10] &+ w10)
        round(f, g, h, &a, b, c, d, &e, k[11] &+ w11)
        round(e, f, g, &h, a, b, c, &d, k[12] &+ w12)
        round(d, e, f, &g, h, a, b, &c, k[13] &+ w13)
        round(c, d, e, &f, g, h, a, &b, k[14] &+ w14)
        round(b, c, d, &e, f, g, h, &a, k[15] &+ w15)
        expand(&w0, w1, w9, w14)
        round(a, b, c, &d, e, f, g, &h, k[16] &+ w0)
        expand(&w1, w2, w10, w15)
        round(h, a, b, &c, d, e, f, &g, k[17] &+ w1)
        expand(&w2, w3, w11, w0)
        round(g, h, a, &b, c, d, e, &f, k[18] &+ w2)
        expand(&w3, w4, w12, w1)
        round(f, g, h, &a, b, c, d, &e, k[19] &+ w3)
        expand(&w4, w5, w13, w2)
        round(e, f, g, &h, a, b, c, &d, k[20] &+ w4)
        expand(&w5, w6, w14, w3)
        round(d, e, f, &g, h, a, b, &c, k[21] &+ w5)
        expand(&w6, w7, w15, w4)
        round(c, d, e, &f, g, h, a, &b, k[22] &+ w6)
        expand(&w7, w8, w0, w5)
        round(b, c, d, &e, f, g, h, &a, k[23] &+ w7)
        expand(&w8, w9, w1, w6)
        round(a, b, c, &d, e, f, g, &h, k[24] &+ w8)
        expand(&w9, w10, w2, w7)
        round(h, a, b, &c, d, e, f, &g, k[25] &+ w9)
        expand(&w10, w11, w3, w8)
        round(g, h, a, &b, c, d, e, &f, k[26] &+ w10)
        expand(&w11, w12, w4, w9)
        round(f, g, h, &a, b, c, d, &e, k[27] &+ w11)
        expand(&w12, w13, w5, w10)
        round(e, f, g, &h, a, b, c, &d, k[28] &+ w12)
        expand(&w13, w14, w6, w11)
        round(d, e, f, &g, h, a, b, &c, k[29] &+ w13)
        expand(&w14, w15, w7, w12)
        round(c, d, e, &f, g, h, a, &b, k[30] &+ w14)
        expand(&w15, w0, w8, w13)
        round(b, c, d, &e, f, g, h, &a, k[31] &+ w15)
        expand(&w0, w1, w9, w14)
        round(a, b, c, &d, e, f, g, &h, k[32] &+ w0)
        expand(&w1, w2, w10, w15)
        round(h, a, b, &c, d, e, f, &g, k[33] &+ w1)
        expand(&w2, w3, w11, w0)
        round(g, h, a, &b, c, d, e, &f, k[34] &+ w2)
        expand(&w3, w4, w12, w1)
        round(f, g, h, &a, b, c, d, &e, k[35] &+ w3)
        expand(&w4, w5, w13, w2)
        round(e, f, g, &h, a, b, c, &d, k[36] &+ w4)
        expand(&w5, w6, w14, w3)
        round(d, e, f, &g, h, a, b, &c, k[37] &+ w5)
        expand(&w6, w7, w15, w4)
        round(c, d, e, &f, g, h, a, &b, k[38] &+ w6)
        expand(&w7, w8, w0, w5)
        round(b, c, d, &e, f, g, h, &a, k[39] &+ w7)
        expand(&w8, w9, w1, w6)
        round(a, b, c, &d, e, f, g, &h, k[40] &+ w8)
        expand(&w9, w10, w2, w7)
        round(h, a, b, &c, d, e, f, &g, k[41] &+ w9)
        expand(&w10, w11, w3, w8)
        round(g, h, a, &b, c, d, e, &f, k[42] &+ w10)
        expand(&w11, w12, w4, w9)
        round(f, g, h, &a, b, c, d, &e, k[43] &+ w11)
        expand(&w12, w13, w5, w10)
        round(e, f, g, &h, a, b, c, &d, k[44] &+ w12)
        expand(&w13, w14, w6, w11)
        round(d, e, f, &g, h, a, b, &c, k[45] &+ w13)
        expand(&w14, w15, w7, w12)
        round(c, d, e, &f, g, h, a, &b, k[46] &+ w14)
        expand(&w15, w0, w8, w13)
        round(b, c, d, &e, f, g, h, &a, k[47] &+ w15)
        expand(&w0, w1, w9, w14)
        round(a, b, c, &d, e, f, g, &h, k[48] &+ w0)
        expand(&w1, w2, w10, w15)
        round(h, a, b, &c, d, e, f, &g, k[49] &+ w1)
        expand(&w2, w3, w11, w0)
        round(g, h, a, &b, c, d, e, &f, k[50] &+ w2)
        expand(&w3, w4, w12, w1)
        round(f, g, h, &a, b, c, d, &e, k[51] &+ w3)
        expand(&w4, w5, w13, w2)
        round(e, f, g, &h, a, b, c, &d, k[52] &+ w4)
        expand(&w5, w6, w14, w3)
        round(d, e, f, &g, h, a, b, &c, k[53] &+ w5)
        expand(&w6, w7, w15, w4)
        round(c, d, e, &f, g, h, a, &b, k[54] &+ w6)
        expand(&w7, w8, w0, w5)
        round(b, c, d, &e, f, g, h, &a, k[55] &+ w7)
        expand(&w8, w9, w1, w6)
        round(a, b, c, &d, e, f, g, &h, k[56] &+ w8)
        expand(&w9, w10, w2, w7)
        round(h, a, b, &c, d, e, f, &g, k[57] &+ w9)
        expand(&w10, w11, w3, w8)
        round(g, h, a, &b, c, d, e, &f, k[58] &+ w10)
        expand(&w11, w12, w4, w9)
        round(f, g, h, &a, b, c, d, &e, k[59] &+ w11)
        expand(&w12, w13, w5, w10)
        round(e, f, g, &h, a, b, c, &d, k[60] &+ w12)
        expand(&w13, w14, w6, w11)
        round(d, e, f, &g, h, a, b, &c, k[61] &+ w13)
        expand(&w14, w15, w7, w12)
        round(c, d, e, &f, g, h, a, &b, k[62] &+ w14)
        expand(&w15, w0, w8, w13)
        round(b, c, d, &e, f, g, h, &a, k[63] &+ w15)
        self.h[0] &+= a; self.h[1] &+= b; self.h[2] &+= c; self.h[3] &+= d
        self.h[4] &+= e; self.h[5] &+= f; self.h[6] &+= g; self.h[7] &+= h
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hexadecimal form (digests in file names, ids, token hashes, fingerprints).
    public var hexString: String {
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self { out.append(hexDigits[Int(b >> 4)]); out.append(hexDigits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)
