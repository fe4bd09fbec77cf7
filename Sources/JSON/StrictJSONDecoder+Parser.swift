import Foundation

/// The strict decoder's parser: RFC 8259 text onto a flat tape of tokens (see `StrictJSONDecoder`).
extension StrictJSONDecoder {
    /// RFC 8259 parser into a tape; false for anything it does not accept (including valid JSON
    /// it leaves to Foundation, such as duplicate keys or nesting deeper than `maxDepth`).
    struct Parser {
        let bytes: [UInt8]
        var i = 0
        var depth = 0
        var tokens: [Token] = []
        static let maxDepth = 256
        /// Objects with more members go to Foundation: the duplicate check and the key lookups
        /// here are linear per key (quadratic per object), fine for the small objects the server
        /// writes and reads, not for a hostile body of tens of thousands of keys.
        static let maxMembers: Int64 = 64

        init(bytes: [UInt8]) {
            self.bytes = bytes
            tokens.reserveCapacity(bytes.count / 8 + 4)
        }

        mutating func parseDocument() -> Bool {
            skipWhitespace()
            guard parseValue() else { return false }
            skipWhitespace()
            return i == bytes.count
        }

        private mutating func skipWhitespace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        /// Appends a leaf token (its `next` is the following index).
        private mutating func leaf(_ token: Token) -> Bool {
            var t = token
            t.next = tokens.count + 1
            tokens.append(t)
            return true
        }

        private mutating func literal(_ word: StaticString, _ kind: Token.Kind, _ payload: Int64) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            var k = 0
            var matches = true
            word.withUTF8Buffer { w in
                while k < n { if bytes[i + k] != w[k] { matches = false; break }; k += 1 }
            }
            guard matches else { return false }
            i += n
            return leaf(Token(kind: kind, payload: payload))
        }

        private mutating func parseValue() -> Bool {
            guard i < bytes.count else { return false }
            switch bytes[i] {
            case UInt8(ascii: "{"): return parseContainer(.object)
            case UInt8(ascii: "["): return parseContainer(.array)
            case UInt8(ascii: "\""):
                guard let t = parseString() else { return false }
                return leaf(t)
            case UInt8(ascii: "t"): return literal("true", .bool, 1)
            case UInt8(ascii: "f"): return literal("false", .bool, 0)
            case UInt8(ascii: "n"): return literal("null", .null, 0)
            default: return parseNumber()
            }
        }

        /// An object or an array (at its opening bracket): the container token, then each
        /// member's key token and value tokens, or each element's tokens.
        private mutating func parseContainer(_ kind: Token.Kind) -> Bool {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Parser.maxDepth else { return false }
            let isObject = kind == .object
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            let at = tokens.count
            tokens.append(Token(kind: kind))
            var count: Int64 = 0
            skipWhitespace()
            if i < bytes.count && bytes[i] == close {
                i += 1
                tokens[at].next = tokens.count
                return true
            }
            while true {
                skipWhitespace()
                if isObject { guard parseKey(ofObjectAt: at, members: count) else { return false } }
                guard parseValue() else { return false }
                count += 1
                if isObject { guard count <= Parser.maxMembers else { return false } }
                skipWhitespace()
                guard i < bytes.count else { return false }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == close {
                    i += 1
                    tokens[at].payload = count
                    tokens[at].next = tokens.count
                    return true
                }
                return false
            }
        }

        /// A member's key and the colon after it (the value follows).
        private mutating func parseKey(ofObjectAt object: Int, members: Int64) -> Bool {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let key = parseString(),
                  !key.escaped, isASCII(key) else { return false }
            // Foundation keeps the first of duplicate keys; leave such documents to it.
            guard !hasKey(key, inObjectAt: object, members: members) else { return false }
            _ = leaf(key)
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return false }
            i += 1
            skipWhitespace()
            return true
        }

        private func isASCII(_ t: Token) -> Bool {
            for j in t.start..<t.end where bytes[j] >= 0x80 { return false }
            return true
        }

        private func hasKey(_ key: Token, inObjectAt object: Int, members: Int64) -> Bool {
            var k = object + 1
            for _ in 0..<members {
                let other = tokens[k]
                if other.end - other.start == key.end - key.start
                    && bytes[other.start..<other.end].elementsEqual(bytes[key.start..<key.end]) { return true }
                k = tokens[k + 1].next
            }
            return false
        }

        /// At the opening quote; nil for control characters, bad escapes, lone surrogates and
        /// invalid UTF-8.
        private mutating func parseString() -> Token? {
            i += 1
            let start = i
            var escaped = false
            var ascii = true
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { break }
                if b < 0x20 { return nil }
                if b >= 0x80 { ascii = false }
                if b == UInt8(ascii: "\\") {
                    escaped = true
                    i += 2   // the escaped character is never the closing quote
                } else {
                    i += 1
                }
            }
            guard i < bytes.count else { return nil }
            let end = i
            i += 1
            if escaped {
                guard StrictJSONDecoder.unescape(bytes, start, end) != nil else { return nil }
            } else if !ascii {
                guard String(validating: bytes[start..<end], as: UTF8.self) != nil else { return nil }
            }
            return Token(kind: .string, escaped: escaped, start: start, end: end)
        }

        /// A JSON number; only `-?(0|[1-9][0-9]*)` within Int64 becomes `.int`.
        private mutating func parseNumber() -> Bool {
            var negative = false
            if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            let digitsStart = i
            var magnitude: UInt64 = 0
            var overflow = false
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(bytes[i] - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = s
                i += 1
            }
            let digits = i - digitsStart
            guard digits > 0 else { return false }
            if digits > 1 && bytes[digitsStart] == UInt8(ascii: "0") { return false }
            var plain = true
            if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
                plain = false
                i += 1
                let f = i
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                guard i > f else { return false }
            }
            if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
                plain = false
                i += 1
                if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
                let e = i
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                guard i > e else { return false }
            }
            let other = Token(kind: .otherNumber)
            guard plain, !overflow, !(negative && magnitude == 0) else { return leaf(other) }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return leaf(other) }
                return leaf(Token(kind: .int, payload: magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)))
            }
            guard magnitude <= UInt64(Int64.max) else { return leaf(other) }
            return leaf(Token(kind: .int, payload: Int64(magnitude)))
        }
    }

    /// The contents of a string with escapes, `bytes[start..<end]` (between the quotes); nil
    /// for control characters, bad escapes, lone surrogates and invalid UTF-8.
    static func unescape(_ bytes: [UInt8], _ start: Int, _ end: Int) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        func hex4() -> UInt16? {
            guard i + 4 <= end else { return nil }
            var v: UInt16 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt16(d)
                i += 1
            }
            return v
        }
        while i < end {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\") else {
                guard b >= 0x20 else { return nil }
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < end else { return nil }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return nil }
                var scalar = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit) {
                    guard i + 1 < end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
                    i += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                } else if (0xDC00..<0xE000).contains(unit) {
                    return nil
                }
                guard let s = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: UTF8.encode(s)!)
            default: return nil
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
