import Testing
import TributaryTesting
@testable import EventStore

@Suite struct ChecksumTests {
    @Test func crc32cOfStandardCheckString() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func crc32cSlicedMatchesBytewiseOnAllLengthsAndOffsets() {
        let data = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for lo in 0..<9 {
            for hi in lo...data.count {
                var c: UInt32 = 0xFFFF_FFFF
                for b in data[lo..<hi] {
                    c ^= UInt32(b)
                    for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
                }
                #expect(CRC32C.checksum(data, range: lo..<hi) == ~c)
                #expect(CRC32C.tableChecksum(data, range: lo..<hi) == ~c)
            }
        }
    }

    /// The CPU instruction (where `checksum` uses it) and the tables agree on random records,
    /// including chained calls.
    @Test func crc32cHardwareMatchesTablesOnRandomInput() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let data = (0..<Int.random(in: 0...2048, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let lo = Int.random(in: 0...data.count, using: &rng), hi = Int.random(in: lo...data.count, using: &rng)
            let seed = UInt32.random(in: 0...UInt32.max, using: &rng)
            #expect(CRC32C.checksum(data, range: lo..<hi, continuing: seed) == CRC32C.tableChecksum(data, range: lo..<hi, continuing: seed))
        }
        #expect(CRC32C.checksum([], range: 0..<0) == 0)
    }

    #if arch(x86_64)
    @Test func crc32cUsesTheInstructionOnThisCPU() {
        #expect(CRC32C.usesHardware, "every x86-64 CPU since 2008 has SSE4.2")
    }
    #endif

    @Test func crc32cChainsAcrossCalls() {
        let data = Array("hello, tributary".utf8)
        let split = CRC32C.checksum(data, range: 5..<data.count, continuing: CRC32C.checksum(data, range: 0..<5))
        #expect(split == CRC32C.checksum(data))
    }

    @Test func sha256NISTVectors() {
        #expect(SHA256.hash(Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash([]).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hexString
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func sha256OfAMillionAs() {
        var h = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { h.update(chunk) }
        #expect(h.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The CPU's SHA instructions and the portable rounds give the same digests, for every
    /// length around block and padding boundaries and for random data fed in random pieces.
    @Test func sha256HardwareAndPortableAgree() {
        func digest(_ data: [UInt8], hardware: Bool, cuts: [Int]) -> [UInt8] {
            var h = SHA256(hardware: hardware)
            var at = 0
            for cut in cuts + [data.count] where cut >= at && cut <= data.count {
                h.update(data, range: at..<cut)
                at = cut
            }
            return h.finalize()
        }
        var state: UInt64 = 0x5A5A
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for length in Array(0...200) + [255, 256, 257, 511, 512, 1000, 4096, 4097, 65_537] {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: next(256)) }
            let cuts = (0..<next(4)).map { _ in next(length + 1) }.sorted()
            let portable = digest(data, hardware: false, cuts: [])
            #expect(digest(data, hardware: true, cuts: cuts) == portable, "length \(length)")
            #expect(digest(data, hardware: false, cuts: cuts) == portable, "length \(length)")
        }
        // The NIST vector through the portable rounds too (the one-shot uses hardware when present).
        var h = SHA256(hardware: false)
        h.update(Array("abc".utf8))
        #expect(h.finalize().hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func sha256StreamingEqualsOneShotAcrossBlockBoundaries() {
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        for split in [0, 1, 55, 56, 63, 64, 65, 128, 299, 300] {
            var h = SHA256()
            h.update(data, range: 0..<split)
            h.update(data, range: split..<data.count)
            #expect(h.finalize() == SHA256.hash(data))
        }
    }
}

@Suite struct EventIDTests {
    @Test func randomIDsAreVersion4AndRoundTripThroughUUID() {
        var seen = Set<EventID>()
        for _ in 0..<1000 {
            let id = EventID()
            #expect(seen.insert(id).inserted)
            let text = id.uuid.uuidString
            #expect(Array(text)[14] == "4")
            #expect("89AB".contains(Array(text)[19]))
            #expect(EventID(uuidString: text) == id)
            #expect(EventID(id.uuid) == id)
        }
        #expect(EventID(uuidString: "not a uuid") == nil)
    }
}
