import Foundation

/// Shared JSON helpers (sorted keys for deterministic bytes).
///
/// Foundation's `JSONEncoder`/`JSONDecoder` define the results; the strict coders
/// (`SortedJSONEncoder`, `StrictJSONDecoder`) produce the same results much more cheaply for
/// the plain shapes the server uses, and hand everything else to Foundation.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        if let bytes = SortedJSONEncoder.encode(value) { return bytes }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
    public static func decode<T: Decodable>(_: T.Type, from bytes: [UInt8]) throws -> T {
        if let value = fastDecode(T.self, from: bytes) { return value }
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }
    /// The value `JSONDecoder` would decode, when the strict decoder can tell cheaply; nil when
    /// the caller must ask Foundation (for the value or for its error).
    public static func fastDecode<T: Decodable>(_: T.Type, from bytes: [UInt8]) -> T? {
        StrictJSONDecoder.decode(T.self, from: bytes)
    }
}
