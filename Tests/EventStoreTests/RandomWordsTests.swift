import Foundation
import Testing
@testable import EventStore

@Suite("Random ids: a userspace ChaCha20 generator keyed by the OS")
struct RandomWordsTests {
    @Test("the block function gives RFC 8439's test vector (section 2.3.2)")
    func chachaTestVector() {
        // Bytes 00 01 … 1f, as little-endian words.
        let key: [UInt32] = [0x0302_0100, 0x0706_0504, 0x0B0A_0908, 0x0F0E_0D0C,
                             0x1312_1110, 0x1716_1514, 0x1B1A_1918, 0x1F1E_1D1C]
        var out = [UInt32](repeating: 0, count: 16)
        ChaCha20.block(key: key, counter: 1, nonce: [0x0900_0000, 0x4A00_0000, 0], into: &out)
        #expect(out == [0xE4E7_F110, 0x1559_3BD1, 0x1FDD_0F50, 0xC471_20A3,
                        0xC7F4_D1C7, 0x0368_C033, 0x9AAA_2204, 0x4E6C_D4C3,
                        0x4664_82D2, 0x09AA_9F07, 0x05D7_C214, 0xA202_8BD9,
                        0xD19C_12B5, 0xB94E_16DE, 0xE883_D0CB, 0x4E3C_50A2])
    }

    @Test("words do not repeat and every bit takes both values; two generators differ")
    func wordsLookRandom() {
        let a = RandomWords(), b = RandomWords()
        let words = (0..<20_000).map { _ in a.next() }
        #expect(Set(words).count == words.count)
        #expect(words.reduce(0, |) == UInt64.max)
        #expect(words.reduce(UInt64.max, &) == 0)
        let ones = words.reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(abs(Double(ones) / Double(words.count * 64) - 0.5) < 0.01)
        #expect((0..<8).map { _ in b.next() } != Array(words.prefix(8)))
    }

    @Test("event ids keep the version 4 layout")
    func eventIDs() {
        for _ in 0..<1000 {
            let id = EventID()
            #expect(id.high & 0xF000 == 0x4000)
            #expect(id.low >> 62 == 0b10)
        }
    }
}
