import Foundation

/// Hand-written decoding of the hottest payloads over the strict decoder's tape, without the
/// `Codable` machinery (a container box and a generic call per field).
///
/// The contract is the strict decoder's: the value a synthesized `Decodable` conformance would
/// give, or nil. A reader gives up (the `read` closure's error) on a missing key or a type
/// mismatch; unknown keys are ignored, as synthesized conformances do. The caller then decodes
/// the same bytes through `JSONCoding.decode`, which gives the value or Foundation's error.
/// Each hand-written reader needs a test that it agrees with its type's `Decodable`.
public struct JSONObjectReader {
    let tape: StrictJSONDecoder.Tape
    let object: Int

    /// Reads the JSON object in `bytes` with `read`; nil when the strict decoder does not accept
    /// the document, the root is no object, or `read` throws.
    public static func read<T>(_ bytes: [UInt8], _ read: (JSONObjectReader) throws -> T) -> T? {
        guard let tape = StrictJSONDecoder.tape(bytes), tape.tokens[0].kind == .object else { return nil }
        return try? read(JSONObjectReader(tape: tape, object: 0))
    }

    private func member(_ key: String) throws -> Int {
        guard let at = tape.member(key, of: object) else { throw StrictJSONDecoder.GaveUp() }
        return at
    }

    public func string(_ key: String) throws -> String { try StrictJSONDecoder.string(tape, try member(key)) }
    public func int(_ key: String) throws -> Int { try StrictJSONDecoder.integer(Int.self, tape, try member(key)) }
    public func int64(_ key: String) throws -> Int64 { try StrictJSONDecoder.integer(Int64.self, tape, try member(key)) }

    /// The string under `key` as a `String`-backed enum (what its synthesized `Decodable` reads).
    public func value<E: RawRepresentable>(_: E.Type, _ key: String) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: try string(key)) else { throw StrictJSONDecoder.GaveUp() }
        return value
    }

    /// The object under `key`.
    public func object(_ key: String) throws -> JSONObjectReader {
        let at = try member(key)
        guard tape.tokens[at].kind == .object else { throw StrictJSONDecoder.GaveUp() }
        return JSONObjectReader(tape: tape, object: at)
    }

    /// The array of objects under `key`, each read with `element`.
    public func objects<T>(_ key: String, _ element: (JSONObjectReader) throws -> T) throws -> [T] {
        let at = try member(key)
        let array = tape.tokens[at]
        guard array.kind == .array else { throw StrictJSONDecoder.GaveUp() }
        var result: [T] = []
        result.reserveCapacity(Int(array.payload))
        var i = at + 1
        for _ in 0..<array.payload {
            guard tape.tokens[i].kind == .object else { throw StrictJSONDecoder.GaveUp() }
            result.append(try element(JSONObjectReader(tape: tape, object: i)))
            i = tape.tokens[i].next
        }
        return result
    }
}

extension JSONCoding {
    /// `read` over the strict decoder's tape when it accepts the document, else `Codable`
    /// through `decode(_:from:)`, which gives the same value or Foundation's error.
    public static func decode<T: Decodable>(_: T.Type, from bytes: [UInt8], reader read: (JSONObjectReader) throws -> T) throws -> T {
        if let value = JSONObjectReader.read(bytes, read) { return value }
        return try decode(T.self, from: bytes)
    }
}
