import Foundation

extension HTTPResponse {
    /// A JSON response (`Content-Type: application/json`) encoding `value` with sorted keys.
    public static func json<T: Encodable>(_ value: T, status: Int = 200, headers: HTTPHeaders = HTTPHeaders()) throws -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        var h = headers
        h.set(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: h, body: [UInt8](data))
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
        let media = ct.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json"))
    }

    /// Decodes the body as JSON. Throws a `Problem`: 415 for a non-JSON content type,
    /// 400 for malformed JSON or a body that does not fit `T`.
    public func decodeJSON<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        guard hasJSONContentType else {
            throw Problem(status: 415, detail: "Expected Content-Type: application/json.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw Problem.from(error)
        }
    }
}
