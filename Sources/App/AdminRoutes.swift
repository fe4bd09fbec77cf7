import HTTP
import JSON

/// `GET /admin/consistency`: rebuilds every read model from the stores and compares it with
/// the live one (usable after tests, load runs and crashes). 200 when they agree, 409 with
/// the differences when not. The rebuild reads whole stores on the loop thread: an operator
/// tool, not something to poll.
enum AdminRoutes {
    static func install(on router: Router, services: @escaping () -> Services?) {
        router.get("/admin/consistency") { _, responder in
            guard let services = services() else {
                return responder.respond(Problem(status: 503, detail: "Services are not running.").response)
            }
            do {
                let customers = try services.customers.rebuildAndCompare()
                let orders = try services.orders.checkConsistency()
                let consistent = customers.consistent && orders.consistent
                let body: JSONValue = [
                    "consistent": .bool(consistent),
                    "customers": ["consistent": .bool(customers.consistent), "compared": .int(customers.compared),
                                  "differences": .array(customers.differences.prefix(50).map { .string($0) })],
                    "orders": ["consistent": .bool(orders.consistent), "compared": .int(orders.compared),
                               "customersCompared": .int(orders.alsoCompared["customersCompared"] ?? 0),
                               "differences": .array(orders.differences.prefix(50).map { .string($0) })],
                ]
                responder.respond(OperationalRoutes.json(body, status: consistent ? 200 : 409))
            } catch {
                responder.respond(Problem(status: 500, detail: "Rebuild failed: \(error)").response)
            }
        }
    }
}
