import CQRS
import Customers
import EventStore
import Foundation
import HTTP

/// `/commands/customers/...` and `/queries/customers/...` over `CustomersService`.
enum CustomerRoutes {
    private struct RegisterBody: Decodable { var customerId: String?; var name: String; var email: String; var creditLimit: Int64; var currency: String }
    private struct RenameBody: Decodable { var name: String }
    private struct EmailBody: Decodable { var email: String }
    private struct CreditLimitBody: Decodable { var creditLimit: Int64 }
    private struct EmptyBody: Decodable {}

    static func install(on router: Router, service: CustomersService, admission: CommandAdmission) {
        let details = DocumentCache<CustomerView>()
        router.post("/commands/customers/register") { context, responder in
            command(context, responder, service: service, admission: admission, id: nil) { body -> (String, CustomerCommand) in
                let b = try CommandEndpoint.decode(RegisterBody.self, from: body)
                let id = b.customerId ?? RequestID.make()
                return (id, .register(RegisterCustomer(customerId: id, name: b.name, email: b.email,
                                                       creditLimit: b.creditLimit, currency: b.currency)))
            }
        }
        router.post("/commands/customers/{id}/rename") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                ("", .rename(name: try CommandEndpoint.decode(RenameBody.self, from: $0).name))
            }
        }
        router.post("/commands/customers/{id}/change-email") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                ("", .changeEmail(email: try CommandEndpoint.decode(EmailBody.self, from: $0).email))
            }
        }
        router.post("/commands/customers/{id}/change-credit-limit") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                ("", .changeCreditLimit(creditLimit: try CommandEndpoint.decode(CreditLimitBody.self, from: $0).creditLimit))
            }
        }
        router.post("/commands/customers/{id}/deactivate") { context, responder in
            command(context, responder, service: service, admission: admission, id: context.parameters["id"]) {
                if !$0.body.isEmpty { _ = try CommandEndpoint.decode(EmptyBody.self, from: $0) }
                return ("", .deactivate)
            }
        }

        router.get("/queries/customers") { context, responder in
            QueryEndpoint.run(context, responder, sources: sources(service)) {
                let q = context.query
                var status: CustomerStatus?
                if let s = q["status"] {
                    guard let parsed = CustomerStatus(rawValue: s) else {
                        throw badParameter("status", "must be one of \(CustomerStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    status = parsed
                }
                let limit = try q.integer("limit").map { Int(clamping: $0) }
                do {
                    return try .json(service.listCustomers(status: status, cursor: q["cursor"], limit: limit))
                } catch let e as QueryError {
                    throw badParameter(e.parameter, e.message)
                }
            }
        }
        router.get("/queries/customers/{id}") { context, responder in
            let id = context.parameters["id"] ?? ""
            QueryEndpoint.run(context, responder, sources: sources(service)) {
                let q = context.query
                let version = try q.integer("version"), asOf = try q.timestamp("asOf")
                if version != nil || asOf != nil {
                    do {
                        return try service.customer(id, atVersion: version, asOf: asOf).map { try .json($0, version: $0.version) }
                    } catch let e as QueryError {
                        throw badParameter(e.parameter, e.message)
                    }
                }
                return try service.customer(id).map { try details.document(for: id, view: $0, version: $0.version) }
            }
        }
        router.get("/queries/customers/{id}/history") { context, responder in
            let id = context.parameters["id"] ?? ""
            QueryEndpoint.run(context, responder, sources: sources(service)) {
                try service.history(of: id).map { try .json(["customerId": AnyEncodable(id), "events": AnyEncodable($0)]) }
            }
        }
    }

    private static func sources(_ service: CustomersService) -> [QueryEndpoint.Source] {
        [QueryEndpoint.Source(name: "customers", position: { service.positions.own }) { p, t, c in
            service.wait(forPosition: p, in: .own, timeout: t, completion: c)
         },
         QueryEndpoint.Source(name: "public", position: { service.positions.publicLog }) { p, t, c in
            service.wait(forPosition: p, in: .publicLog, timeout: t, completion: c)
         }]
    }

    /// Decodes the command (`id` nil: the body names or generates it) and runs it.
    private static func command(_ context: RequestContext, _ responder: Responder, service: CustomersService, admission: CommandAdmission, id: String?,
                                decode: (HTTPRequest) throws -> (String, CustomerCommand)) {
        let decoded: (String, CustomerCommand)
        do { decoded = try decode(context.request) } catch { return responder.respond(Problem.from(error).response) }
        let target = id ?? decoded.0
        CommandEndpoint.run(context, responder, id: target, storeName: "customers", admission: admission,
                            isCreation: CustomersService.isCreation) { commandContext, mode, completion in
            service.handle(decoded.1, customerId: target, context: commandContext, concurrency: mode, completion: completion)
        }
    }
}

/// Type erasure for small hand-assembled JSON documents.
struct AnyEncodable: Encodable {
    private let encodeTo: (Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeTo = value.encode }
    func encode(to encoder: Encoder) throws { try encodeTo(encoder) }
}
