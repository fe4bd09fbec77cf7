import Foundation
import EventStore
import CQRS

/// The order detail view (`GET /queries/orders/{id}`), denormalized.
public struct OrderView: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    /// From the customer replica; nil until the replica knows the customer. Follows renames.
    public var customerName: String?
    public var status: OrderStatus
    public var currency: String
    public var lines: [OrderLine]
    /// Minor units of `currency`.
    public var total: Int64
    /// RFC 3339 commit times of the first and the latest event of the order.
    public var createdAt: String
    public var updatedAt: String
    /// Stream version of the latest event (the ETag; `If-Match` for the next command).
    public var version: Int64
    public var rejectionReason: String?
    public var cancellationReason: String?

    /// Applies one order event (`recorded` gives its time and version). Pure; shared by the
    /// live projection, the rebuild of the consistency check and temporal queries.
    static func evolve(_ view: OrderView?, _ event: OrderEvent, _ recorded: RecordedEvent, customerName: String?) -> OrderView? {
        let at = RFC3339.format(recorded.timestamp)
        if case .placed(let p) = event {
            return OrderView(orderId: p.orderId, customerId: p.customerId, customerName: customerName, status: .pending,
                             currency: p.currency, lines: p.lines, total: p.total, createdAt: at, updatedAt: at,
                             version: recorded.streamVersion.value, rejectionReason: nil, cancellationReason: nil)
        }
        guard var v = view else { return nil }
        switch event {
        case .placed: break
        case .lineAdded(let p):
            v.status = v.status.afterLinesChange(total: v.total, newTotal: p.total); v.lines = p.lines; v.total = p.total
        case .lineRemoved(let p):
            v.status = v.status.afterLinesChange(total: v.total, newTotal: p.total); v.lines = p.lines; v.total = p.total
        case .approved: v.status = .approved; v.rejectionReason = nil
        case .rejected(let p): v.status = .rejected; v.rejectionReason = p.reason
        case .cancelled(let p): v.status = .cancelled; v.cancellationReason = p.reason
        case .shipped: v.status = .shipped
        }
        v.updatedAt = at
        v.version = recorded.streamVersion.value
        return v
    }
}

/// `GET /queries/stats`: orders per status, revenue (shipped totals) per currency.
public struct OrderStatsView: Codable, Hashable, Sendable {
    /// Every status, with 0 for none.
    public var ordersByStatus: [String: Int]
    /// Sum of the totals of shipped orders, per currency, minor units (saturating).
    public var revenueByCurrency: [String: Int64]
    public var orderCount: Int

    init() {
        ordersByStatus = Dictionary(uniqueKeysWithValues: OrderStatus.allCases.map { ($0.rawValue, 0) })
        revenueByCurrency = [:]
        orderCount = 0
    }
}

/// A page of `GET /queries/orders`.
public typealias OrderPage = Page<OrderView>

/// The order views and stats: an in-memory projection of the orders store, ordered by creation
/// position. Customer names come from `CustomerReplica` (public log) through `lookupName` and
/// `customerNameChanged`, so the result does not depend on how the two feeds interleave.
public final class OrderViewsProjection: Projection {
    public let name = "orders.views"
    public var filter: EventFilter? { EventFilter(categories: [OrdersService.category]) }

    /// `ReadModelDictionary`s: both grow with every order or customer, and are snapshotted.
    struct State: Equatable {
        var orders = ReadModelDictionary<String, OrderView>()
        /// (creation position, order id), ascending.
        var created: [Created] = []
        var byCustomer = ReadModelDictionary<String, [Int]>()   // indices into `created`
        var stats = OrderStatsView()
    }
    struct Created: Codable, Equatable { var position: UInt64; var orderId: String }

    private(set) var state = State()
    var lookupName: (String) -> String? = { _ in nil }
    /// Change notification: called after each change of an order view (loop thread).
    var onChange: ((OrderViewChange) -> Void)?

    public init() {}

    public func order(_ id: String) -> OrderView? { state.orders[id] }
    public var stats: OrderStatsView { state.stats }

    public func apply(_ recorded: RecordedEvent) throws {
        let event = try OrderEventCodec.decode(type: recorded.type, data: recorded.data)
        let id: String
        switch event {
        case .placed(let p): id = p.orderId
        case .lineAdded(let p): id = p.orderId
        case .lineRemoved(let p): id = p.orderId
        case .approved(let p): id = p.orderId
        case .rejected(let p): id = p.orderId
        case .cancelled(let p): id = p.orderId
        case .shipped(let p): id = p.orderId
        }
        let before = state.orders[id]
        if case .placed(let p) = event {
            guard before == nil else { return }   // cannot happen: the decider forbids a second place
            state.byCustomer[p.customerId, default: []].append(state.created.count)
            state.created.append(Created(position: recorded.position.value, orderId: id))
            state.stats.orderCount += 1
        }
        guard let after = OrderView.evolve(before, event, recorded, customerName: before?.customerName ?? lookupName(customerId(event))) else {
            throw OrderViewError(reason: "\(recorded.type) for unknown order '\(id)'")
        }
        if let before { state.stats.ordersByStatus[before.status.rawValue, default: 1] -= 1 }
        state.stats.ordersByStatus[after.status.rawValue, default: 0] += 1
        if after.status == .shipped && before?.status != .shipped {
            let (sum, overflow) = state.stats.revenueByCurrency[after.currency, default: 0].addingReportingOverflow(after.total)
            state.stats.revenueByCurrency[after.currency] = overflow ? Int64.max : sum
        }
        state.orders[id] = after
        onChange?(OrderViewChange(orderId: id, previousStatus: before?.status))
    }

    private func customerId(_ e: OrderEvent) -> String {
        if case .placed(let p) = e { return p.customerId }
        return ""
    }

    // Snapshots: the whole state, binary (`OrderSnapshotCoding`; version 1 was JSON). Names in
    // it may be older than the replica's (the two are snapshotted at different moments):
    // `refreshCustomerNames()` runs once both have caught up, and every registration or rename
    // applied after that refreshes them again.
    public var snapshotSchemaVersion: Int { 2 }

    /// Copies the state (copy-on-write, O(1)); the runner encodes it off the loop.
    public func captureSnapshot() throws -> SnapshotEncoding? {
        let copy = state
        return SnapshotWriter.encoding(capacity: copy.orders.count * 256) { OrderSnapshotCoding.write(copy, to: &$0) }
    }

    /// Sets every order's customer name to what `lookupName` (the replica) says now: what a
    /// rebuild from both feeds gives. Used once both feeds have caught up on start.
    func refreshCustomerNames() {
        for (customerId, indices) in state.byCustomer {
            let name = lookupName(customerId)
            for i in indices { setCustomerName(name, ofOrder: state.created[i].orderId) }
        }
    }

    /// One lookup, changed in place; a change notification only when the name differs.
    private func setCustomerName(_ name: String?, ofOrder orderId: String) {
        // Through `inout` (in place): reading `values[at].field` copies the whole view, a dozen
        // retains, for every order of a renamed customer.
        guard let changed = state.orders.modifyValue(forKey: orderId, { Self.rename(&$0, to: name) }),
              let status = changed else { return }
        onChange?(OrderViewChange(orderId: orderId, previousStatus: status))
    }

    /// Sets the name; the view's status if it changed, nil if the name was already that.
    private static func rename(_ view: inout OrderView, to name: String?) -> OrderStatus? {
        guard view.customerName != name else { return nil }
        view.customerName = name
        return view.status
    }

    public func restore(from bytes: [UInt8]) throws {
        state = try SnapshotReader.readAll(bytes) { try OrderSnapshotCoding.readViews(&$0) }
    }

    /// The replica saw a registration or rename: refresh the denormalized name.
    func customerNameChanged(_ customerId: String, _ name: String) {
        for i in state.byCustomer[customerId] ?? [] { setCustomerName(name, ofOrder: state.created[i].orderId) }
    }

    /// One page in creation order, after `cursor`, filtered.
    func page(customerId: String?, status: OrderStatus?, after: UInt64, limit: Int) -> OrderPage {
        var items: [OrderView] = []
        var last: UInt64? = nil
        var more = false
        func consider(_ c: Created) -> Bool {
            guard c.position > after, let v = state.orders[c.orderId] else { return true }
            if let status, v.status != status { return true }
            if items.count == limit { more = true; return false }
            items.append(v)
            last = c.position
            return true
        }
        if let customerId {
            for i in state.byCustomer[customerId] ?? [] where !consider(state.created[i]) { break }
        } else {
            // Binary search the first creation after the cursor.
            var lo = 0, hi = state.created.count
            while lo < hi { let mid = (lo + hi) / 2; if state.created[mid].position <= after { lo = mid + 1 } else { hi = mid } }
            for c in state.created[lo...] where !consider(c) { break }
        }
        return OrderPage(items: items, nextCursor: more ? last.map { Paging.cursor(kind: OrdersService.cursorKind, key: String($0)) } : nil)
    }
}

struct OrderViewError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

extension OrderViewsProjection: BackgroundReplayable {
    public func makeEmpty() -> OrderViewsProjection { OrderViewsProjection() }

    /// Every order is reported, with the status it had here before (list views filtered by
    /// status need it). Customer names come from the replica when both have caught up.
    public func adoptState(of other: OrderViewsProjection) {
        let before = state.orders
        state = other.state
        if let onChange {
            for (id, _) in state.orders { onChange(OrderViewChange(orderId: id, previousStatus: before[id]?.status)) }
        }
    }
}
