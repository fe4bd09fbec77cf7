import Foundation
import JSON

/// An RFC 9457 problem detail (`application/problem+json`).
///
/// Every error that reaches HTTP becomes a `Problem` through `Problem.from(_:)`: an error
/// type states its own problem by conforming to `HTTPResponseError` (the domain's errors do so
/// in the API module, transport errors here), so there is one mapping mechanism in one place.
public struct Problem: Error, Sendable, Equatable {
    /// A URI reference identifying the problem type; "about:blank" means "just the status".
    public var type: String
    /// A short, stable summary of the problem type (defaults to the status reason phrase).
    public var title: String
    public var status: Int
    /// A human explanation specific to this occurrence.
    public var detail: String?
    /// A URI reference identifying this occurrence (often the request path).
    public var instance: String?
    /// Extension members, e.g. `errors` for field validation errors.
    public var extensions: [String: JSONValue]
    /// Extra response headers (e.g. `Retry-After`, `Allow`).
    public var headers: HTTPHeaders

    public init(status: Int, type: String = "about:blank", title: String? = nil, detail: String? = nil,
                instance: String? = nil, extensions: [String: JSONValue] = [:], headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.type = type
        self.title = title ?? HTTPStatus.reasonPhrase(status)
        self.detail = detail
        self.instance = instance
        self.extensions = extensions
        self.headers = headers
    }

    public static func == (a: Problem, b: Problem) -> Bool {
        a.type == b.type && a.title == b.title && a.status == b.status && a.detail == b.detail
            && a.instance == b.instance && a.extensions == b.extensions
            && a.headers.fields.elementsEqual(b.headers.fields, by: { $0.name == $1.name && $0.value == $1.value })
    }

    /// A field error for 422 responses: `{"field": ..., "message": ...}` in `errors`.
    public struct FieldError: Sendable, Equatable {
        public var field: String
        public var message: String
        public init(field: String, message: String) { self.field = field; self.message = message }
    }

    /// A 422 validation problem carrying field errors in the `errors` extension member.
    public static func validation(_ errors: [FieldError], detail: String? = nil) -> Problem {
        Problem(status: 422, detail: detail ?? "The request is not valid.",
                extensions: ["errors": .array(errors.map { .object(["field": .string($0.field), "message": .string($0.message)]) })])
    }

    /// The JSON document (members in a fixed order, then extensions sorted by name).
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        func member(_ name: String, _ value: JSONValue) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            JSONValue.writeString(name, into: &out)
            out.append(UInt8(ascii: ":"))
            value.write(into: &out)
        }
        member("type", .string(type))
        member("title", .string(title))
        member("status", .int(status))
        if let detail { member("detail", .string(detail)) }
        if let instance { member("instance", .string(instance)) }
        let reserved: Set<String> = ["type", "title", "status", "detail", "instance"]
        for key in extensions.keys.sorted() where !reserved.contains(key) { member(key, extensions[key]!) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The response: status, `Content-Type: application/problem+json`, extra headers, JSON body.
    public var response: HTTPResponse {
        var h = headers
        h.set(name: "Content-Type", value: "application/problem+json")
        return HTTPResponse(status: status, headers: h, body: jsonBytes)
    }
}

/// An error that knows its HTTP representation (Hummingbird's name for the idea);
/// `Problem.from(_:)` and `Responder.respond(error:)` use it.
public protocol HTTPResponseError: Error {
    var problem: Problem { get }
}

extension Problem {
    /// The problem for any error: its own (`HTTPResponseError`), the transport's for parse
    /// and routing errors; anything unknown is a 500 whose detail does not leak internals.
    public static func from(_ error: Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let convertible as HTTPResponseError:
            return convertible.problem
        case let parse as HTTPParseError:
            return Problem(status: parse.status, detail: parse.detail)
        case let routing as RoutingError:
            switch routing {
            case .notFound(let path):
                return Problem(status: 404, detail: "No resource at this path.", instance: path)
            case .methodNotAllowed(let method, let allow):
                var headers = HTTPHeaders()
                headers.add(name: "Allow", value: allow.joined(separator: ", "))
                return Problem(status: 405, detail: "Method \(method) is not allowed here.", headers: headers)
            case .badPath(let detail):
                return Problem(status: 400, detail: detail)
            }
        case let decoding as DecodingError:
            return Problem(status: 400, detail: "Malformed JSON body: \(Problem.describe(decoding))")
        default:
            return Problem(status: 500, detail: "An internal error occurred.")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            let p = path(ctx)
            return "missing field '\(p.isEmpty ? key.stringValue : p + "." + key.stringValue)'"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return "wrong type at '\(path(ctx))'"
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "invalid value at '\(path(ctx))'"
        @unknown default:
            return "invalid"
        }
    }
}
