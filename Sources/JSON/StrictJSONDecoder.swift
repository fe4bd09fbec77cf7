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
        guard let tape = tape(bytes) else { return nil }
        // Through `value`, so the types Foundation treats specially give up at the top too.
        guard let value = try? StrictJSONDecoder.value(T.self, tape, 0), !tape.gaveUp else { return nil }
        return value
    }

    /// `bytes` parsed onto a tape; nil when the parser does not accept the document.
    static func tape(_ bytes: [UInt8]) -> Tape? {
        var parser = Parser(bytes: bytes)
        guard parser.parseDocument() else { return nil }
        return Tape(bytes: bytes, tokens: parser.tokens)
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
