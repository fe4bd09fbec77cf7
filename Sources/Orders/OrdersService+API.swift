import Foundation
import CQRS
import EventStore
import JSON

/// The request bodies of the order commands (`openapi/api.yaml`).
public enum OrderCommandBodies {
    public struct Place: Codable, Equatable {
        public var orderId: String?; public var customerId: String; public var currency: String; public var lines: [OrderLine]
    }
    public struct RemoveLine: Codable, Equatable { public var sku: String }
    public struct Cancel: Codable, Equatable { public var reason: String }
    public typealias Empty = NoMembersBody
}

extension OrdersService {
    /// The service's API: commands, queries and live views (served by the API and LiveFeeds
    /// modules). Make it once: its live views register the change listeners.
    public func makeAPI() -> ServiceAPI {
        var api = ServiceAPI(name: Self.source, positions: runtime)
        var commands = CommandRoutes<OrderCommand, OrderEvent>(identity: Self.identity, isCreation: { $0.createdStream }) {
            [unowned self] command, id, context, mode, completion in
            handle(command, orderId: id, context: context, concurrency: mode, completion: completion)
        }
        typealias B = OrderCommandBodies
        commands.create("place", B.Place.self, id: \.orderId) { _, b in
            .place(PlaceOrder(customerId: b.customerId, currency: b.currency, lines: b.lines))
        }
        commands.update("add-line", OrderLine.self) { .addLine($0) }
        commands.update("remove-line", B.RemoveLine.self) { .removeLine(sku: $0.sku) }
        commands.update("cancel", B.Cancel.self) { .cancel(reason: $0.reason) }
        commands.update("ship", B.Empty.self, emptyBody: true) { _ in .ship }
        api.commands = commands.routes

        let details = DocumentCache<OrderView>()
        api.queries = [
            QueryRoute(.list) { [unowned self] q in try details.document(for: page(q.arguments), key: { $0.orderId }, version: { $0.version }) },
            QueryRoute(.item, reading: { [unowned self] q, completion in
                let id = q.id ?? "", a = q.arguments
                let version: Int64?, asOf: Date?
                do { (version, asOf) = (try a.integer("version"), try a.timestamp("asOf")) } catch { return completion(.failure(error)) }
                if version != nil || asOf != nil {
                    return order(id, atVersion: version, asOf: asOf) { read in
                        completion(Result { try read.get().map { try .json($0, version: $0.version) } })
                    }
                }
                completion(Result { try order(id).map { try details.document(for: id, view: $0, version: $0.version) } })
            }),
            QueryRoute(.history, reading: { [unowned self] q, completion in
                let id = q.id ?? ""
                history(id) { read in completion(Result { try read.get().map { try .json(OrderHistory(orderId: id, events: $0)) } }) }
            }),
            QueryRoute(.named("stats"), feeds: [.own]) { [unowned self] _ in try .json(stats()) },
        ]

        // One listener on the views feeds every live view of orders.
        var listeners: [(LiveChange) -> Void] = []
        let register: (@escaping (LiveChange) -> Void) -> Void = { [unowned self] listener in
            listeners.append(listener)
            if listeners.count == 1 {
                addViewChangeListener { [unowned self] change in
                    let before = change.previousStatus.map { ["status": $0.rawValue, "customerId": views.order(change.orderId)?.customerId ?? ""] }
                    let live = LiveChange(id: change.orderId, previousAttributes: before)
                    for l in listeners { l(live) }
                }
            }
        }
        api.liveViews = [
            LiveView(.documents(event: "order") { [unowned self] id in order(id).flatMap { try? JSONCoding.encode($0) } },
                     observe: { l in register(l) }),
            LiveView(.list(filters: ["customerId", "status"], snapshot: { [unowned self] a in try JSONCoding.encode(page(a, cursor: false)) },
                           document: { [unowned self] id in
                               guard let v = order(id), let json = try? JSONCoding.encode(v) else { return nil }
                               return (json, ["customerId": v.customerId, "status": v.status.rawValue])
                           }),
                     observe: { l in register(l) }),
            LiveView(.single(name: "stats", event: "stats") { [unowned self] in try? JSONCoding.encode(stats()) }, feeds: [.own],
                     observe: { l in register(l) }),
        ]
        api.consistency = { [unowned self] completion in checkConsistency(completion: completion) }
        return api
    }

    /// The list query from its arguments (`customerId`, `status`, `cursor`, `limit`).
    private func page(_ a: QueryArguments, cursor: Bool = true) throws -> OrderPage {
        let limit = try a.integer("limit").map { Int(clamping: $0) }
        return try orders(customerId: a["customerId"], status: try a.choice("status", OrderStatus.self),
                          cursor: cursor ? a["cursor"] : nil, limit: limit)
    }
}

/// `GET /queries/orders/{id}/history`.
public struct OrderHistory: Codable, Hashable, Sendable {
    public var orderId: String
    public var events: [HistoryEntry]
}
