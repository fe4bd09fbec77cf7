import Foundation

/// A fast path for decoding the JSON the server itself writes (events, public payloads, command
/// bodies) without Foundation's `JSONDecoder`, which dominated the CPU cost of a command.
///
/// **Same results as Foundation or no result.** It understands only the plain shapes: objects
/// without duplicate keys (keys in plain ASCII, without escapes), arrays, strings,
/// `true`/`false`/`null` and integers written as `-?(0|[1-9][0-9]*)` that fit the requested type,
/// decoded as `String`, `Bool` and the integer types. Anything else — a fraction or exponent,
/// `-0`, a `Double`, `Date`, `Data`, a missing key, a type mismatch, a super decoder, invalid
/// UTF-8, a lone surrogate — makes it give up, and so does any error a type's own `init(from:)`
/// throws. Giving up is recorded in a flag as well as thrown, so a `try?` inside a type's
/// `init(from:)` cannot hide it. The caller then decodes the same bytes with Foundation, which
/// produces the value or the error (with its coding path) it always did. Coding paths are
/// therefore not tracked here.
///
/// **Layout.** The document is parsed once into a flat tape of trivial tokens (no strings, no
/// nested arrays): reading it retains nothing, and a decoder is a tape plus an index, small
/// enough to travel as `any Decoder` without a heap box. Strings become `String`s only when a
/// type asks for them.
struct StrictJSONDecoder {
    /// Decodes `bytes` as `T`, or nil when Foundation must decide (see the type's comment).
    static func decode<T: Decodable>(_: T.Type, from bytes: [UInt8]) -> T? {
        var parser = Parser(bytes: bytes)
        guard parser.parseDocument() else { return nil }
        let tape = Tape(bytes: bytes, tokens: parser.tokens)
        // Through `value`, so the types Foundation treats specially give up at the top too.
        guard let value = try? StrictJSONDecoder.value(T.self, tape, 0), !tape.gaveUp else { return nil }
        return value
    }

    /// One JSON value on the tape. An object is followed by its members, each a key token (kind
    /// `.string`) and the value's tokens; an array by its elements' tokens.
    struct Token {
        enum Kind: UInt8 { case null, bool, int, otherNumber, string, array, object }
        var kind: Kind
        /// A string whose contents hold escapes (decoded when read).
        var escaped = false
        /// Strings: the contents between the quotes.
        var start = 0
        var end = 0
        /// The index of the first token after this value and everything inside it.
        var next = 0
        /// `.int`: the value; `.bool`: 0 or 1; `.array`/`.object`: elements/members.
        var payload: Int64 = 0
    }

    /// The parsed document, shared by every container of one decode.
    final class Tape {
        let bytes: [UInt8]
        let tokens: [Token]
        /// Set when decoding gave up anywhere, even where the error was swallowed.
        var gaveUp = false

        init(bytes: [UInt8], tokens: [Token]) {
            self.bytes = bytes
            self.tokens = tokens
        }

        func giveUp() -> GaveUp {
            gaveUp = true
            return GaveUp()
        }

        /// The string of token `t` (which must be a `.string`).
        func string(_ t: Token) -> String {
            if !t.escaped { return String(decoding: bytes[t.start..<t.end], as: UTF8.self) }
            // Validated while parsing.
            return StrictJSONDecoder.unescape(bytes, t.start, t.end) ?? ""
        }

        /// Whether the key token `t` (plain ASCII, see the parser) spells `name`.
        func key(_ t: Token, is name: String) -> Bool {
            let utf8 = name.utf8
            guard utf8.count == t.end - t.start else { return false }
            var j = t.start
            for b in utf8 {
                guard bytes[j] == b else { return false }
                j += 1
            }
            return true
        }

        /// The value token of `key` in the object at `object`, or nil.
        func member(_ key: String, of object: Int) -> Int? {
            var i = object + 1
            for _ in 0..<tokens[object].payload {
                if self.key(tokens[i], is: key) { return i + 1 }
                i = tokens[i + 1].next
            }
            return nil
        }
    }

    /// Set when encoding gave up anywhere, even where the error was swallowed (the encoder's
    /// counterpart of `Tape.gaveUp`).
    final class Outcome { var gaveUp = false }

    struct GaveUp: Error {}

    // MARK: - Parsing

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
            case UInt8(ascii: "{"): return parseObject()
            case UInt8(ascii: "["): return parseArray()
            case UInt8(ascii: "\""):
                guard let t = parseString() else { return false }
                return leaf(t)
            case UInt8(ascii: "t"): return literal("true", .bool, 1)
            case UInt8(ascii: "f"): return literal("false", .bool, 0)
            case UInt8(ascii: "n"): return literal("null", .null, 0)
            default: return parseNumber()
            }
        }

        private mutating func parseObject() -> Bool {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Parser.maxDepth else { return false }
            i += 1
            let at = tokens.count
            tokens.append(Token(kind: .object))
            var count: Int64 = 0
            skipWhitespace()
            if i < bytes.count && bytes[i] == UInt8(ascii: "}") {
                i += 1
                tokens[at].next = tokens.count
                return true
            }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let key = parseString(),
                      !key.escaped, isASCII(key) else { return false }
                // Foundation keeps the first of duplicate keys; leave such documents to it.
                guard !hasKey(key, inObjectAt: at, members: count) else { return false }
                _ = leaf(key)
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return false }
                i += 1
                skipWhitespace()
                guard parseValue() else { return false }
                count += 1
                guard count <= Parser.maxMembers else { return false }
                skipWhitespace()
                guard i < bytes.count else { return false }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    tokens[at].payload = count
                    tokens[at].next = tokens.count
                    return true
                }
                return false
            }
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

        private mutating func parseArray() -> Bool {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Parser.maxDepth else { return false }
            i += 1
            let at = tokens.count
            tokens.append(Token(kind: .array))
            var count: Int64 = 0
            skipWhitespace()
            if i < bytes.count && bytes[i] == UInt8(ascii: "]") {
                i += 1
                tokens[at].next = tokens.count
                return true
            }
            while true {
                skipWhitespace()
                guard parseValue() else { return false }
                count += 1
                skipWhitespace()
                guard i < bytes.count else { return false }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    tokens[at].payload = count
                    tokens[at].next = tokens.count
                    return true
                }
                return false
            }
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

    // MARK: - Decoding

    struct TreeDecoder: Decoder {
        let tape: Tape
        let index: Int
        var codingPath: [CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard tape.tokens[index].kind == .object else { throw tape.giveUp() }
            return KeyedDecodingContainer(Keyed<Key>(tape: tape, object: index))
        }

        func unkeyedContainer() throws -> UnkeyedDecodingContainer {
            guard tape.tokens[index].kind == .array else { throw tape.giveUp() }
            return Unkeyed(tape: tape, array: index)
        }

        func singleValueContainer() throws -> SingleValueDecodingContainer { Single(tape: tape, index: index) }
    }

    /// For the encoder, which shares `Outcome` and `GaveUp`.
    static func giveUp(_ outcome: Outcome) -> GaveUp {
        outcome.gaveUp = true
        return GaveUp()
    }

    /// Decodes the value at token `index` as `T`: the primitives here, any other type through
    /// its `init(from:)`. Types Foundation decodes with strategies of its own (dates, data, URLs,
    /// decimals, floating point) give up.
    static func value<T: Decodable>(_: T.Type, _ tape: Tape, _ index: Int) throws -> T {
        // Metatype comparisons, not casts: this runs for every value.
        if T.self == String.self { return try string(tape, index) as! T }
        if T.self == Bool.self { return try bool(tape, index) as! T }
        if T.self == Int.self { return try integer(Int.self, tape, index) as! T }
        if T.self == Int64.self { return try integer(Int64.self, tape, index) as! T }
        if T.self == Int32.self { return try integer(Int32.self, tape, index) as! T }
        if T.self == Int16.self { return try integer(Int16.self, tape, index) as! T }
        if T.self == Int8.self { return try integer(Int8.self, tape, index) as! T }
        if T.self == UInt.self { return try integer(UInt.self, tape, index) as! T }
        if T.self == UInt64.self { return try integer(UInt64.self, tape, index) as! T }
        if T.self == UInt32.self { return try integer(UInt32.self, tape, index) as! T }
        if T.self == UInt16.self { return try integer(UInt16.self, tape, index) as! T }
        if T.self == UInt8.self { return try integer(UInt8.self, tape, index) as! T }
        if T.self == Double.self || T.self == Float.self || FoundationSpecialTypes.contains(T.self) { throw tape.giveUp() }
        do {
            return try T(from: TreeDecoder(tape: tape, index: index))
        } catch {
            throw tape.giveUp()
        }
    }

    static func string(_ tape: Tape, _ index: Int) throws -> String {
        let t = tape.tokens[index]
        guard t.kind == .string else { throw tape.giveUp() }
        return tape.string(t)
    }

    static func bool(_ tape: Tape, _ index: Int) throws -> Bool {
        let t = tape.tokens[index]
        guard t.kind == .bool else { throw tape.giveUp() }
        return t.payload != 0
    }

    static func integer<I: FixedWidthInteger>(_: I.Type, _ tape: Tape, _ index: Int) throws -> I {
        let t = tape.tokens[index]
        guard t.kind == .int, let r = I(exactly: t.payload) else { throw tape.giveUp() }
        return r
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let tape: Tape
        let object: Int
        var codingPath: [CodingKey] { [] }

        var allKeys: [Key] {
            var keys: [Key] = []
            var i = object + 1
            for _ in 0..<tape.tokens[object].payload {
                if let k = Key(stringValue: tape.string(tape.tokens[i])) { keys.append(k) }
                i = tape.tokens[i + 1].next
            }
            return keys
        }

        func contains(_ key: Key) -> Bool {
            let name = key.stringValue
            if tape.member(name, of: object) != nil { return true }
            // Keys on the tape are plain ASCII, compared byte for byte; Foundation compares
            // Strings, where a key beyond ASCII may equal one of them (U+212A KELVIN SIGN is
            // "K"). Not worth telling apart here: give up.
            if !name.utf8.allSatisfy({ $0 < 0x80 }) { tape.gaveUp = true }
            return false
        }

        private func value(_ key: Key) throws -> Int {
            guard let at = tape.member(key.stringValue, of: object) else { throw tape.giveUp() }
            return at
        }

        // The common primitives without going through the generic path.
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try string(tape, try value(key)) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try bool(tape, try value(key)) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(Int.self, tape, try value(key)) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(Int64.self, tape, try value(key)) }

        func decodeNil(forKey key: Key) throws -> Bool { tape.tokens[try value(key)].kind == .null }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try StrictJSONDecoder.value(T.self, tape, try value(key))
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey> {
            try TreeDecoder(tape: tape, index: try value(key)).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
            try TreeDecoder(tape: tape, index: try value(key)).unkeyedContainer()
        }

        func superDecoder() throws -> Decoder { throw tape.giveUp() }
        func superDecoder(forKey key: Key) throws -> Decoder { throw tape.giveUp() }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let tape: Tape
        let count: Int?
        /// The token of the element at `currentIndex`.
        private var cursor: Int
        var currentIndex = 0
        var codingPath: [CodingKey] { [] }
        var isAtEnd: Bool { currentIndex >= count! }

        init(tape: Tape, array: Int) {
            self.tape = tape
            count = Int(tape.tokens[array].payload)
            cursor = array + 1
        }

        private mutating func next() throws -> Int {
            guard currentIndex < count! else { throw tape.giveUp() }
            let at = cursor
            cursor = tape.tokens[at].next
            currentIndex += 1
            return at
        }

        mutating func decodeNil() throws -> Bool {
            guard currentIndex < count! else { throw tape.giveUp() }
            guard tape.tokens[cursor].kind == .null else { return false }
            _ = try next()
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try StrictJSONDecoder.value(T.self, tape, try next())
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try TreeDecoder(tape: tape, index: try next()).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
            try TreeDecoder(tape: tape, index: try next()).unkeyedContainer()
        }

        mutating func superDecoder() throws -> Decoder { throw tape.giveUp() }
    }

    struct Single: SingleValueDecodingContainer {
        let tape: Tape
        let index: Int
        var codingPath: [CodingKey] { [] }

        func decodeNil() -> Bool { tape.tokens[index].kind == .null }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try StrictJSONDecoder.value(T.self, tape, index) }
        func decode(_ type: String.Type) throws -> String { try string(tape, index) }
        func decode(_ type: Bool.Type) throws -> Bool { try bool(tape, index) }
        func decode(_ type: Int.Type) throws -> Int { try integer(Int.self, tape, index) }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self, tape, index) }
    }
}

/// Types Foundation's JSON coders treat with strategies of their own instead of their `Codable`
/// conformance; the strict coders leave them to Foundation.
enum FoundationSpecialTypes {
    static func contains(_ type: Any.Type) -> Bool {
        type == Date.self || type == Data.self || type == URL.self || type == Decimal.self
    }
}
