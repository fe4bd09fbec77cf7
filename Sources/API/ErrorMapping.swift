import CQRS
import EventStore
import HTTP
import JSON

// What the runtime's and the domain's errors mean in HTTP, each type stating its own problem
// (`HTTPResponseError`); `Problem.from` applies them. Transport errors are mapped in HTTP.

extension CommandError: HTTPResponseError {
    public var problem: Problem {
        switch self {
        case .domain(let domain):
            return domain.problem
        case let .versionMismatch(stream, expected, actual):
            var headers = HTTPHeaders()
            headers.add(name: "ETag", value: EntityTag.forVersion(actual))
            let now = actual.map { String($0.value) } ?? "no version (it does not exist)"
            var extensions: [String: JSONValue] = ["actualVersion": actual.map { .int(Int($0.value)) } ?? .null]
            let detail: String
            // `.end`: an If-Match tag that names no version (`EntityTag.expectedVersion`).
            if expected == .end {
                detail = "If-Match names no version of '\(stream)', which is at \(now)."
            } else {
                detail = "If-Match expected version \(expected.value) of '\(stream)', but it is at \(now)."
                extensions["expectedVersion"] = .int(Int(expected.value))
            }
            return Problem(status: 412, type: ProblemType.uri("version-mismatch"), title: "Version mismatch",
                           detail: detail, extensions: extensions, headers: headers)
        case let .streamAlreadyExists(stream, actual):
            return Problem(status: 409, type: ProblemType.uri("already-exists"), title: "Already exists",
                           detail: "'\(stream)' already exists (version \(actual.value)).")
        case .idempotencyKeyReused(let key):
            return Problem(status: 422, type: ProblemType.uri("idempotency-key-reused"), title: "Idempotency key reused",
                           detail: "Idempotency-Key '\(key)' was already used with a different request; use a new key for a new request.")
        case .alreadyApplied(let key):
            return Problem(status: 422, type: ProblemType.uri("idempotency-key-expired"), title: "Already applied",
                           detail: "A request with Idempotency-Key '\(key)' was applied before and its response is no longer retained.")
        case let .tooManyConflicts(stream, attempts):
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: "1")
            return Problem(status: 503, type: ProblemType.uri("contention"), title: "Too much contention",
                           detail: "'\(stream)' changed concurrently \(attempts) times while deciding; retry.", headers: headers)
        case let .corruptState(stream, _):
            return Problem(status: 500, type: ProblemType.uri("corrupt-state"), title: "Internal error",
                           detail: "Stored state of '\(stream)' could not be read; the operator has been told.")
        case .store(let storeError):
            return storeError.problem
        case .notReady(let reason):
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: "1")
            return Problem(status: 503, type: ProblemType.uri("not-ready"), title: "Not ready",
                           detail: "The server is still starting: \(reason). Retry shortly.", headers: headers)
        }
    }
}

extension DomainError: HTTPResponseError {
    public var problem: Problem {
        let status: Int
        switch kind {
        case .validation: status = 422
        case .conflict: status = 409
        case .notFound: status = 404
        }
        var extensions: [String: JSONValue] = ["code": .string(code)]
        if !fieldErrors.isEmpty {
            extensions["errors"] = .array(fieldErrors.map {
                .object(["field": .string($0.field), "code": .string($0.code), "message": .string($0.message)])
            })
        }
        return Problem(status: status, type: ProblemType.uri(code), title: HTTPStatus.reasonPhrase(status),
                       detail: message, extensions: extensions)
    }
}

extension EventStoreError: HTTPResponseError {
    /// A store that cannot take writes is the server's condition, not the client's: 503 with
    /// `Retry-After`, and the problem says why (disk full, I/O error).
    public var problem: Problem {
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: "5")
        return Problem(status: 503, type: ProblemType.uri("store-unavailable"), title: "Store unavailable",
                       detail: "The event store cannot accept writes: \(self).", headers: headers)
    }
}

extension QueryError: HTTPResponseError {
    /// A 400 naming the parameter.
    public var problem: Problem { badParameter(parameter, message) }
}

extension JSONBodyError: HTTPResponseError {
    /// 400 for a body that is not JSON, not UTF-8 or open to two readings, 422 naming the field
    /// for a missing or mistyped one.
    public var problem: Problem {
        switch self {
        case .malformed(let reason):
            return Problem(status: 400, type: ProblemType.uri("malformed-json"), title: "Malformed JSON",
                           detail: "The body is not valid JSON" + (reason.map { ": \($0)." } ?? "."))
        case .notUTF8(let offset):
            return Problem(status: 400, type: ProblemType.uri("body-not-utf8"), title: "Body not UTF-8",
                           detail: "The body is not UTF-8 (byte \(offset) starts no valid UTF-8 sequence); JSON between systems must be UTF-8 (RFC 8259, section 8.1).")
        case let .ambiguousMember(member, unnormalized):
            let detail = unnormalized
                ? "The member name \(member) is not in Unicode Normalization Form C; parsers that compare code points and parsers that compare text would read different names."
                : "The body names the member \(member) twice; parsers differ on which one counts, so each member must appear once (RFC 7493, section 2.3)."
            return Problem(status: 400, type: ProblemType.uri(unnormalized ? "unnormalized-json-member" : "duplicate-json-member"),
                           title: unnormalized ? "Member name not in NFC" : "Duplicate JSON member", detail: detail,
                           extensions: ["errors": [["field": .string(member), "code": .string(unnormalized ? "unnormalized" : "duplicate"),
                                                    "message": .string(unnormalized ? "is not in Unicode NFC" : "appears more than once")]]])
        case let .invalidField(field, message):
            return Problem(status: 422, type: ProblemType.uri("invalid-command"), title: "Unprocessable Content",
                           detail: "The command has invalid fields.",
                           extensions: ["errors": [["field": .string(field), "code": "invalid-type", "message": .string(message)]]])
        }
    }
}
