import CQRS
import HTTP
import JSON

/// `GET /admin/consistency`: rebuilds every service's read models from the stores and compares
/// them with the live ones (usable after tests, load runs and crashes). 200 when they agree,
/// 409 with the differences when not. The rebuild reads whole stores on the loop thread: an
/// operator tool, not something to poll.
enum AdminRoutes {
    static func install(on group: RouteGroup, services: @escaping () -> [ServiceAPI]?) {
        group.get("/consistency") { _, responder in
            guard let services = services() else {
                return responder.respond(Problem(status: 503, detail: "Services are not running.").response)
            }
            do {
                var body: [String: JSONValue] = [:]
                var consistent = true
                for service in services {
                    guard let check = service.consistency else { continue }
                    let report = try check()
                    consistent = consistent && report.consistent
                    var entry: [String: JSONValue] = ["consistent": .bool(report.consistent), "compared": .int(report.compared),
                                                      "differences": .array(report.differences.map { .string($0) })]
                    for (name, count) in report.alsoCompared { entry[name] = .int(count) }
                    body[service.name] = .object(entry)
                }
                body["consistent"] = .bool(consistent)
                responder.respond(OperationalRoutes.json(.object(body), status: consistent ? 200 : 409))
            } catch {
                responder.respond(Problem(status: 500, detail: "Rebuild failed: \(error)").response)
            }
        }
    }
}
