/// Percent-decoding (RFC 3986 2.1) for path segments and query components.
public enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`). Returns nil for a
    /// malformed escape or when the decoded bytes are not valid UTF-8.
    public static func decode(_ text: Substring, plusAsSpace: Bool = false) -> String? {
        let utf8 = text.utf8
        // Fast path: nothing to decode.
        if !utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(text)
        }
        return decodedBytes(ArraySlice(utf8), plusAsSpace: plusAsSpace).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// Decodes the `%XX` escapes of a path segment's bytes; nil for a malformed escape or
    /// bytes that are not valid UTF-8 once decoded.
    static func decode(segment: ArraySlice<UInt8>) -> [UInt8]? {
        guard let bytes = decodedBytes(segment, plusAsSpace: false), String(validating: bytes, as: UTF8.self) != nil else { return nil }
        return bytes
    }

    /// The bytes `%XX` escapes (and `+` when `plusAsSpace`) stand for; nil for a malformed
    /// escape. Not checked for UTF-8: the callers do.
    private static func decodedBytes(_ text: ArraySlice<UInt8>, plusAsSpace: Bool) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            let b = text[i]
            guard b == UInt8(ascii: "%") else {
                bytes.append(plusAsSpace && b == UInt8(ascii: "+") ? 0x20 : b)
                i += 1
                continue
            }
            guard i + 2 < text.endIndex, let hi = hex(text[i + 1]), let lo = hex(text[i + 2]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 3
        }
        return bytes
    }

    @inline(__always)
    static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}

/// Parsed query-string parameters (`a=1&b=x+y&a=2`), percent-decoded with `+` as space.
/// Keeps every value in order; a key without `=` has the empty value.
public struct QueryParameters: Sendable, Equatable {
    public private(set) var items: [(name: String, value: String)] = []

    public init() {}

    /// Parses `query` (without the leading "?"). Malformed escapes are kept literally
    /// rather than failing the request.
    public init(parsing query: Substring?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring, value: Substring
            if let eq = pair.firstIndex(of: "=") {
                name = pair[..<eq]
                value = pair[pair.index(after: eq)...]
            } else {
                name = pair
                value = ""
            }
            let decodedName = PercentDecoding.decode(name, plusAsSpace: true) ?? String(name)
            let decodedValue = PercentDecoding.decode(value, plusAsSpace: true) ?? String(value)
            items.append((decodedName, decodedValue))
        }
    }

    /// The first value for `name`, or nil.
    public subscript(name: String) -> String? { first(name) }

    /// The first value for `name`, or nil.
    public func first(_ name: String) -> String? { items.first { $0.name == name }?.value }

    /// Every value for `name`, in order.
    public func all(_ name: String) -> [String] { items.filter { $0.name == name }.map { $0.value } }

    public var isEmpty: Bool { items.isEmpty }

    public static func == (a: QueryParameters, b: QueryParameters) -> Bool {
        a.items.elementsEqual(b.items) { $0.name == $1.name && $0.value == $1.value }
    }
}
