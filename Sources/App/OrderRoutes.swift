import CQRS
import EventStore
import Foundation
import HTTP
import Orders

/// `/commands/orders/...`, `/queries/orders/...` and `/queries/stats` over `OrdersService`.
enum OrderRoutes {
    private struct PlaceBody: Decodable { var orderId: String?; var customerId: String; var currency: String; var lines: [OrderLine] }
    private struct RemoveLineBody: Decodable { var sku: String }
    private struct CancelBody: Decodable { var reason: String }
    private struct EmptyBody: Decodable {}

    static func install(on router: Router, service: OrdersService, admission: CommandAdmission) {
        let details = DocumentCache<OrderView>()
        router.post("/commands/orders/place") { context, responder in
            command(context, responder, service: service, admission: admission, id: nil) { request -> (String, OrderCommand) in
                let b = try CommandEndpoint.decode(PlaceBody.self, from: request)
                return (b.orderId ?? RequestID.make(),
                        .place(PlaceOrder(customerId: b.customerId, currency: b.currency, lines: b.lines)))
            }
        }
        router.post("/commands/orders/{id}/add-line") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                ("", .addLine(try CommandEndpoint.decode(OrderLine.self, from: $0)))
            }
        }
        router.post("/commands/orders/{id}/remove-line") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                ("", .removeLine(sku: try CommandEndpoint.decode(RemoveLineBody.self, from: $0).sku))
            }
        }
        router.post("/commands/orders/{id}/cancel") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                ("", .cancel(reason: try CommandEndpoint.decode(CancelBody.self, from: $0).reason))
            }
        }
        router.post("/commands/orders/{id}/ship") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                if !$0.body.isEmpty { _ = try CommandEndpoint.decode(EmptyBody.self, from: $0) }
                return ("", .ship)
            }
        }

        router.get("/queries/orders") { context, responder in
            QueryEndpoint.run(context, responder, sources: sources(service)) {
                let q = context.query
                var status: OrderStatus?
                if let s = q["status"] {
                    guard let parsed = OrderStatus(rawValue: s) else {
                        throw badParameter("status", "must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    status = parsed
                }
                let limit = try q.integer("limit").map { Int(clamping: $0) }
                do {
                    return try .json(service.orders(customerId: q["customerId"], status: status, cursor: q["cursor"], limit: limit))
                } catch let e as QueryError {
                    throw badParameter(e.parameter, e.message)
                }
            }
        }
        router.get("/queries/orders/{id}") { context, responder in
            let id = context.parameters["id"] ?? ""
            QueryEndpoint.run(context, responder, sources: sources(service)) {
                let q = context.query
                let version = try q.integer("version"), asOf = try q.timestamp("asOf")
                if version != nil || asOf != nil {
                    do {
                        return try service.order(id, atVersion: version, asOf: asOf).map { try .json($0, version: $0.version) }
                    } catch let e as QueryError {
                        throw badParameter(e.parameter, e.message)
                    }
                }
                return try service.order(id).map { try details.document(for: id, view: $0, version: $0.version) }
            }
        }
        router.get("/queries/orders/{id}/history") { context, responder in
            let id = context.parameters["id"] ?? ""
            QueryEndpoint.run(context, responder, sources: sources(service)) {
                try service.history(id).map { try .json(["orderId": AnyEncodable(id), "events": AnyEncodable($0)]) }
            }
        }
        router.get("/queries/stats") { context, responder in
            QueryEndpoint.run(context, responder, sources: [sources(service)[0]]) {
                try .json(service.stats())
            }
        }
    }

    private static func sources(_ service: OrdersService) -> [QueryEndpoint.Source] {
        [QueryEndpoint.Source(name: "orders", position: { service.positions.own }) { p, t, c in
            service.wait(forPosition: p, in: .own, timeout: t, completion: c)
         },
         QueryEndpoint.Source(name: "public", position: { service.positions.publicLog }) { p, t, c in
            service.wait(forPosition: p, in: .publicLog, timeout: t, completion: c)
         }]
    }

    private static func command(_ context: RequestContext, _ responder: Responder, service: OrdersService, admission: CommandAdmission, id: String?,
                                decode: (HTTPRequest) throws -> (String, OrderCommand)) {
        let decoded: (String, OrderCommand)
        do { decoded = try decode(context.request) } catch { return responder.respond(Problem.from(error).response) }
        let target = id ?? decoded.0
        CommandEndpoint.run(context, responder, id: target, storeName: "orders", admission: admission,
                            isCreation: { $0.createdStream }) { commandContext, mode, completion in
            service.handle(decoded.1, orderId: target, context: commandContext, concurrency: mode, completion: completion)
        }
    }
}
