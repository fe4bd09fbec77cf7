import CQRS
import Customers
import Foundation
import HTTP
import Orders
import UV
import JSON

/// The read-model streams: `/streams/queries/customers/{id}`, `/streams/queries/orders/{id}`
/// (several ids: `a,b` in the path or `?ids=a,b`), `/streams/queries/orders?customerId=&status=`
/// (a list view) and `/streams/queries/stats`.
///
/// Change notifications come from the projections (called after each applied event); they only
/// mark ids dirty. One flush per batch (queued with `loop.execute`, so it runs after the
/// projection has finished the batch and its position is updated) renders each changed document
/// once and writes it to every subscriber of that id. Several changes of one document in one
/// batch become one message (the latest state).
///
/// Event ids are consistency tokens (`orders:12,public:40`): usable as `?minPosition=` on the
/// query API. Resuming a query stream (any `Last-Event-ID`) sends the current document(s) or
/// list snapshot again first: documents are state, not a log, so "current state, then changes"
/// never loses anything.
final class QueryStreamFeeds {
    private final class DocumentMember {
        let subscriber: StreamSubscriber
        init(_ s: StreamSubscriber) { subscriber = s }
    }
    private final class ListMember {
        let subscriber: StreamSubscriber
        let customerId: String?
        let status: OrderStatus?
        init(_ s: StreamSubscriber, customerId: String?, status: OrderStatus?) {
            subscriber = s; self.customerId = customerId; self.status = status
        }
    }

    private let customers: CustomersService
    private let orders: OrdersService
    private let loop: EventLoop
    private let registry: StreamRegistry
    private var customerMembers: [String: [ObjectIdentifier: DocumentMember]] = [:]
    private var orderMembers: [String: [ObjectIdentifier: DocumentMember]] = [:]
    private var listMembers: [ObjectIdentifier: ListMember] = [:]
    private var statsMembers: [ObjectIdentifier: StreamSubscriber] = [:]
    private var dirtyCustomers: Set<String> = []
    /// Changed orders with their status before the first change of this batch.
    private var dirtyOrders: [String: OrderStatus?] = [:]
    private var flushQueued = false
    private var lastStats: [UInt8] = []
    private var closed = false

    init(customers: CustomersService, orders: OrdersService, loop: EventLoop, registry: StreamRegistry) {
        self.customers = customers
        self.orders = orders
        self.loop = loop
        self.registry = registry
        let customerChanged: (String) -> Void = { [weak self] id in self?.customerChanged(id) }
        customers.directory.onChange = customerChanged
        customers.orderActivity.onChange = customerChanged
        orders.addViewChangeListener { [weak self] change in self?.orderChanged(change) }
    }

    func close() {
        closed = true
        customerMembers = [:]
        orderMembers = [:]
        listMembers = [:]
        statsMembers = [:]
    }

    // MARK: Change notifications (cheap: called for every event, also during replay)

    private func customerChanged(_ id: String) {
        guard customerMembers[id] != nil else { return }
        dirtyCustomers.insert(id)
        queueFlush()
    }

    private func orderChanged(_ change: OrderViewChange) {
        guard orderMembers[change.orderId] != nil || !listMembers.isEmpty || !statsMembers.isEmpty else { return }
        if dirtyOrders.index(forKey: change.orderId) == nil { dirtyOrders[change.orderId] = change.previousStatus }
        queueFlush()
    }

    private func queueFlush() {
        guard !flushQueued, !closed else { return }
        flushQueued = true
        loop.execute { [weak self] in self?.flush() }
    }

    private func flush() {
        flushQueued = false
        guard !closed else { return }
        let changedCustomers = dirtyCustomers
        let changedOrders = dirtyOrders
        dirtyCustomers = []
        dirtyOrders = [:]
        if !changedCustomers.isEmpty {
            let id = customerToken()
            for cid in changedCustomers {
                guard let members = customerMembers[cid], let frame = customerFrame(cid, id: id) else { continue }
                for m in members.values { m.subscriber.send(frame, events: 1) }
            }
        }
        guard !changedOrders.isEmpty else { return }
        let id = orderToken()
        for (oid, _) in changedOrders {
            guard let members = orderMembers[oid], let frame = orderFrame(oid, id: id) else { continue }
            for m in members.values { m.subscriber.send(frame, events: 1) }
        }
        if !listMembers.isEmpty { flushLists(changedOrders, id: id) }
        if !statsMembers.isEmpty, let stats = try? JSONCoding.encode(orders.stats()), stats != lastStats {
            lastStats = stats
            let frame = Self.frame(id: statsToken(), event: "stats", json: stats)
            for s in statsMembers.values { s.send(frame, events: 1) }
        }
    }

    /// For each list member: `upsert` for a changed order in its view, `remove` for one that left it.
    private func flushLists(_ changed: [String: OrderStatus?], id: String) {
        var documents: [String: (OrderView, [UInt8])] = [:]
        for (oid, _) in changed {
            if let v = orders.order(oid), let json = try? JSONCoding.encode(v) { documents[oid] = (v, json) }
        }
        for m in listMembers.values {
            var out: [UInt8] = []
            var n = 0
            for (oid, previous) in changed {
                guard let (view, json) = documents[oid] else { continue }
                if let c = m.customerId, view.customerId != c { continue }
                let now = m.status.map { view.status == $0 } ?? true
                let before = previous.map { p in m.status.map { p == $0 } ?? true } ?? false
                if now {
                    out += Self.frame(id: id, event: "upsert", json: json)
                } else if before {
                    out += Self.frame(id: id, event: "remove", json: json)
                } else { continue }
                n += 1
            }
            if n > 0 { m.subscriber.send(out, events: n) }
        }
    }

    // MARK: Rendering

    private func customerToken() -> String {
        let p = customers.positions
        return "customers:\(p.own),public:\(p.publicLog)"
    }
    private func orderToken() -> String {
        let p = orders.positions
        return "orders:\(p.own),public:\(p.publicLog)"
    }
    private func statsToken() -> String { "orders:\(orders.positions.own)" }

    private func customerFrame(_ id: String, id token: String) -> [UInt8]? {
        guard let view = customers.customer(id), let json = try? JSONCoding.encode(view) else { return nil }
        return Self.frame(id: token, event: "customer", json: json)
    }

    private func orderFrame(_ id: String, id token: String) -> [UInt8]? {
        guard let view = orders.order(id), let json = try? JSONCoding.encode(view) else { return nil }
        return Self.frame(id: token, event: "order", json: json)
    }

    static func frame(id: String, event: String, json: [UInt8]) -> [UInt8] {
        SSEEvent(id: id, event: event, data: String(decoding: json, as: UTF8.self)).encoded
    }

    private static func notFound(_ id: String, token: String) -> [UInt8] {
        var json: [UInt8] = []
        JSONValue.object(["id": .string(id)]).write(into: &json)
        return frame(id: token, event: "not-found", json: json)
    }

    // MARK: Requests

    /// Ids from the path (`a,b`) and `?ids=` (repeatable, comma-separated), validated.
    private func ids(_ context: RequestContext, valid: (String) -> Bool) throws -> [String] {
        var list: [String] = []
        let sources = (context.parameters["id"].map { [$0] } ?? []) + context.query.all("ids")
        for text in sources {
            for part in text.split(separator: ",") {
                let id = part.trimmingCharacters(in: .whitespaces)
                guard valid(id) else { throw badParameter("ids", "contains an invalid id '\(id.prefix(80))' (1…64 of A-Z a-z 0-9 _ -)") }
                if !list.contains(id) { list.append(id) }
            }
        }
        guard !list.isEmpty else { throw badParameter("ids", "must name at least one id") }
        guard list.count <= registry.settings.maxSelections else {
            throw badParameter("ids", "may name at most \(registry.settings.maxSelections) ids")
        }
        return list
    }

    /// A `Last-Event-ID` on a query stream must look like one of its ids (it is otherwise
    /// ignored: the stream starts with the current state).
    private static func checkResumeId(_ context: RequestContext) throws {
        let text = context.head.headers["Last-Event-ID"] ?? context.query["lastEventId"] ?? ""
        guard !text.isEmpty else { return }
        let ok = text.split(separator: ",").allSatisfy { ConsistencyToken(parsing: Substring($0.trimmingCharacters(in: .whitespaces))) != nil }
        guard ok else {
            throw Problem(status: 400, type: ProblemType.uri("bad-last-event-id"), title: "Bad Last-Event-ID",
                          detail: "Last-Event-ID of a query stream is a position token such as orders:12,public:40.")
        }
    }

    private func refuse(_ context: RequestContext, _ responder: Responder, _ error: Error) {
        var response = Problem.from(error).response
        for f in registry.cors.headers(origin: context.head.headers["Origin"]).fields { response.headers.add(name: f.name, value: f.value) }
        responder.respond(response)
    }

    func handleCustomers(_ context: RequestContext, _ responder: Responder) {
        let list: [String]
        do { try Self.checkResumeId(context); list = try ids(context, valid: CustomerID.isValid) } catch { return refuse(context, responder, error) }
        guard let s = registry.open(context, responder, kind: .document) else { return }
        let token = customerToken()
        var first: [UInt8] = []
        for id in list { first += customerFrame(id, id: token) ?? Self.notFound(id, token: token) }
        s.send(first, events: list.count)
        attach(s, ids: list, to: \.customerMembers)
    }

    func handleOrders(_ context: RequestContext, _ responder: Responder) {
        let list: [String]
        do { try Self.checkResumeId(context); list = try ids(context, valid: OrdersService.isValidOrderId) } catch { return refuse(context, responder, error) }
        guard let s = registry.open(context, responder, kind: .document) else { return }
        let token = orderToken()
        var first: [UInt8] = []
        for id in list { first += orderFrame(id, id: token) ?? Self.notFound(id, token: token) }
        s.send(first, events: list.count)
        attach(s, ids: list, to: \.orderMembers)
    }

    private func attach(_ s: StreamSubscriber, ids: [String],
                        to path: ReferenceWritableKeyPath<QueryStreamFeeds, [String: [ObjectIdentifier: DocumentMember]]>) {
        guard s.isOpen else { return }
        let member = DocumentMember(s)
        let key = ObjectIdentifier(member)
        for id in ids { self[keyPath: path][id, default: [:]][key] = member }
        s.onEnd = { [weak self] in
            guard let self else { return }
            for id in ids {
                self[keyPath: path][id]?[key] = nil
                if self[keyPath: path][id]?.isEmpty == true { self[keyPath: path][id] = nil }
            }
        }
    }

    /// `/streams/queries/orders?customerId=&status=&limit=`: first a `snapshot` (the first page
    /// of the list, as `GET /queries/orders` returns it), then `upsert` / `remove` per change.
    /// With `ids=`, a document stream of those orders instead.
    func handleOrderList(_ context: RequestContext, _ responder: Responder) {
        if !context.query.all("ids").isEmpty { return handleOrders(context, responder) }
        let q = context.query
        var status: OrderStatus?
        let snapshot: [UInt8]
        do {
            try Self.checkResumeId(context)
            if let text = q["status"] {
                guard let s = OrderStatus(rawValue: text) else {
                    throw badParameter("status", "must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = s
            }
            let limit = try q.integer("limit").map { Int(clamping: $0) }
            snapshot = try JSONCoding.encode(orders.orders(customerId: q["customerId"], status: status, cursor: nil, limit: limit))
        } catch let e as QueryError {
            return refuse(context, responder, badParameter(e.parameter, e.message))
        } catch {
            return refuse(context, responder, error)
        }
        guard let s = registry.open(context, responder, kind: .list) else { return }
        s.send(Self.frame(id: orderToken(), event: "snapshot", json: snapshot), events: 1)
        guard s.isOpen else { return }
        let member = ListMember(s, customerId: q["customerId"], status: status)
        let key = ObjectIdentifier(member)
        listMembers[key] = member
        s.onEnd = { [weak self] in self?.listMembers[key] = nil }
    }

    /// `/streams/queries/stats`: the stats view now, then each time it changes.
    func handleStats(_ context: RequestContext, _ responder: Responder) {
        do { try Self.checkResumeId(context) } catch { return refuse(context, responder, error) }
        guard let s = registry.open(context, responder, kind: .stats) else { return }
        if let stats = try? JSONCoding.encode(orders.stats()) {
            s.send(Self.frame(id: statsToken(), event: "stats", json: stats), events: 1)
        }
        guard s.isOpen else { return }
        let key = ObjectIdentifier(s)
        statsMembers[key] = s
        s.onEnd = { [weak self] in self?.statsMembers[key] = nil }
    }
}
