import Foundation
import CQRS
import EventStore
import JSON

extension CustomersService {
    /// Default and maximum page sizes of `listCustomers`.
    public static let defaultPageSize = 50
    public static let maxPageSize = 500

    /// The customer's current view (read models only), nil if not registered.
    public func customer(_ customerId: String) -> CustomerView? {
        guard let record = directory.records[customerId] else { return nil }
        return view(of: record, activity: orderActivity.activity[customerId] ?? CustomerOrderActivity())
    }

    /// A page of customers in ascending id order, optionally only those with `status`.
    /// `cursor` is the previous page's `nextCursor` (the last id it held).
    /// - Throws: `CustomerQueryError` for a `limit` outside 1…500 or a malformed cursor.
    public func listCustomers(status: CustomerStatus? = nil, cursor: String? = nil, limit: Int? = nil) throws -> CustomerPage {
        let limit = limit ?? CustomersService.defaultPageSize
        guard (1...CustomersService.maxPageSize).contains(limit) else {
            throw CustomerQueryError(parameter: "limit", message: "limit must be between 1 and \(CustomersService.maxPageSize)")
        }
        if let cursor, !CustomerID.isValid(cursor) {
            throw CustomerQueryError(parameter: "cursor", message: "malformed cursor")
        }
        var items: [CustomerView] = []
        var more = false
        for id in directory.ids(after: cursor) {
            guard let record = directory.records[id] else { continue }
            if let status, (record.state.active ? CustomerStatus.active : .deactivated) != status { continue }
            if items.count == limit { more = true; break }
            items.append(view(of: record, activity: orderActivity.activity[id] ?? CustomerOrderActivity()))
        }
        return CustomerPage(items: items, nextCursor: more ? items.last?.customerId : nil)
    }

    /// Number of registered customers.
    public var customerCount: Int { directory.records.count }

    /// The customer as of stream version `version` and/or commit time `asOf`, computed from
    /// its events; nil if it was not registered by then (or does not exist).
    public func customer(_ customerId: String, atVersion version: Int64?, asOf: Date?) throws -> CustomerTemporalView? {
        guard CustomerID.isValid(customerId) else { return nil }
        if let version, version < 0 { throw CustomerQueryError(parameter: "version", message: "version must be ≥ 0") }
        let decider = handler.decider
        var state = decider.initialState
        var reached: RecordedEvent?
        for r in try store.readStream(CustomerID.stream(customerId)) {
            if let version, r.streamVersion.value > version { break }
            if let asOf, r.timestamp > asOf { break }
            state = decider.evolve(state, try decider.decodeRecorded(r))
            reached = r
        }
        guard let reached, state.registered else { return nil }
        return CustomerTemporalView(customerId: customerId, name: state.displayName, givenName: state.givenName,
                                    familyName: state.familyName, email: state.email, creditLimit: state.creditLimit,
                                    currency: state.currency, reservedCredit: state.reservedCredit,
                                    availableCredit: state.availableCredit, status: state.active ? .active : .deactivated,
                                    openOrders: state.reservations.count, version: reached.streamVersion.value,
                                    updatedAt: RFC3339.format(reached.timestamp))
    }

    /// The customer stream's events, oldest first, data upcast to the current schema; nil if
    /// the customer was never registered.
    public func history(of customerId: String) throws -> [CustomerHistoryEntry]? {
        guard CustomerID.isValid(customerId) else { return nil }
        let recorded = try store.readStream(CustomerID.stream(customerId))
        guard recorded.contains(where: { $0.type == CustomerEvent.TypeName.registered }) else { return nil }
        let chain = handler.decider.upcasters
        return try recorded.map { r in
            let up = try chain.upcast(r)
            return CustomerHistoryEntry(type: r.type, schemaVersion: up.schemaVersion, storedSchemaVersion: r.schemaVersion,
                                        version: r.streamVersion.value, position: r.position.value,
                                        eventId: r.id.description.lowercased(), time: RFC3339.format(r.timestamp),
                                        correlationId: r.metadata.correlationId, causationId: r.metadata.causationId,
                                        data: JSONValue(jsonBytes: up.data))
        }
    }

    func view(of record: CustomerRecord, activity: CustomerOrderActivity) -> CustomerView {
        let s = record.state
        return CustomerView(customerId: s.customerId, name: s.displayName, givenName: s.givenName, familyName: s.familyName,
                            email: s.email, creditLimit: s.creditLimit, currency: s.currency, reservedCredit: s.reservedCredit,
                            availableCredit: s.availableCredit, status: s.active ? .active : .deactivated,
                            orderCount: activity.orderCount, lifetimeValue: activity.lifetimeValue,
                            openOrders: s.reservations.count, version: record.version, updatedAt: record.updatedAt)
    }
}
