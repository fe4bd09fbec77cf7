/// A fast path for encoding values as compact JSON with sorted keys, byte for byte what
/// `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes, without its cost.
///
/// Stored events and public payloads are hashed, compared on idempotent appends and served
/// verbatim, so the bytes must not change: this encoder handles only the shapes whose output it
/// knows exactly — keyed, unkeyed and single values of `String`, `Bool`, the integer types and
/// `nil`, with ASCII keys (sorted by their bytes, as Foundation does for them). Anything else —
/// floating point, `Date`, `Data`, `URL`, `Decimal`, super encoders, a key encoded twice, a
/// value that encodes nothing, any error — makes it give up (recorded in a flag, so a `try?` in
/// a type's `encode(to:)` cannot hide it), and the caller encodes with Foundation instead.
struct SortedJSONEncoder {
    /// The JSON bytes of `value`, or nil when Foundation must encode it.
    static func encode<T: Encodable>(_ value: T) -> [UInt8]? {
        let outcome = StrictJSONDecoder.Outcome()
        let slot = Slot()
        guard (try? encodeValue(value, into: slot, outcome)) != nil, !outcome.gaveUp, let root = slot.node else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(128)
        guard write(root, into: &out) else { return nil }
        return out
    }

    /// A value being built. Containers are boxes so that nested containers handed out earlier
    /// keep filling the same storage.
    enum Node {
        case null
        case bool(Bool)
        case int(Int64)
        case uint(UInt64)
        case string(String)
        case array(ArrayBox)
        case object(ObjectBox)
        /// What a nested encoder (`encode(_:forKey:)` of a non-primitive) produced.
        case slot(Slot)
    }

    final class ArrayBox { var elements: [Node] = [] }
    final class ObjectBox { var members: [(key: String, value: Node)] = [] }
    final class Slot { var node: Node? }

    static func giveUp(_ outcome: StrictJSONDecoder.Outcome) -> StrictJSONDecoder.GaveUp {
        outcome.gaveUp = true
        return StrictJSONDecoder.GaveUp()
    }

    /// Encodes `value` into `slot`: primitives directly, other types through `encode(to:)`.
    static func encodeValue<T: Encodable>(_ value: T, into slot: Slot, _ outcome: StrictJSONDecoder.Outcome) throws {
        if let node = primitive(value) {
            slot.node = node
            return
        }
        if T.self == Double.self || T.self == Float.self || FoundationSpecialTypes.contains(T.self) { throw giveUp(outcome) }
        do {
            try value.encode(to: TreeEncoder(slot: slot, outcome: outcome))
        } catch {
            throw giveUp(outcome)
        }
        // Foundation writes `{}` for a value that encodes nothing; rare enough to leave to it.
        guard slot.node != nil else { throw giveUp(outcome) }
    }

    /// Metatype comparisons first: a failed dynamic cast per value would cost more than the rest.
    static func primitive<T: Encodable>(_ value: T) -> Node? {
        if T.self == String.self { return .string(value as! String) }
        if T.self == Bool.self { return .bool(value as! Bool) }
        if T.self == Int.self { return .int(Int64(value as! Int)) }
        if T.self == Int64.self { return .int(value as! Int64) }
        if T.self == Int32.self { return .int(Int64(value as! Int32)) }
        if T.self == Int16.self { return .int(Int64(value as! Int16)) }
        if T.self == Int8.self { return .int(Int64(value as! Int8)) }
        if T.self == UInt.self { return .uint(UInt64(value as! UInt)) }
        if T.self == UInt64.self { return .uint(value as! UInt64) }
        if T.self == UInt32.self { return .uint(UInt64(value as! UInt32)) }
        if T.self == UInt16.self { return .uint(UInt64(value as! UInt16)) }
        if T.self == UInt8.self { return .uint(UInt64(value as! UInt8)) }
        return nil
    }

    // MARK: - Writing

    /// False when the tree holds something Foundation must write (an empty slot, a non-ASCII
    /// key whose order Foundation might decide differently).
    static func write(_ node: Node, into out: inout [UInt8]) -> Bool {
        switch node {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let v): out.append(contentsOf: String(v).utf8)
        case .uint(let v): out.append(contentsOf: String(v).utf8)
        case .string(let s): writeString(s, into: &out)
        case .slot(let slot):
            guard let inner = slot.node else { return false }
            return write(inner, into: &out)
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (i, e) in box.elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                guard write(e, into: &out) else { return false }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let box):
            guard box.members.allSatisfy({ $0.key.utf8.allSatisfy { $0 < 0x80 } }) else { return false }
            let sorted = box.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            out.append(UInt8(ascii: "{"))
            for (i, m) in sorted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                guard write(m.value, into: &out) else { return false }
            }
            out.append(UInt8(ascii: "}"))
        }
        return true
    }

    static func writeString(_ s: String, into out: inout [UInt8]) { JSONString.write(s, into: &out) }

    // MARK: - Encoding

    struct TreeEncoder: Encoder {
        let slot: Slot
        let outcome: StrictJSONDecoder.Outcome
        var codingPath: [CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            let box: ObjectBox
            switch slot.node {
            case .object(let existing)?: box = existing
            case nil: box = ObjectBox(); slot.node = .object(box)
            default: outcome.gaveUp = true; box = ObjectBox()
            }
            return KeyedEncodingContainer(Keyed<Key>(box: box, outcome: outcome))
        }

        func unkeyedContainer() -> UnkeyedEncodingContainer {
            let box: ArrayBox
            switch slot.node {
            case .array(let existing)?: box = existing
            case nil: box = ArrayBox(); slot.node = .array(box)
            default: outcome.gaveUp = true; box = ArrayBox()
            }
            return Unkeyed(box: box, outcome: outcome)
        }

        func singleValueContainer() -> SingleValueEncodingContainer { Single(slot: slot, outcome: outcome) }
    }

    /// A nested value: primitives inline, others through a slot of their own.
    static func node<T: Encodable>(for value: T, _ outcome: StrictJSONDecoder.Outcome) throws -> Node {
        if let p = primitive(value) { return p }
        let slot = Slot()
        try encodeValue(value, into: slot, outcome)
        return .slot(slot)
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let box: ObjectBox
        let outcome: StrictJSONDecoder.Outcome
        var codingPath: [CodingKey] { [] }

        private func add(_ key: Key, _ node: Node) throws {
            let name = key.stringValue
            guard !box.members.contains(where: { $0.key == name }) else { throw giveUp(outcome) }
            box.members.append((name, node))
        }

        mutating func encodeNil(forKey key: Key) throws { try add(key, .null) }

        // The common primitives without going through the generic path.
        mutating func encode(_ value: String, forKey key: Key) throws { try add(key, .string(value)) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { try add(key, .bool(value)) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try add(key, .int(Int64(value))) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try add(key, .int(value)) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try add(key, try SortedJSONEncoder.node(for: value, outcome))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey> {
            let nested = ObjectBox()
            if (try? add(key, .object(nested))) == nil { outcome.gaveUp = true }
            return KeyedEncodingContainer(Keyed<NestedKey>(box: nested, outcome: outcome))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
            let nested = ArrayBox()
            if (try? add(key, .array(nested))) == nil { outcome.gaveUp = true }
            return Unkeyed(box: nested, outcome: outcome)
        }

        mutating func superEncoder() -> Encoder { outcome.gaveUp = true; return TreeEncoder(slot: Slot(), outcome: outcome) }
        mutating func superEncoder(forKey key: Key) -> Encoder { superEncoder() }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let box: ArrayBox
        let outcome: StrictJSONDecoder.Outcome
        var codingPath: [CodingKey] { [] }
        var count: Int { box.elements.count }

        mutating func encodeNil() throws { box.elements.append(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            box.elements.append(try SortedJSONEncoder.node(for: value, outcome))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let nested = ObjectBox()
            box.elements.append(.object(nested))
            return KeyedEncodingContainer(Keyed<NestedKey>(box: nested, outcome: outcome))
        }

        mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
            let nested = ArrayBox()
            box.elements.append(.array(nested))
            return Unkeyed(box: nested, outcome: outcome)
        }

        mutating func superEncoder() -> Encoder { outcome.gaveUp = true; return TreeEncoder(slot: Slot(), outcome: outcome) }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        let outcome: StrictJSONDecoder.Outcome
        var codingPath: [CodingKey] { [] }

        private func set(_ node: Node) throws {
            guard slot.node == nil else { throw giveUp(outcome) }
            slot.node = node
        }

        mutating func encodeNil() throws { try set(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            guard slot.node == nil else { throw giveUp(outcome) }
            try encodeValue(value, into: slot, outcome)
        }
        mutating func encode(_ value: String) throws { try set(.string(value)) }
        mutating func encode(_ value: Bool) throws { try set(.bool(value)) }
        mutating func encode(_ value: Int) throws { try set(.int(Int64(value))) }
        mutating func encode(_ value: Int64) throws { try set(.int(value)) }
    }
}
