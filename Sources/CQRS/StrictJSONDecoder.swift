import Foundation

/// A fast path for decoding the JSON the server itself writes (events, public payloads, command
/// bodies) without Foundation's `JSONDecoder`, which dominated the CPU cost of a command.
///
/// **Same results as Foundation or no result.** It understands only the plain shapes: objects
/// without duplicate keys, arrays, strings, `true`/`false`/`null` and integers written as
/// `-?(0|[1-9][0-9]*)` that fit the requested type, decoded as `String`, `Bool` and the integer
/// types. Anything else — a fraction or exponent, `-0`, a `Double`, `Date`, `Data`, a missing key,
/// a type mismatch, a super decoder, invalid UTF-8, a lone surrogate — makes it give up, and so
/// does any error a type's own `init(from:)` throws. Giving up is recorded in a flag as well as
/// thrown, so a `try?` inside a type's `init(from:)` cannot hide it. The caller then decodes the
/// same bytes with Foundation, which produces the value or the error (with its coding path) it
/// always did. Coding paths are therefore not tracked here.
struct StrictJSONDecoder {
    /// Decodes `bytes` as `T`, or nil when Foundation must decide (see the type's comment).
    static func decode<T: Decodable>(_: T.Type, from bytes: [UInt8]) -> T? {
        var parser = Parser(bytes: bytes)
        guard let root = parser.parseDocument() else { return nil }
        let outcome = Outcome()
        guard let value = try? T(from: TreeDecoder(node: root, outcome: outcome)), !outcome.gaveUp else { return nil }
        return value
    }

    /// A parsed JSON value. Integers that do not fit `Int64`, fractions and exponents are kept
    /// only as `.otherNumber`: decoding one gives up.
    enum Node {
        case null
        case bool(Bool)
        case int(Int64)
        case otherNumber
        case string(String)
        case array([Node])
        /// Members in document order (objects are small: a linear search beats hashing).
        case object([(key: String, value: Node)])
    }

    /// Set when decoding gave up anywhere, even where the error was swallowed.
    final class Outcome { var gaveUp = false }

    struct GaveUp: Error {}

    // MARK: - Parsing

    /// RFC 8259 parser; nil for anything it does not accept (including valid JSON it leaves to
    /// Foundation, such as duplicate keys or nesting deeper than `maxDepth`).
    struct Parser {
        let bytes: [UInt8]
        var i = 0
        var depth = 0
        static let maxDepth = 256

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func parseDocument() -> Node? {
            skipWhitespace()
            guard let node = parseValue() else { return nil }
            skipWhitespace()
            return i == bytes.count ? node : nil
        }

        private mutating func skipWhitespace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        private mutating func literal(_ word: StaticString, _ node: Node) -> Node? {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count else { return nil }
            var k = 0
            var matches = true
            word.withUTF8Buffer { w in
                while k < n { if bytes[i + k] != w[k] { matches = false; break }; k += 1 }
            }
            guard matches else { return nil }
            i += n
            return node
        }

        private mutating func parseValue() -> Node? {
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"): return parseObject()
            case UInt8(ascii: "["): return parseArray()
            case UInt8(ascii: "\""): return parseString().map(Node.string)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default: return parseNumber()
            }
        }

        private mutating func parseObject() -> Node? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Parser.maxDepth else { return nil }
            i += 1
            var members: [(key: String, value: Node)] = []
            skipWhitespace()
            if i < bytes.count && bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let key = parseString() else { return nil }
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                skipWhitespace()
                guard let value = parseValue() else { return nil }
                // Foundation keeps the first of duplicate keys; leave such documents to it.
                guard !members.contains(where: { $0.key == key }) else { return nil }
                members.append((key, value))
                skipWhitespace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                return nil
            }
        }

        private mutating func parseArray() -> Node? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Parser.maxDepth else { return nil }
            i += 1
            var elements: [Node] = []
            skipWhitespace()
            if i < bytes.count && bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            while true {
                skipWhitespace()
                guard let value = parseValue() else { return nil }
                elements.append(value)
                skipWhitespace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
                return nil
            }
        }

        /// At the opening quote; nil for control characters, bad escapes, lone surrogates and
        /// invalid UTF-8.
        private mutating func parseString() -> String? {
            i += 1
            let start = i
            // Common case: no escapes, ASCII only.
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let s = String(decoding: bytes[start..<i], as: UTF8.self)
                    i += 1
                    return s
                }
                if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
                i += 1
            }
            var out: [UInt8] = Array(bytes[start..<i])
            while i < bytes.count {
                let b = bytes[i]
                switch b {
                case UInt8(ascii: "\""):
                    i += 1
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    i += 1
                    guard i < bytes.count else { return nil }
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
                            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
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
                default:
                    guard b >= 0x20 else { return nil }
                    out.append(b)
                    i += 1
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt16? {
            guard i + 4 <= bytes.count else { return nil }
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

        /// A JSON number; only `-?(0|[1-9][0-9]*)` within Int64 becomes `.int`.
        private mutating func parseNumber() -> Node? {
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
            guard digits > 0 else { return nil }
            if digits > 1 && bytes[digitsStart] == UInt8(ascii: "0") { return nil }
            var plain = true
            if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
                plain = false
                i += 1
                let f = i
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                guard i > f else { return nil }
            }
            if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
                plain = false
                i += 1
                if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
                let e = i
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                guard i > e else { return nil }
            }
            guard plain, !overflow, !(negative && magnitude == 0) else { return .otherNumber }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return .otherNumber }
                return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
            }
            guard magnitude <= UInt64(Int64.max) else { return .otherNumber }
            return .int(Int64(magnitude))
        }
    }

    // MARK: - Decoding

    struct TreeDecoder: Decoder {
        let node: Node
        let outcome: Outcome
        var codingPath: [CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard case .object(let members) = node else { throw giveUp(outcome) }
            return KeyedDecodingContainer(Keyed<Key>(members: members, outcome: outcome))
        }

        func unkeyedContainer() throws -> UnkeyedDecodingContainer {
            guard case .array(let elements) = node else { throw giveUp(outcome) }
            return Unkeyed(elements: elements, outcome: outcome)
        }

        func singleValueContainer() throws -> SingleValueDecodingContainer { Single(node: node, outcome: outcome) }
    }

    static func giveUp(_ outcome: Outcome) -> GaveUp {
        outcome.gaveUp = true
        return GaveUp()
    }

    /// Decodes `node` as `T`: the primitives here, any other type through its `init(from:)`.
    /// Types Foundation decodes with strategies of its own (dates, data, URLs, decimals,
    /// floating point) give up.
    static func value<T: Decodable>(_: T.Type, _ node: Node, _ outcome: Outcome) throws -> T {
        // Metatype comparisons, not casts: this runs for every value.
        if T.self == String.self { return try string(node, outcome) as! T }
        if T.self == Bool.self { return try bool(node, outcome) as! T }
        if T.self == Int.self { return try integer(Int.self, node, outcome) as! T }
        if T.self == Int64.self { return try integer(Int64.self, node, outcome) as! T }
        if T.self == Int32.self { return try integer(Int32.self, node, outcome) as! T }
        if T.self == Int16.self { return try integer(Int16.self, node, outcome) as! T }
        if T.self == Int8.self { return try integer(Int8.self, node, outcome) as! T }
        if T.self == UInt.self { return try integer(UInt.self, node, outcome) as! T }
        if T.self == UInt64.self { return try integer(UInt64.self, node, outcome) as! T }
        if T.self == UInt32.self { return try integer(UInt32.self, node, outcome) as! T }
        if T.self == UInt16.self { return try integer(UInt16.self, node, outcome) as! T }
        if T.self == UInt8.self { return try integer(UInt8.self, node, outcome) as! T }
        if T.self == Double.self || T.self == Float.self || FoundationSpecialTypes.contains(T.self) { throw giveUp(outcome) }
        do {
            return try T(from: TreeDecoder(node: node, outcome: outcome))
        } catch {
            throw giveUp(outcome)
        }
    }

    static func string(_ node: Node, _ outcome: Outcome) throws -> String {
        guard case .string(let s) = node else { throw giveUp(outcome) }
        return s
    }

    static func bool(_ node: Node, _ outcome: Outcome) throws -> Bool {
        guard case .bool(let b) = node else { throw giveUp(outcome) }
        return b
    }

    static func integer<I: FixedWidthInteger>(_: I.Type, _ node: Node, _ outcome: Outcome) throws -> I {
        guard case .int(let v) = node, let r = I(exactly: v) else { throw giveUp(outcome) }
        return r
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [(key: String, value: Node)]
        let outcome: Outcome
        var codingPath: [CodingKey] { [] }
        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

        func contains(_ key: Key) -> Bool {
            let name = key.stringValue
            return members.contains { $0.key == name }
        }

        private func node(_ key: Key) throws -> Node {
            let name = key.stringValue
            for m in members where m.key == name { return m.value }
            throw giveUp(outcome)
        }

        // The common primitives without going through the generic path.
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try string(try node(key), outcome) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try bool(try node(key), outcome) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(Int.self, try node(key), outcome) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(Int64.self, try node(key), outcome) }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try node(key) { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try StrictJSONDecoder.value(T.self, try node(key), outcome)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey> {
            try TreeDecoder(node: try node(key), outcome: outcome).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
            try TreeDecoder(node: try node(key), outcome: outcome).unkeyedContainer()
        }

        func superDecoder() throws -> Decoder { throw giveUp(outcome) }
        func superDecoder(forKey key: Key) throws -> Decoder { throw giveUp(outcome) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let elements: [Node]
        let outcome: Outcome
        var currentIndex = 0
        var codingPath: [CodingKey] { [] }
        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        init(elements: [Node], outcome: Outcome) { self.elements = elements; self.outcome = outcome }

        private mutating func next() throws -> Node {
            guard currentIndex < elements.count else { throw giveUp(outcome) }
            defer { currentIndex += 1 }
            return elements[currentIndex]
        }

        mutating func decodeNil() throws -> Bool {
            guard currentIndex < elements.count else { throw giveUp(outcome) }
            if case .null = elements[currentIndex] { currentIndex += 1; return true }
            return false
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try StrictJSONDecoder.value(T.self, try next(), outcome)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try TreeDecoder(node: try next(), outcome: outcome).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
            try TreeDecoder(node: try next(), outcome: outcome).unkeyedContainer()
        }

        mutating func superDecoder() throws -> Decoder { throw giveUp(outcome) }
    }

    struct Single: SingleValueDecodingContainer {
        let node: Node
        let outcome: Outcome
        var codingPath: [CodingKey] { [] }

        func decodeNil() -> Bool {
            if case .null = node { return true }
            return false
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try StrictJSONDecoder.value(T.self, node, outcome) }
        func decode(_ type: String.Type) throws -> String { try string(node, outcome) }
        func decode(_ type: Bool.Type) throws -> Bool { try bool(node, outcome) }
        func decode(_ type: Int.Type) throws -> Int { try integer(Int.self, node, outcome) }
        func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self, node, outcome) }
    }
}

/// Types Foundation's JSON coders treat with strategies of their own instead of their `Codable`
/// conformance; the strict coders leave them to Foundation.
enum FoundationSpecialTypes {
    static func contains(_ type: Any.Type) -> Bool {
        type == Date.self || type == Data.self || type == URL.self || type == Decimal.self
    }
}
