import CQRS
import EventStore
import Foundation
import HTTP
import JSON

/// The command side of the HTTP API, the same for every service's commands: headers in
/// (`If-Match`, `Idempotency-Key`, `X-Correlation-ID`, `traceparent`), a `CommandRoute` run,
/// outcome or problem out.
///
/// Response body: `{"id", "version", "position"}` where `position` is a consistency token
/// of the service's store (`customers:42`); `ETag` is the new stream version.
enum CommandEndpoint {
    static func run(_ route: CommandRoute, service: String, _ context: RequestContext, _ responder: Responder) {
        let head = context.head
        guard context.request.hasJSONContentType || (route.acceptsEmptyBody && context.request.body.isEmpty) else {
            return responder.respond(Problem(status: 415, type: ProblemType.uri("unsupported-media-type"), title: "Unsupported Media Type",
                                             detail: "Commands take Content-Type: application/json.").response)
        }
        if let charset = context.request.contentTypeCharset, charset != "utf-8" {
            return responder.respond(Problem(status: 415, type: ProblemType.uri("unsupported-media-type"), title: "Unsupported Media Type",
                                             detail: "Commands take UTF-8 JSON: Content-Type charset \(charset) is not utf-8.").response)
        }
        var mode = ConcurrencyMode.retrying
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
            return responder.respond(error: error)
        }
        // W3C trace context: this command is a span of the caller's trace (a malformed or
        // repeated traceparent is ignored); without X-Correlation-ID the trace id correlates.
        let tracing = head.headers.values("traceparent")
        let span = tracing.count == 1 ? TraceParent(tracing[0])?.child() : nil
        if let span { commandContext.properties[TraceParent.property] = span.description }
        let correlation = head.headers["X-Correlation-ID"].flatMap { $0.utf8.count <= 128 ? $0 : nil } ?? span?.traceID ?? RequestID.make()
        commandContext.correlationId = correlation
        commandContext.causationId = correlation
        let request = CommandRequest(id: context.parameters["id"], body: context.request.body, context: commandContext,
                                     concurrency: mode, newID: RequestID.make)
        do {
            try route.run(request) { result in
                switch result {
                case .success(let outcome):
                    var answer = response(outcome, service: service, correlation: correlation)
                    if let span { answer.headers.add(name: "traceparent", value: span.description) }
                    responder.respond(answer)
                case .failure(let error):
                    responder.respond(error: error)
                }
            }
        } catch {
            responder.respond(error: error)
        }
    }

    private static func response(_ outcome: CommandResult, service: String, correlation: String) -> HTTPResponse {
        let body: JSONValue = [
            "id": .string(outcome.id),
            "version": outcome.version.map { .int(Int($0.value)) } ?? .null,
            "position": .string(ConsistencyToken(store: service, position: outcome.position).description),
        ]
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "ETag", value: EntityTag.forVersion(outcome.version))
        headers.add(name: "X-Correlation-ID", value: correlation)
        if outcome.replayed { headers.add(name: "Idempotent-Replayed", value: "true") }
        return HTTPResponse(status: outcome.created ? 201 : 200, headers: headers, body: body.bytes)
    }
}
