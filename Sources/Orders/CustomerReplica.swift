import Foundation
import EventStore
import CQRS
import PublicEvents
import JSON

/// What Orders knows about a customer, copied from customer public events.
public struct ReplicaCustomer: Codable, Hashable, Sendable {
    public var customerId: String
    public var name: String
    public var active: Bool
    public var currency: String
    public var creditLimit: Int64
}

/// Orders' own copy of the customer data it needs, built from customer public events in the
/// public log — never an HTTP call or a read of the customers store.
///
/// Loop-confined projection on the public log. `onNameChanged` tells the order views to update
/// the denormalized customer name (on registration and rename).
public final class CustomerReplica: Projection {
    public let name = "orders.customer-replica"
    /// A `ReadModelDictionary`: it grows with every customer, and is snapshotted.
    public private(set) var customers = ReadModelDictionary<String, ReplicaCustomer>()
    var onNameChanged: ((_ customerId: String, _ name: String) -> Void)?

    /// Public event types the replica reads.
    static let eventTypes: Set<String> = [
        CustomerRegisteredV1.eventType.name, CustomerRenamedV1.eventType.name,
        CustomerCreditLimitChangedV1.eventType.name, CustomerDeactivatedV1.eventType.name,
    ]

    public var filter: EventFilter? { EventFilter(eventTypes: CustomerReplica.eventTypes) }

    public init() {}

    public func customer(_ id: String) -> ReplicaCustomer? { customers[id] }

    // Snapshots (kept in the orders store, not the shared public log: see OrdersService).
    /// 2: binary (`OrderSnapshotCoding`).
    public var snapshotSchemaVersion: Int { 2 }

    /// Copies the dictionary (copy-on-write, O(1)); the runner encodes it off the loop.
    public func captureSnapshot() throws -> SnapshotEncoding? {
        let copy = customers
        return SnapshotWriter.encoding(capacity: copy.count * 96) { OrderSnapshotCoding.write(copy, to: &$0) }
    }

    /// Restores without calling `onNameChanged`: the order views take their names from the
    /// replica once both have caught up (`OrdersService.linkCustomerNames`).
    public func restore(from bytes: [UInt8]) throws {
        customers = try SnapshotReader.readAll(bytes) { try OrderSnapshotCoding.readReplica(&$0) }
    }

    public func apply(_ event: RecordedEvent) throws {
        // Versions this service does not understand are ignored, not fatal: a newer version is
        // published next to the old one (PublicEventType rules), so v1 keeps flowing.
        switch (event.type, event.schemaVersion) {
        case (CustomerRegisteredV1.eventType.name, 1):
            let p = try CustomerRegisteredV1.decode(event.data)
            customers[p.customerId] = ReplicaCustomer(customerId: p.customerId, name: p.name, active: true,
                                                      currency: p.currency, creditLimit: p.creditLimit)
            onNameChanged?(p.customerId, p.name)
        case (CustomerRenamedV1.eventType.name, 1):
            let p = try CustomerRenamedV1.decode(event.data)
            customers[p.customerId]?.name = p.name
            if customers[p.customerId] != nil { onNameChanged?(p.customerId, p.name) }
        case (CustomerCreditLimitChangedV1.eventType.name, 1):
            let p = try CustomerCreditLimitChangedV1.decode(event.data)
            customers[p.customerId]?.creditLimit = p.creditLimit
        case (CustomerDeactivatedV1.eventType.name, 1):
            let p = try CustomerDeactivatedV1.decode(event.data)
            customers[p.customerId]?.active = false
        default:
            break
        }
    }
}

extension CustomerReplica: BackgroundReplayable {
    public func makeEmpty() -> CustomerReplica { CustomerReplica() }

    /// No `onNameChanged` calls: the order views take every name from the replica once both
    /// have caught up (`OrdersService.linkCustomerNames`).
    public func adoptState(of other: CustomerReplica) { customers = other.customers }
}
