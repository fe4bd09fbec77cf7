import Foundation

/// One reading of a JSON text a client sent, before any decoder looks at it.
///
/// A request body must mean the same to Tributary as to any parser in front of it (a gateway,
/// a WAF, the client's own library). RFC 8259 leaves some texts open to two readings; this
/// check refuses them, so what passes is read alike by every conforming parser:
///
/// - the text is UTF-8 (RFC 8259 §8.1); a leading UTF-8 byte order mark is ignored (§8.1
///   allows that), any other encoding is refused;
/// - it is one JSON value by the RFC 8259 grammar, with no lone surrogate escape (`\ud800`):
///   such a string is not Unicode text (I-JSON, RFC 7493 §2.1);
/// - no object names a member twice (I-JSON §2.3; parsers differ on which one wins). Names
///   compare as Unicode text, so names that are canonically equivalent (`é` written precomposed
///   and decomposed) count as the same name;
/// - every member name is in Unicode Normalization Form C: a name such as `\u212Aind` (KELVIN
///   SIGN) is a different name to a parser that compares code points and the same as `Kind` to
///   one that compares Unicode text;
/// - nesting stays within `maxDepth`.
///
/// A text that breaks the grammar is malformed whatever else it holds; of several duplicate or
/// non-NFC names, the first in the text is reported.
public enum JSONText {
    /// Deeper documents are refused as malformed (Foundation's own limit is 512).
    public static let maxDepth = 512

    /// Why a text has no single reading.
    public enum Failure: Error, Equatable, Sendable {
        /// Not UTF-8; `offset` is the first byte that is not part of a valid UTF-8 sequence.
        case notUTF8(offset: Int)
        /// Not one JSON value by the grammar; `reason` says what was found at `offset`.
        case malformed(offset: Int, reason: String)
        /// An object names `path`'s last member twice; `path` is dotted (`lines[0].sku`).
        case duplicateMember(path: String)
        /// The member name at `path` is not in Unicode Normalization Form C.
        case unnormalizedMember(path: String)
    }

    /// A text with one reading.
    public struct Checked: Sendable {
        /// The text without its byte order mark, if it had one.
        public let text: ArraySlice<UInt8>
        /// The dotted path (`(body)` for the whole text) of the first number that is not an
        /// integer within Int64 (a fraction, an exponent, too many digits), if any: what to
        /// name when such a number does not fit the field it is in.
        public let firstNonInteger: String?
    }

    /// Checks `bytes`.
    public static func check(_ bytes: [UInt8]) throws(Failure) -> Checked {
        var text = bytes[...]
        if text.starts(with: [0xEF, 0xBB, 0xBF]) { text = text.dropFirst(3) }
        if let bad = firstInvalidUTF8(text) { throw .notUTF8(offset: bad) }
        var checker = Checker(bytes: bytes, i: text.startIndex)
        try checker.document()
        return Checked(text: text, firstNonInteger: checker.firstNonInteger)
    }

    /// The offset of the first byte not part of a well-formed UTF-8 sequence (RFC 3629: no
    /// overlong forms, no surrogates, nothing above U+10FFFF), or nil.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int, low: UInt8, high: UInt8   // the second byte's range
            switch b {
            case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
            case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
            case 0xED: (length, low, high) = (3, 0x80, 0x9F)
            case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
            case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
            default: return i
            }
            guard i + length <= end, (low...high).contains(bytes[i + 1]) else { return i }
            for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return i }
            i += length
        }
        return nil
    }

    /// A recursive-descent walk over text already known to be UTF-8.
    private struct Checker {
        let bytes: [UInt8]
        var i: Int
        var depth = 0
        /// The path of the value being read, one component per level.
        var path: [String] = []
        /// The first duplicate or non-NFC member name, reported once the whole text is known to
        /// be JSON (a text that is not JSON is malformed, whatever else it holds).
        var ambiguity: Failure?
        var firstNonInteger: String?

        mutating func document() throws(Failure) {
            skipWhitespace()
            try value()
            skipWhitespace()
            guard i == bytes.count else { throw fail("text after the JSON value") }
            if let ambiguity { throw ambiguity }
        }

        private func fail(_ reason: String) -> Failure { .malformed(offset: i, reason: reason) }

        private func dotted(_ components: [String]) -> String {
            var out = ""
            for c in components {
                if c.hasPrefix("[") { out += c } else { out += out.isEmpty ? c : "." + c }
            }
            return out
        }

        private mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        private mutating func value() throws(Failure) {
            guard i < bytes.count else { throw fail("the text ends where a value should be") }
            switch bytes[i] {
            case UInt8(ascii: "{"): try object()
            case UInt8(ascii: "["): try array()
            case UInt8(ascii: "\""): _ = try string(keepingContents: false)
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw fail("not a JSON value")
            }
        }

        private mutating func literal(_ word: StaticString) throws(Failure) {
            let n = word.utf8CodeUnitCount
            let matches = i + n <= bytes.count && word.withUTF8Buffer { w in bytes[i..<(i + n)].elementsEqual(w) }
            guard matches else { throw fail("not a JSON value") }
            i += n
        }

        private mutating func enter() throws(Failure) {
            depth += 1
            guard depth <= JSONText.maxDepth else { throw fail("nested deeper than \(JSONText.maxDepth) levels") }
            i += 1
            skipWhitespace()
        }

        private mutating func object() throws(Failure) {
            try enter()
            defer { depth -= 1 }
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
            var names = Set<String>()
            while true {
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("a member name must be a string") }
                let name = try string(keepingContents: true)!
                path.append(name)
                // Set<String> compares by canonical equivalence, as Swift's String does.
                if ambiguity == nil {
                    if !names.insert(name).inserted {
                        ambiguity = .duplicateMember(path: dotted(path))
                    } else if !name.utf8.allSatisfy({ $0 < 0x80 }),
                              !name.precomposedStringWithCanonicalMapping.utf8.elementsEqual(name.utf8) {
                        ambiguity = .unnormalizedMember(path: dotted(path))
                    }
                }
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("a member name must be followed by ':'") }
                i += 1
                skipWhitespace()
                try value()
                path.removeLast()
                skipWhitespace()
                guard i < bytes.count else { throw fail("the text ends inside an object") }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return }
                guard bytes[i] == UInt8(ascii: ",") else { throw fail("members must be separated by ','") }
                i += 1
                skipWhitespace()
            }
        }

        private mutating func array() throws(Failure) {
            try enter()
            defer { depth -= 1 }
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return }
            var index = 0
            while true {
                path.append("[\(index)]")
                try value()
                path.removeLast()
                index += 1
                skipWhitespace()
                guard i < bytes.count else { throw fail("the text ends inside an array") }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return }
                guard bytes[i] == UInt8(ascii: ",") else { throw fail("elements must be separated by ','") }
                i += 1
                skipWhitespace()
            }
        }

        /// At the opening quote. The contents (escapes decoded) when asked for, else nil.
        private mutating func string(keepingContents: Bool) throws(Failure) -> String? {
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else { throw fail("the text ends inside a string") }
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { i += 1; break }
                if b < 0x20 { throw fail("a control character must be escaped in a string") }
                if b != UInt8(ascii: "\\") {
                    if keepingContents { out.append(b) }
                    i += 1
                    continue
                }
                guard i + 1 < bytes.count else { throw fail("the text ends inside a string") }
                let e = bytes[i + 1]
                let simple: UInt8?
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): simple = e
                case UInt8(ascii: "b"): simple = 0x08
                case UInt8(ascii: "f"): simple = 0x0C
                case UInt8(ascii: "n"): simple = 0x0A
                case UInt8(ascii: "r"): simple = 0x0D
                case UInt8(ascii: "t"): simple = 0x09
                case UInt8(ascii: "u"): simple = nil
                default: throw fail("not a JSON escape")
                }
                if let simple {
                    if keepingContents { out.append(simple) }
                    i += 2
                    continue
                }
                let at = i
                guard let unit = hex4(at + 2) else { throw fail("\\u must be followed by four hex digits") }
                i += 6
                var scalar = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                          let low = hex4(i + 2), (0xDC00..<0xE000).contains(low) else {
                        i = at
                        throw fail("a high surrogate escape must be followed by a low one")
                    }
                    i += 6
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                } else if (0xDC00..<0xE000).contains(unit) {
                    i = at
                    throw fail("a low surrogate escape without a high one")
                }
                if keepingContents, let s = Unicode.Scalar(scalar) { out.append(contentsOf: UTF8.encode(s)!) }
            }
            // The bytes were valid UTF-8 and the escapes valid scalars.
            return keepingContents ? String(decoding: out, as: UTF8.self) : nil
        }

        private func hex4(_ at: Int) -> UInt16? {
            guard at + 4 <= bytes.count else { return nil }
            var v: UInt16 = 0
            for k in at..<(at + 4) {
                let c = bytes[k]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt16(d)
            }
            return v
        }

        private mutating func digits() -> Int {
            let start = i
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func number() throws(Failure) {
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            let start = i
            let n = digits()
            guard n > 0 else { throw fail("a number needs digits") }
            guard n == 1 || bytes[start] != UInt8(ascii: "0") else { i = start; throw fail("a number must not start with 0") }
            // Within Int64 (9223372036854775807, or -...808): 19 digits at most, compared as text.
            let limit = (negative ? "9223372036854775808" : "9223372036854775807").utf8
            var integer = n < 19 || (n == 19 && !limit.lexicographicallyPrecedes(bytes[start..<(start + n)]))
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                integer = false
                guard digits() > 0 else { throw fail("a fraction needs digits") }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                integer = false
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { throw fail("an exponent needs digits") }
            }
            if !integer, firstNonInteger == nil { firstNonInteger = path.isEmpty ? "(body)" : dotted(path) }
        }
    }
}
