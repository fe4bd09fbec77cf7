import Foundation
import CQRS
import EventStore
import JSON

/// The request bodies of the customer commands (`openapi/api.yaml`).
public enum CustomerCommandBodies {
    public struct Register: Codable, Equatable {
        public var customerId: String?; public var name: String; public var email: String
        public var creditLimit: Int64; public var currency: String
    }
    public struct Rename: Codable, Equatable { public var name: String }
    public struct ChangeEmail: Codable, Equatable { public var email: String }
    public struct ChangeCreditLimit: Codable, Equatable { public var creditLimit: Int64 }
    public typealias Empty = NoMembersBody
}

extension CustomersService {
    /// The service's API: commands, queries and live views (served by the API and LiveFeeds
    /// modules). Make it once: its live views register the change listeners.
    public func makeAPI() -> ServiceAPI {
        var api = ServiceAPI(name: Self.name, positions: runtime)
        var commands = CommandRoutes<CustomerCommand, CustomerEvent>(identity: CustomerID.identity, isCreation: Self.isCreation) {
            [unowned self] command, id, context, mode, completion in
            handle(command, customerId: id, context: context, concurrency: mode, completion: completion)
        }
        typealias B = CustomerCommandBodies
        commands.create("register", B.Register.self, id: \.customerId) { id, b in
            .register(RegisterCustomer(customerId: id, name: b.name, email: b.email, creditLimit: b.creditLimit, currency: b.currency))
        }
        commands.update("rename", B.Rename.self) { .rename(name: $0.name) }
        commands.update("change-email", B.ChangeEmail.self) { .changeEmail(email: $0.email) }
        commands.update("change-credit-limit", B.ChangeCreditLimit.self) { .changeCreditLimit(creditLimit: $0.creditLimit) }
        commands.update("deactivate", B.Empty.self, emptyBody: true) { _ in .deactivate }
        api.commands = commands.routes

        let details = DocumentCache<CustomerView>()
        api.queries = [
            QueryRoute(.list) { [unowned self] q in
                let a = q.arguments
                let limit = try a.integer("limit").map { Int(clamping: $0) }
                let page = try listCustomers(status: try a.choice("status", CustomerStatus.self), cursor: a["cursor"], limit: limit)
                return try details.document(for: page, key: { $0.customerId }, version: { $0.version })
            },
            QueryRoute(.item, reading: { [unowned self] q, completion in
                let id = q.id ?? "", a = q.arguments
                let version: Int64?, asOf: Date?
                do { (version, asOf) = (try a.integer("version"), try a.timestamp("asOf")) } catch { return completion(.failure(error)) }
                if version != nil || asOf != nil {
                    return customer(id, atVersion: version, asOf: asOf) { read in
                        completion(Result { try read.get().map { try .json($0, version: $0.version) } })
                    }
                }
                completion(Result { try customer(id).map { try details.document(for: id, view: $0, version: $0.version) } })
            }),
            QueryRoute(.history, reading: { [unowned self] q, completion in
                let id = q.id ?? ""
                history(of: id) { read in
                    completion(Result { try read.get().map { try .json(CustomerHistory(customerId: id, events: $0)) } })
                }
            }),
        ]

        api.liveViews = [
            LiveView(.documents(event: "customer") { [unowned self] id in customer(id).flatMap { try? JSONCoding.encode($0) } }) {
                [unowned self] listener in
                let changed: (String) -> Void = { listener(LiveChange(id: $0)) }
                directory.onChange = changed
                orderActivity.onChange = changed
            },
        ]
        api.consistency = { [unowned self] completion in rebuildAndCompare(completion: completion) }
        return api
    }
}

/// `GET /queries/customers/{id}/history`.
public struct CustomerHistory: Codable, Hashable, Sendable {
    public var customerId: String
    public var events: [HistoryEntry]
}
