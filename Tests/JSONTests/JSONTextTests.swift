import Foundation
import Testing
import TributaryTesting
@testable import JSON

/// `JSONText.check`: one reading of a client's JSON text (UTF-8, the RFC 8259 grammar, no
/// duplicate or non-NFC member names), and `JSONBody` refusing what it refuses.
@Suite struct JSONTextTests {
    private func check(_ text: String) -> JSONText.Failure? { check(Array(text.utf8)) }
    private func check(_ bytes: [UInt8]) -> JSONText.Failure? {
        do { _ = try JSONText.check(bytes); return nil } catch { return error }
    }
    private func isMalformed(_ f: JSONText.Failure?) -> Bool {
        if case .malformed = f { return true }
        return false
    }

    @Test func plainDocumentsPass() {
        for text in ["{}", "[]", "0", "-0", "1.5e-3", "\"x\"", "true", "null", " {\"a\" : [1, {\"b\": null}] } ",
                     "{\"a\":1,\"A\":2}", "{\"a\":{\"a\":{\"a\":1}}}", "[{\"a\":1},{\"a\":2}]", "\"\\ud83d\\ude00\"",
                     "{\"\u{e9}\":1}", "{\"caf\\u00e9\":1, \"cafe\":2}"] {
            #expect(check(text) == nil, "\(text)")
        }
    }

    @Test func aUTF8ByteOrderMarkIsDropped() throws {
        let checked = try JSONText.check([0xEF, 0xBB, 0xBF] + Array("{\"a\":1}".utf8))
        #expect(Array(checked.text) == Array("{\"a\":1}".utf8))
    }

    @Test func duplicateMembersAreNamedByTheirPath() {
        #expect(check("{\"customerId\":\"n4\",\"customerId\":\"n5\"}") == .duplicateMember(path: "customerId"))
        #expect(check("{\"a\":{\"b\":1,\"c\":2,\"b\":3}}") == .duplicateMember(path: "a.b"))
        #expect(check("{\"lines\":[{\"sku\":\"A\"},{\"sku\":\"B\",\"sku\":\"C\"}]}") == .duplicateMember(path: "lines[1].sku"))
        // The same name written with an escape, and canonically equivalent names.
        #expect(check("{\"sku\":1,\"\\u0073ku\":2}") == .duplicateMember(path: "sku"))
        #expect(check("{\"\\u00e9\":1,\"e\\u0301\":2}") == .duplicateMember(path: "\u{e9}"))
        // Past the strict decoder's 64-member limit too.
        let many = (0..<200).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(check("{\(many)}") == nil)
        #expect(check("{\(many),\"k7\":0}") == .duplicateMember(path: "k7"))
    }

    @Test func memberNamesMustBeNFC() {
        // KELVIN SIGN: canonically equivalent to "K", a different name byte for byte.
        #expect(check("{\"\\u212Aind\":1}") == .unnormalizedMember(path: "\u{212A}ind"))
        #expect(check("{\"a\":[{\"e\u{301}\":1}]}") == .unnormalizedMember(path: "a[0].e\u{301}"))
        // Values are data, not names: any Unicode text.
        #expect(check("{\"name\":\"\\u212A e\u{301}\"}") == nil)
    }

    @Test func otherEncodingsAreNotUTF8() {
        let utf16 = Array("{\"a\":1}".data(using: .utf16)!)   // with a byte order mark
        #expect(check(utf16) == .notUTF8(offset: 0))
        #expect(check(Array("{\"a\":1}".data(using: .utf16LittleEndian)!)) != nil)
        #expect(check([0x22, 0xC0, 0xAF, 0x22]) == .notUTF8(offset: 1))         // overlong "/"
        #expect(check([0x22, 0xED, 0xA0, 0x80, 0x22]) == .notUTF8(offset: 1))   // an encoded surrogate
        #expect(check([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]) == .notUTF8(offset: 1))   // above U+10FFFF
        #expect(check([0x22, 0xE2, 0x84]) == .notUTF8(offset: 1))               // cut short
        #expect(check([0x22, 0xFF, 0x22]) == .notUTF8(offset: 1))
        #expect(check([0x22, 0xE2, 0x84, 0xAA, 0x22]) == nil)
    }

    @Test func theGrammarIsRFC8259() {
        for text in ["", " ", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "01", "1.", ".5", "1e", "+1", "NaN",
                     "Infinity", "tru", "nul", "{a:1}", "'a'", "\"\\x\"", "\"a\u{1}\"", "\"\\ud800\"", "\"\\udc00\"",
                     "\"\\ud800\\u0041\"", "\"\\u12\"", "{} {}", "[] x", "{\"a\":1}\u{0}", "\u{0}{}"] {
            #expect(isMalformed(check(text)), "\(text.debugDescription)")
        }
    }

    @Test func theFirstNumberThatIsNotAnIntegerIsNamed() throws {
        func first(_ text: String) throws -> String? { try JSONText.check(Array(text.utf8)).firstNonInteger }
        #expect(try first("{\"a\":1,\"b\":[2,-9223372036854775808,9223372036854775807]}") == nil)
        #expect(try first("{\"a\":1,\"b\":[2,9223372036854775808]}") == "b[1]")
        #expect(try first("{\"a\":{\"c\":-9223372036854775809}}") == "a.c")
        #expect(try first("{\"lines\":[{\"q\":1.0}],\"x\":1e400}") == "lines[0].q")
        #expect(try first("1e5") == "(body)")
        #expect(try first("12345678901234567890") == "(body)")
    }

    struct Limit: Decodable { var creditLimit: Int64 }

    @Test func aNumberFoundationCannotRepresentIsAFieldError() {
        #expect(throws: JSONBodyError.invalidField(field: "creditLimit", message: "must be an integer within range")) {
            try JSONBody.decode(Limit.self, from: Array("{\"creditLimit\":1e5808}".utf8))
        }
        #expect(throws: JSONBodyError.invalidField(field: "creditLimit", message: "must be an integer within range")) {
            try JSONBody.decode(Limit.self, from: Array("{\"creditLimit\":10.5}".utf8))
        }
    }

    @Test func nestingIsBounded() {
        let ok = String(repeating: "[", count: JSONText.maxDepth) + String(repeating: "]", count: JSONText.maxDepth)
        #expect(check(ok) == nil)
        let deep = "[" + ok + "]"
        #expect(isMalformed(check(deep)))
    }

    struct Register: Decodable, Equatable { var customerId: String?; var name: String }

    @Test func bodiesOpenToTwoReadingsAreRefused() {
        func error(_ bytes: [UInt8]) -> JSONBodyError? {
            do { _ = try JSONBody.decode(Register.self, from: bytes); return nil } catch { return error as? JSONBodyError }
        }
        #expect(error(Array("{\"customerId\":\"n4\",\"customerId\":\"n5\",\"name\":\"A\"}".utf8))
                == .ambiguousMember(member: "customerId", unnormalized: false))
        #expect(error(Array("{\"\\u212Aey\":1,\"name\":\"A\"}".utf8)) == .ambiguousMember(member: "\u{212A}ey", unnormalized: true))
        #expect(error(Array("{\"name\":\"A\"}".data(using: .utf16)!)) == .notUTF8(offset: 0))
        if case .malformed(let reason)? = error(Array("{\"name\":\"A\",}".utf8)) {
            #expect(reason?.contains("byte 12") == true)
        } else {
            Issue.record("a trailing comma is malformed")
        }
        // A byte order mark is allowed; the body then decodes as without it.
        #expect((try? JSONBody.decode(Register.self, from: [0xEF, 0xBB, 0xBF] + Array("{\"name\":\"A\"}".utf8))) == Register(customerId: nil, name: "A"))
        // Past the strict decoder (an escaped key) still one reading.
        #expect((try? JSONBody.decode(Register.self, from: Array("{\"n\\u0061me\":\"A\"}".utf8))) == Register(customerId: nil, name: "A"))
    }

    // MARK: - Properties

    typealias Generator = SplitMix64

    /// A random JSON value as text; `duplicate` makes one object (the first one written at
    /// depth 0 or 1) repeat a member name, written with a different escape.
    static func text(_ g: inout Generator, depth: Int = 0, duplicate: inout Bool, names: inout [String]) -> String {
        let pick = depth > 3 ? g.below(4) : g.below(6)
        switch pick {
        case 0: return ["0", "-1", "12.5", "1e3", "-0.25E-2", "9223372036854775808"][g.below(6)]
        case 1: return ["true", "false", "null"][g.below(3)]
        case 2, 3: return stringLiteral(g.below(3) == 0 ? "\u{e9}\u{212A}\u{1F600}" : "s\(g.below(100))", &g)
        case 4:
            let n = g.below(4)
            return "[" + (0..<n).map { _ in text(&g, depth: depth + 1, duplicate: &duplicate, names: &names) }.joined(separator: ",") + "]"
        default:
            var members: [String] = []
            var keys: [String] = []
            for _ in 0..<g.below(5) {
                let key = "k\(g.below(50))"
                guard !keys.contains(key) else { continue }
                keys.append(key)
                members.append(stringLiteral(key, &g) + ":" + text(&g, depth: depth + 1, duplicate: &duplicate, names: &names))
            }
            if duplicate, let key = keys.first {
                duplicate = false
                names.append(key)
                members.append(stringLiteral(key, &g) + ":1")
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    /// `s` as a JSON string, each scalar written plainly or as `\u` escapes at random.
    static func stringLiteral(_ s: String, _ g: inout Generator) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            if g.below(3) == 0 {
                for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test func generatedDocumentsPassAndInjectedDuplicatesAreFound() {
        var g = Generator(state: 20261206)
        for round in 0..<3000 {
            var duplicate = round % 2 == 1
            var names: [String] = []
            let text = Self.text(&g, duplicate: &duplicate, names: &names)
            let failure = check(text)
            if names.isEmpty {
                #expect(failure == nil, "round \(round): \(text)")
                #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil)
            } else if case .duplicateMember(let path)? = failure {
                #expect(path.hasSuffix(names[0]), "round \(round): \(path) in \(text)")
            } else {
                Issue.record("round \(round): expected a duplicate \(names[0]) in \(text), got \(String(describing: failure))")
            }
        }
    }

    /// Byte mutations of valid texts: whatever passes the check, Foundation parses too (the
    /// check accepts no text outside JSON), unless it holds a number Foundation cannot
    /// represent.
    @Test func mutatedDocumentsNeverPassWhatFoundationRefuses() {
        var g = Generator(state: 7)
        let alphabet: [UInt8] = Array("{}[]\",:\\u0e.-+ tfn1".utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xA9, 0xED, 0xEF, 0xBB, 0xBF, 0xFE, 0xFF]
        for round in 0..<5000 {
            var none = false, names: [String] = []
            var bytes = Array(Self.text(&g, duplicate: &none, names: &names).utf8)
            for _ in 0...g.below(3) {
                let at = g.below(bytes.count + 1)
                switch g.below(3) {
                case 0 where at < bytes.count: bytes.remove(at: at)
                case 1 where at < bytes.count: bytes[at] = alphabet[g.below(alphabet.count)]
                default: bytes.insert(alphabet[g.below(alphabet.count)], at: at)
                }
            }
            guard let checked = try? JSONText.check(bytes) else { continue }
            let parsed = try? JSONSerialization.jsonObject(with: Data(checked.text), options: [.fragmentsAllowed])
            // Foundation refuses valid JSON only for a number it cannot represent (1e5808).
            #expect(parsed != nil || checked.firstNonInteger != nil, "round \(round): \(bytes)")
        }
    }
}
