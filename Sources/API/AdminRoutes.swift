import CQRS
import HTTP
import JSON

/// `GET /admin/consistency`: rebuilds every service's read models from the stores and compares
/// them with the live ones (usable after tests, load runs and crashes). 200 when they agree,
/// 409 with the differences when not. The rebuilds read whole stores (off the loop, one service
/// after the other): an operator tool, not something to poll.
enum AdminRoutes {
    /// Runs the services' checks one after the other (each rebuilds off the loop) and answers
    /// with all their reports.
    private static func check(_ services: ArraySlice<ServiceAPI>, into body: [String: JSONValue], consistent: Bool,
                              _ responder: Responder) {
        guard let service = services.first, let run = service.consistency else {
            var body = body
            body["consistent"] = .bool(consistent)
            return responder.respond(OperationalRoutes.json(.object(body), status: consistent ? 200 : 409))
        }
        run { outcome in
            switch outcome {
            case .failure(let error):
                responder.respond(Problem(status: 500, detail: "Rebuild failed: \(error)").response)
            case .success(let report):
                var entry: [String: JSONValue] = ["consistent": .bool(report.consistent), "compared": .int(report.compared),
                                                  "differences": .array(report.differences.map { .string($0) })]
                for (name, count) in report.alsoCompared { entry[name] = .int(count) }
                var body = body
                body[service.name] = .object(entry)
                check(services.dropFirst(), into: body, consistent: consistent && report.consistent, responder)
            }
        }
    }

    static func install(on group: RouteGroup, services: @escaping () -> [ServiceAPI]?) {
        group.get("/consistency") { _, responder in
            guard let services = services() else {
                return responder.respond(Problem(status: 503, detail: "Services are not running.").response)
            }
            check(services.filter { $0.consistency != nil }[...], into: [:], consistent: true, responder)
        }
    }

    /// `GET /admin/trace/{id}`: every event of a correlation id across the stores (the saga of
    /// one request), oldest first, with causation ids to draw the chain.
    static func installTrace(on group: RouteGroup, tracer: CorrelationTracer) {
        group.get("/trace/{id}") { context, responder in
            let id = context.parameters["id"] ?? ""
            guard (1...128).contains(id.unicodeScalars.count) else {
                return responder.respond(Problem(status: 400, detail: "A correlation id is 1 to 128 characters.").response)
            }
            tracer.trace(id) { result in
                switch result {
                case .success(let entries):
                    guard let bytes = try? JSONCoding.encode(entries), case .array(let list) = JSONValue(jsonBytes: bytes) else {
                        return responder.respond(Problem(status: 500, detail: "Cannot encode the trace.").response)
                    }
                    responder.respond(OperationalRoutes.json(["correlationId": .string(id), "events": .array(list),
                                                              "count": .int(list.count)], status: 200))
                case .failure(let e):
                    responder.respond(error: e)
                }
            }
        }
    }
}
