import Foundation
import HTTP

/// Typed query parameters; a malformed value is a 400 naming the parameter.
extension QueryParameters {
    func integer(_ name: String) throws -> Int64? {
        guard let text = first(name) else { return nil }
        guard let value = Int64(text) else { throw badParameter(name, "must be an integer") }
        return value
    }

    /// An RFC 3339 timestamp (`2026-11-26T16:00:00Z`, fractional seconds allowed), as an
    /// inclusive upper bound: event times are shown with millisecond precision, so the bound is
    /// the end of the given millisecond — `asOf` set to an event's displayed time includes it.
    func timestamp(_ name: String) throws -> Date? {
        guard let text = first(name) else { return nil }
        guard let date = RFC3339Parsing.parse(text) else {
            throw badParameter(name, "must be an RFC 3339 timestamp, e.g. 2026-11-26T16:00:00Z")
        }
        let millis = (date.timeIntervalSince1970 * 1000).rounded(.down)
        return Date(timeIntervalSince1970: (millis + 0.999_999) / 1000)
    }
}

/// A 400 naming the parameter; `message` may already start with the name (service messages do).
func badParameter(_ name: String, _ message: String) -> Problem {
    let sentence = message.hasPrefix(name) ? message : "\(name) \(message)"
    return Problem(status: 400, type: ProblemType.uri("bad-query-parameter"), title: "Bad query parameter",
                   detail: sentence.hasSuffix(".") ? sentence : sentence + ".",
                   extensions: ["errors": [["field": .string(name), "message": .string(message)]]])
}

enum RFC3339Parsing {
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
