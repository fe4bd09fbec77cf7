import CQRS
import EventStore
import Foundation
import HTTP
import JSON

/// The operator's moves on runtime components, under `/admin` (scope `admin`): parked events
/// (list, retry, skip), resuming a stopped read model or consumer, rebuilding a read model
/// live, and the audit trail of all of it. Each move is recorded in the service's operations
/// journal, with who asked (the API token's name) and why (the body's `reason`), before it
/// takes effect.
enum OperatorRoutes {
    /// What every move's body carries: why (required), and for a resume where to start.
    struct MoveBody: Decodable {
        var reason: String
        var from: String?
    }

    static func install(on group: RouteGroup, services running: @escaping () -> [RunningService]?, tokens: APITokenSet,
                        role: ProcessRole) {
        let services = { running().map { $0.compactMap { $0 as? OperatedService } } }
        group.get("/parked") { _, responder in
            guard let running = services() else { return responder.respond(notRunning) }
            var all: [JSONValue] = []
            for service in running {
                for entry in service.parkedEvents { all.append(json(entry, service: service.name)) }
            }
            responder.respond(OperationalRoutes.json(["parked": .array(all), "count": .int(all.count)], status: 200))
        }
        group.post("/parked/{service}/{component}/retry") { context, responder in
            move(context, responder, services, tokens, role) { service, component, note, done in
                service.retryParked(component: component, position: nil, note: note.note) { done($0.map { entries in
                    ["retried": .array(entries.map { json($0, service: service.name) }), "count": .int(entries.count)]
                }) }
            }
        }
        group.post("/parked/{service}/{component}/{position}/retry") { context, responder in
            move(context, responder, services, tokens, role) { service, component, note, done in
                guard let position = position(context) else { return done(.failure(.notFound("no such parked event"))) }
                service.retryParked(component: component, position: position, note: note.note) { done($0.map { entries in
                    entries.first.map { json($0, service: service.name) } ?? .null
                }) }
            }
        }
        group.post("/parked/{service}/{component}/{position}/skip") { context, responder in
            move(context, responder, services, tokens, role) { service, component, note, done in
                guard let position = position(context) else { return done(.failure(.notFound("no such parked event"))) }
                service.skipParked(component: component, position: position, note: note.note) { done($0.map { json($0, service: service.name) }) }
            }
        }
        group.post("/components/{service}/{component}/resume") { context, responder in
            move(context, responder, services, tokens, role) { service, component, note, done in
                service.resume(component: component, skipping: note.from == "next", note: note.note) {
                    done($0.map { json($0, service: service.name) })
                }
            }
        }
        group.post("/components/{service}/{component}/rebuild") { context, responder in
            move(context, responder, services, tokens, role, accepted: true) { service, component, note, done in
                service.rebuild(component: component, note: note.note) { done($0.map { json($0, service: service.name) }) }
            }
        }
        group.get("/operations/{service}") { context, responder in
            guard let running = services() else { return responder.respond(notRunning) }
            guard let service = running.first(where: { $0.name == context.parameters["service"] }) else {
                return responder.respond(Problem(status: 404, detail: "No service named '\(context.parameters["service"] ?? "")'.").response)
            }
            service.operations { result in
                switch result {
                case .success(let entries):
                    let list = entries.map { json($0, service: service.name) }
                    responder.respond(OperationalRoutes.json(["entries": .array(list), "count": .int(list.count)], status: 200))
                case .failure(let e):
                    responder.respond(problem(e))
                }
            }
        }
    }

    /// The note a move is recorded with, and where a resume starts.
    struct Note {
        var note: OperatorNote
        var from: String
        var by: String { note.by }
    }

    /// Reads the body and the service, runs `act`, answers with what it returns (200, or 202
    /// for a move that goes on after the answer) or its problem.
    private static func move(_ context: RequestContext, _ responder: Responder, _ services: () -> [OperatedService]?,
                             _ tokens: APITokenSet, _ role: ProcessRole, accepted: Bool = false,
                             _ act: (OperatedService, String, Note, @escaping (Result<JSONValue, OperationError>) -> Void) -> Void) {
        guard let running = services() else { return responder.respond(notRunning) }
        // A move is recorded in the service's store: only its writer makes one.
        if let refused = role.writeRefusal() { return responder.respond(refused.response) }
        let note: Note
        do { note = try readNote(context, tokens: tokens) } catch { return responder.respond(error: error) }
        guard let service = running.first(where: { $0.name == context.parameters["service"] }) else {
            return responder.respond(Problem(status: 404, detail: "No service named '\(context.parameters["service"] ?? "")'.").response)
        }
        act(service, context.parameters["component"] ?? "", note) { result in
            switch result {
            case .success(let body): responder.respond(OperationalRoutes.json(body, status: accepted ? 202 : 200))
            case .failure(let e): responder.respond(problem(e))
            }
        }
    }

    private static func readNote(_ context: RequestContext, tokens: APITokenSet) throws -> Note {
        guard context.request.hasJSONContentType else {
            throw Problem(status: 415, type: ProblemType.uri("unsupported-media-type"), title: "Unsupported Media Type",
                          detail: "Operator moves take Content-Type: application/json with a 'reason'.")
        }
        let body = try JSONBody.decode(MoveBody.self, from: context.request.body)
        // What the spec says: 1 to 500 characters (code points), not only whitespace; kept trimmed.
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, body.reason.unicodeScalars.count <= 500 else {
            throw DomainError.validation("invalid-operator-move", "Every operator move says why: 'reason' must be 1 to 500 characters, not only whitespace.",
                                         fields: [FieldError(field: "reason", code: reason.isEmpty ? "required" : "too-long",
                                                             message: "must be 1 to 500 characters, not only whitespace")])
        }
        let from = body.from ?? "failed"
        guard from == "failed" || from == "next" else {
            throw DomainError.validation("invalid-operator-move", "'from' is 'failed' (the event that stopped it) or 'next' (the one after).",
                                         fields: [FieldError(field: "from", code: "invalid", message: "must be 'failed' or 'next'")])
        }
        return Note(note: OperatorNote(by: who(context.head, tokens: tokens), reason: reason), from: from)
    }

    /// Who made the move: the API token's name (the gate let it through), `development`
    /// without tokens.
    static func who(_ head: HTTPRequestHead, tokens: APITokenSet) -> String {
        guard !tokens.isEmpty else { return "development" }
        guard let header = head.headers["Authorization"], let presented = AuthGate.bearerToken(header),
              let token = tokens.token(presented: presented) else { return "unknown" }
        return token.name
    }

    private static func position(_ context: RequestContext) -> LogPosition? {
        guard let text = context.parameters["position"], let value = UInt64(text), value > 0 else { return nil }
        return LogPosition(value)
    }

    static func json(_ entry: OperationEntry, service: String) -> JSONValue {
        guard let bytes = try? JSONCoding.encode(entry), case .object(var o) = JSONValue(jsonBytes: bytes) else { return .null }
        o["service"] = .string(service)
        return .object(o)
    }

    private static func problem(_ e: OperationError) -> HTTPResponse {
        switch e {
        case .notFound(let d): return Problem(status: 404, detail: d).response
        case .conflict(let d): return Problem(status: 409, type: ProblemType.uri("operator-move-conflict"), title: "Conflict", detail: d).response
        case .unavailable(let d):
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: "1")
            return Problem(status: 503, type: ProblemType.uri("journal-unavailable"), title: "Service Unavailable", detail: d,
                           headers: headers).response
        }
    }

    private static let notRunning: HTTPResponse = {
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: "1")
        return Problem(status: 503, type: ProblemType.uri("not-ready"), title: "Not ready", detail: "The services are starting.",
                       headers: headers).response
    }()
}
