import CQRS
import EventStore
import Foundation
import HTTP
import JSON

/// The command side of the HTTP API, shared by every service's routes: headers in
/// (`If-Match`, `Idempotency-Key`, `X-Correlation-ID`), outcome or problem out.
///
/// Response body: `{"id", "version", "position"}` where `position` is a consistency token
/// of the service's store (`customers:42`); `ETag` is the new stream version.
enum CommandEndpoint {
    /// What a route hands to its service: the command context and concurrency mode.
    typealias Dispatch<Event> = (CommandContext, ConcurrencyMode, @escaping CommandCompletion<Event>) -> Void

    static func run<Event>(_ context: RequestContext, _ responder: Responder, id: String, storeName: String,
                           admission: CommandAdmission, defaultMode: ConcurrencyMode = .retrying,
                           isCreation: @escaping (CommandOutcome<Event>) -> Bool,
                           dispatch: Dispatch<Event>) {
        let head = context.head
        var mode = defaultMode
        var commandContext = CommandContext()
        do {
            if let ifMatch = head.headers["If-Match"] {
                mode = .exact(try EntityTag.expectedVersion(ifMatch: ifMatch))
            }
            if let key = head.headers["Idempotency-Key"] {
                guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw Problem(status: 400, type: ProblemType.uri("bad-idempotency-key"), title: "Bad Idempotency-Key",
                                  detail: "Idempotency-Key must be 1 to 255 visible ASCII characters.")
                }
                commandContext.idempotencyKey = key
                commandContext.fingerprint = RequestFingerprint.of(method: head.method, path: head.path, body: context.request.body)
            }
        } catch {
            return responder.respond(Problem.from(error).response)
        }
        let correlation = head.headers["X-Correlation-ID"].flatMap { $0.utf8.count <= 128 ? $0 : nil } ?? RequestID.make()
        commandContext.correlationId = correlation
        commandContext.causationId = correlation
        if let overloaded = admission.admit() { return responder.respond(overloaded.response) }
        dispatch(commandContext, mode) { result in
            admission.release()
            switch result {
            case .success(let outcome):
                // The id comes from the outcome's stream: a replayed creation whose id the server
                // generated must answer the first request's id, not this request's fresh one.
                let body: JSONValue = [
                    "id": .string(entityID(of: outcome.stream) ?? id),
                    "version": outcome.version.map { .int(Int($0.value)) } ?? .null,
                    "position": .string(ConsistencyToken(store: storeName, position: outcome.position).description),
                ]
                var bytes: [UInt8] = []
                body.write(into: &bytes)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "ETag", value: EntityTag.forVersion(outcome.version))
                headers.add(name: "X-Correlation-ID", value: correlation)
                if outcome.replayed { headers.add(name: "Idempotent-Replayed", value: "true") }
                responder.respond(HTTPResponse(status: isCreation(outcome) ? 201 : 200, headers: headers, body: bytes))
            case .failure(let error):
                responder.respond(ErrorMapping.problem(for: error).response)
            }
        }
    }

    /// `customer-42` → `42`: stream names are `<category>-<id>`.
    static func entityID(of stream: StreamName) -> String? {
        guard let dash = stream.value.firstIndex(of: "-") else { return nil }
        return String(stream.value[stream.value.index(after: dash)...])
    }

    /// Decodes a command body: 415 unless JSON, 400 for malformed JSON, 422 naming the field
    /// for a missing field or a field of the wrong type.
    static func decode<T: Decodable>(_ type: T.Type, from request: HTTPRequest) throws -> T {
        guard request.hasJSONContentType else {
            throw Problem(status: 415, type: ProblemType.uri("unsupported-media-type"), title: "Unsupported Media Type",
                          detail: "Commands take Content-Type: application/json.")
        }
        if let command = JSONCoding.fastDecode(T.self, from: request.body) { return command }
        do {
            return try JSONDecoder().decode(T.self, from: Data(request.body))
        } catch let error as DecodingError {
            // Foundation reports a number that does not fit the field (10.5, 1e30 for an
            // integer) as corrupt data without a path; tell it apart from broken JSON.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
               (try? JSONSerialization.jsonObject(with: Data(request.body), options: [.fragmentsAllowed])) != nil {
                throw Problem(status: 422, type: ProblemType.uri("invalid-command"), title: "Unprocessable Content",
                              detail: "The command has invalid fields.",
                              extensions: ["errors": [["field": .string(numberField(in: request.body) ?? "(body)"), "code": "invalid-type",
                                                       "message": "must be an integer within range"]]])
            }
            throw problem(for: error)
        } catch {
            throw Problem(status: 400, type: ProblemType.uri("malformed-json"), title: "Malformed JSON", detail: "The body is not valid JSON.")
        }
    }

    /// The first member (dotted path, `[i]` for array elements) whose value is a number that is
    /// not an integer within Int64: what the decoder could not name.
    static func numberField(in body: [UInt8]) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body)) else { return nil }
        func search(_ value: Any, _ path: String) -> String? {
            if let dict = value as? [String: Any] {
                for key in dict.keys.sorted() {
                    if let hit = search(dict[key]!, path.isEmpty ? key : path + "." + key) { return hit }
                }
            } else if let array = value as? [Any] {
                for (i, v) in array.enumerated() { if let hit = search(v, path + "[\(i)]") { return hit } }
            } else if let number = value as? NSNumber, !(value is Bool) {
                let d = number.doubleValue
                if d != d.rounded() || abs(d) >= 9.2e18 || "\(number)".contains("e") { return path }
            }
            return nil
        }
        return search(root, "")
    }

    private static func problem(for error: DecodingError) -> Problem {
        func path(_ context: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            var keys = context.codingPath
            if let extra { keys.append(extra) }
            var out = ""
            for key in keys {
                if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
            }
            return out.isEmpty ? "(body)" : out
        }
        let field: String, message: String
        switch error {
        case .keyNotFound(let key, let context):
            field = path(context, key); message = "is required"
        case .typeMismatch(let type, let context):
            field = path(context); message = "must be \(describe(type))"
        case .valueNotFound(let type, let context):
            field = path(context); message = "must be \(describe(type)), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return Problem(status: 400, type: ProblemType.uri("malformed-json"), title: "Malformed JSON",
                               detail: "The body is not valid JSON.")
            }
            field = path(context); message = "has an invalid value"
        @unknown default:
            field = "(body)"; message = "is invalid"
        }
        return Problem(status: 422, type: ProblemType.uri("invalid-command"), title: "Unprocessable Content",
                       detail: "The command has invalid fields.",
                       extensions: ["errors": [["field": .string(field), "code": "invalid-type", "message": .string(message)]]])
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        case is [Any].Type: return "an array"
        default: return "an object" }
    }
}
