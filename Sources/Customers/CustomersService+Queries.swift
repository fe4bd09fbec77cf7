import Foundation
import CQRS
import EventStore
import JSON

extension CustomersService {
    /// The customer's current view (read models only), nil if not registered.
    public func customer(_ customerId: String) -> CustomerView? {
        guard let record = directory.records[customerId] else { return nil }
        return view(of: record, activity: orderActivity.activity[customerId] ?? CustomerOrderActivity())
    }

    /// Cursors of the customer list name this view (`Paging`).
    static let cursorKind = "c1"

    /// A page of customers in ascending id order, optionally only those with `status`.
    /// `cursor` is the previous page's `nextCursor`.
    /// - Throws: `QueryError` for a `limit` outside 1…500 or a cursor this view did not issue.
    public func listCustomers(status: CustomerStatus? = nil, cursor: String? = nil, limit: Int? = nil) throws -> CustomerPage {
        let limit = try Paging.limit(limit)
        let after = try Paging.key(of: cursor, kind: Self.cursorKind)
        if let after, !CustomerID.isValid(after) { throw QueryError(parameter: "cursor", message: "cursor is not one this view issued") }
        var items: [CustomerView] = []
        var more = false
        for id in directory.ids(after: after) {
            guard let record = directory.records[id] else { continue }
            if let status, (record.state.active ? CustomerStatus.active : .deactivated) != status { continue }
            if items.count == limit { more = true; break }
            items.append(view(of: record, activity: orderActivity.activity[id] ?? CustomerOrderActivity()))
        }
        return CustomerPage(items: items, nextCursor: more ? items.last.map { Paging.cursor(kind: Self.cursorKind, key: $0.customerId) } : nil)
    }

    /// Number of registered customers.
    public var customerCount: Int { directory.records.count }

    /// The customer as of stream version `version` and/or commit time `asOf`, computed from
    /// its events (read off the loop); nil if it was not registered by then (or does not exist).
    public func customer(_ customerId: String, atVersion version: Int64?, asOf: Date?,
                         completion: @escaping (Result<CustomerTemporalView?, Error>) -> Void) {
        guard CustomerID.isValid(customerId) else { return completion(.success(nil)) }
        if let version, version < 0 { return completion(.failure(QueryError(parameter: "version", message: "version must be ≥ 0"))) }
        let decider = handler.decider
        runtime.events(of: CustomerID.stream(customerId), upToVersion: version, asOf: asOf) { read in
            completion(read.map { events in
                var state = decider.initialState
                var reached: RecordedEvent?
                for (event, recorded) in events {
                    decider.apply(event, to: &state)
                    reached = recorded
                }
                guard let reached, state.registered else { return nil }
                return CustomerTemporalView(customerId: customerId, name: state.displayName, givenName: state.givenName,
                                            familyName: state.familyName, email: state.email, creditLimit: state.creditLimit,
                                            currency: state.currency, reservedCredit: state.reservedCredit,
                                            availableCredit: state.availableCredit, status: state.active ? .active : .deactivated,
                                            openOrders: state.reservations.count, version: reached.streamVersion.value,
                                            updatedAt: RFC3339.format(reached.timestamp))
            })
        }
    }

    /// The customer stream's events, oldest first, data upcast to the current schema (read off
    /// the loop); nil if the customer was never registered.
    public func history(of customerId: String, completion: @escaping (Result<[HistoryEntry]?, Error>) -> Void) {
        guard CustomerID.isValid(customerId) else { return completion(.success(nil)) }
        runtime.history(of: CustomerID.stream(customerId)) { read in
            completion(read.map { entries in
                guard let entries, entries.contains(where: { $0.type == CustomerEvent.TypeName.registered }) else { return nil }
                return entries
            })
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
