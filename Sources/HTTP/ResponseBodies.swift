import JSON

extension HTTPResponse {
    /// A JSON response (`Content-Type: application/json`) encoding `value` with sorted keys.
    public static func json<T: Encodable>(_ value: T, status: Int = 200, headers: HTTPHeaders = HTTPHeaders()) throws -> HTTPResponse {
        var h = headers
        h.set(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: h, body: try JSONCoding.encode(value))
    }

    /// A plain-text response (`text/plain; charset=utf-8`).
    public static func text(_ text: String, status: Int = 200, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var h = headers
        h.set(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: h, body: Array(text.utf8))
    }
}

extension HTTPRequest {
    /// Whether `Content-Type` is `application/json` or a `+json` type (parameters ignored).
    public var hasJSONContentType: Bool {
        guard let ct = head.headers["Content-Type"] else { return false }
        // Byte-level: this runs on every command, and Foundation trimming is costly.
        var media = Substring(ct)
        if let semi = media.firstIndex(of: ";") { media = media[..<semi] }
        let bytes = media.utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        let lower = String(decoding: bytes.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }, as: UTF8.self)
        return lower == "application/json" || (lower.hasPrefix("application/") && lower.hasSuffix("+json"))
    }

    /// The `charset` parameter of `Content-Type`, lowercased and unquoted, or nil when absent.
    public var contentTypeCharset: String? {
        guard let ct = head.headers["Content-Type"], ct.utf8.contains(UInt8(ascii: ";")) else { return nil }
        for parameter in ct.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingSpaces().lowercased() == "charset" else { continue }
            var value = pair[1].trimmingSpaces()
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            return value.lowercased()
        }
        return nil
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (optional whitespace, RFC 9110 5.6.3).
    func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }
}
