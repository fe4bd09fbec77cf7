import Foundation
import Testing
import TributaryTesting
@testable import CQRS
@testable import JSON

/// The strict JSON coders give exactly Foundation's results (bytes when encoding, values when
/// decoding) or none, so `JSONCoding` can fall back to Foundation.
@Suite struct StrictJSONCodingTests {
    struct Line: Codable, Equatable { var sku: String; var quantity: Int; var unitPrice: Int64 }
    enum Status: String, Codable { case pending, approved }
    enum Change: Codable, Equatable { case added(Line), removed(sku: String), cleared }
    struct Sample: Codable, Equatable {
        var id: String
        var note: String?
        var flag: Bool
        var small: Int8
        var big: UInt64
        var min: Int64
        var lines: [Line]
        var tags: [String: Int]
        var status: Status
        var changes: [Change]
        var nested: [[Int?]]
        var maybe: Int?
    }

    static let awkward: String = {
        var s = ""
        for c in 0..<0x80 { s.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        return s + "\u{7F}\u{80}\u{A0}\u{2028}\u{2029}é😀\u{FEFF}/\\\""
    }()

    static let samples: [Sample] = [
        Sample(id: "o-1", note: nil, flag: true, small: -128, big: UInt64.max, min: Int64.min,
               lines: [Line(sku: "SKU-1", quantity: 2, unitPrice: 1250)], tags: ["b": 2, "a": 1, "A": 0, "a10": 3, "a9": 4, "_": 5],
               status: .approved, changes: [.added(Line(sku: "x", quantity: 1, unitPrice: 0)), .removed(sku: "y"), .cleared],
               nested: [[1, nil], [], [Int.max]], maybe: 0),
        Sample(id: awkward, note: awkward, flag: false, small: 127, big: 0, min: Int64.max, lines: [], tags: [:],
               status: .pending, changes: [], nested: [], maybe: nil),
    ]

    static func foundationBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    @Test func encoderWritesFoundationsBytes() throws {
        for sample in StrictJSONCodingTests.samples {
            let fast = try #require(SortedJSONEncoder.encode(sample))
            #expect(fast == (try StrictJSONCodingTests.foundationBytes(sample)))
        }
        #expect(SortedJSONEncoder.encode(["k": "v"]) == Array(#"{"k":"v"}"#.utf8))
        #expect(SortedJSONEncoder.encode(Line(sku: "a", quantity: 1, unitPrice: 2)) == Array(#"{"quantity":1,"sku":"a","unitPrice":2}"#.utf8))
    }

    @Test func encoderLeavesUnknownShapesToFoundation() throws {
        struct Measured: Codable { var amount: Double }
        struct Stamped: Codable { var at: Date }
        struct Blob: Codable { var bytes: Data }
        #expect(SortedJSONEncoder.encode(Measured(amount: 1.5)) == nil)
        #expect(SortedJSONEncoder.encode(Stamped(at: Date(timeIntervalSince1970: 0))) == nil)
        #expect(SortedJSONEncoder.encode(Blob(bytes: Data([1, 2]))) == nil)
        #expect(SortedJSONEncoder.encode(["é": 1]) == nil)
        // JSONCoding still encodes them, with Foundation.
        #expect(try JSONCoding.encode(Measured(amount: 1.5)) == StrictJSONCodingTests.foundationBytes(Measured(amount: 1.5)))
    }

    @Test func decoderReadsWhatFoundationReads() throws {
        for var sample in StrictJSONCodingTests.samples {
            // Integers beyond Int64 are left to Foundation.
            #expect(StrictJSONDecoder.decode(Sample.self, from: try StrictJSONCodingTests.foundationBytes(sample)) == nil || sample.big <= UInt64(Int64.max))
            sample.big = UInt64(Int64.max)
            let bytes = try StrictJSONCodingTests.foundationBytes(sample)
            #expect(StrictJSONDecoder.decode(Sample.self, from: bytes) == sample)
        }
        // Whitespace Foundation itself never writes.
        var sample = StrictJSONCodingTests.samples[0]
        sample.big = 7
        let spaced = Array(String(decoding: try StrictJSONCodingTests.foundationBytes(sample), as: UTF8.self)
            .replacingOccurrences(of: ",", with: " ,\n\t").replacingOccurrences(of: ":", with: "\r: ").utf8)
        #expect(StrictJSONDecoder.decode(Sample.self, from: spaced) == sample)
        #expect(StrictJSONDecoder.decode(String.self, from: Array(#""a\/\u00e9\ud83d\ude00\n""#.utf8)) == "a/é😀\n")
        #expect(StrictJSONDecoder.decode([Int].self, from: Array("[0,-1,9223372036854775807,-9223372036854775808]".utf8))
                == [0, -1, Int.max, Int.min])
    }

    @Test func decoderLeavesEverythingElseToFoundation() throws {
        struct Amount: Codable { var value: Int }
        struct Flexible: Decodable {
            var value: String
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                // A swallowed failure must still send the document to Foundation.
                if let i = try? c.decode(Int.self) { value = "int \(i)" } else { value = try c.decode(String.self) }
            }
        }
        let leftToFoundation = [
            #"{"value":1.0}"#, #"{"value":1e2}"#, #"{"value":-0}"#, #"{"value":01}"#, #"{"value":9223372036854775808}"#,
            #"{"value":1,"value":2}"#, #"{"value":"1"}"#, #"{"value":null}"#, #"{}"#, #"{"value":1} x"#, #"{"value":1"#,
            #"{"value":"\ud800"}"#, "[1]", "",
            // Keys with escapes or beyond ASCII are valid JSON the strict decoder leaves alone.
            #"{"valu\u0065":1}"#, #"{"value":1,"é":2}"#,
        ]
        for text in leftToFoundation {
            #expect(StrictJSONDecoder.decode(Amount.self, from: Array(text.utf8)) == nil, "\(text)")
        }
        #expect(StrictJSONDecoder.decode(Flexible.self, from: Array(#""x""#.utf8)) == nil)
        #expect(StrictJSONDecoder.decode(Double.self, from: Array("1".utf8)) == nil)
        // JSONCoding gives Foundation's answer for them.
        #expect(try JSONCoding.decode(Amount.self, from: Array(#"{"value":1.0}"#.utf8)).value == 1)
        #expect(try JSONCoding.decode(Amount.self, from: Array(#"{"value":1,"value":2}"#.utf8)).value == 1)
        #expect(try JSONCoding.decode(Amount.self, from: Array(#"{"valu\u0065":1}"#.utf8)).value == 1)
        #expect(try JSONCoding.decode(Flexible.self, from: Array(#""x""#.utf8)).value == "x")
        #expect(throws: DecodingError.self) { try JSONCoding.decode(Amount.self, from: Array(#"{"value":"1"}"#.utf8)) }
    }

    /// Review findings: a body with very many keys, a coding key beyond ASCII, a top-level
    /// type Foundation decodes with its own strategy.
    @Test func leavesHugeObjectsOddKeysAndSpecialTopLevelTypesToFoundation() throws {
        func object(_ n: Int) -> [UInt8] { Array(("{" + (0..<n).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}").utf8) }
        #expect(StrictJSONDecoder.decode([String: Int].self, from: object(64))?.count == 64)
        #expect(StrictJSONDecoder.decode([String: Int].self, from: object(65)) == nil, "beyond 64 members: Foundation's")
        #expect(try JSONCoding.decode([String: Int].self, from: object(20_000)).count == 20_000)

        struct Kelvin: Codable, Equatable {
            var k: Int?
            enum CodingKeys: String, CodingKey { case k = "\u{212A}" }
        }
        let kelvin = Array(#"{"K":1}"#.utf8)
        #expect(StrictJSONDecoder.decode(Kelvin.self, from: kelvin) == nil)
        #expect(try JSONCoding.decode(Kelvin.self, from: kelvin) == (try JSONDecoder().decode(Kelvin.self, from: Data(kelvin))))

        #expect(StrictJSONDecoder.decode(Data.self, from: Array("[1,2]".utf8)) == nil)
        #expect(StrictJSONDecoder.decode(URL.self, from: Array(#"{"relative":"http://x/"}"#.utf8)) == nil)
    }

    /// Random byte edits of valid documents: whatever the strict decoder returns, Foundation
    /// decodes the same bytes to the same value (it may give up, never disagree).
    @Test func mutatedDocumentsDecodeAsFoundationDoesOrNotAtAll() throws {
        var sample = StrictJSONCodingTests.samples[0]
        sample.big = 7
        let report = JSONReaderCheck.check(decode: { StrictJSONDecoder.decode(Sample.self, from: $0) },
                                           samples: [sample, StrictJSONCodingTests.samples[1]],
                                           edits: 4_000, seed: 0x5EED, editsPerDocument: 3)
        #expect(report.problems.isEmpty, "\(report.problems.prefix(3))")
        // Some edits keep the document decodable (whitespace, digits, string contents).
        #expect(report.editsAccepted > 100)
    }
}
