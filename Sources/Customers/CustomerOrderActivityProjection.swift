import Foundation
import CQRS
import EventStore
import PublicEvents
import JSON

/// What the public log says about a customer's orders.
public struct CustomerOrderActivity: Codable, Hashable, Sendable {
    /// `order.placed` events for the customer.
    public var orderCount = 0
    /// Sum of `order.shipped` totals, minor units.
    public var lifetimeValue: Int64 = 0
    public init() {}
}

/// Read model of the public log: order activity per customer id (`order.placed`,
/// `order.shipped`). Kept for any customer id, registered here or not (an order may name a
/// customer this service does not know); the view joins it with the directory.
public final class CustomerOrderActivityProjection: Projection {
    public let name: String
    public var filter: EventFilter? { .eventTypes(OrderPlacedV1.eventType.name, OrderShippedV1.eventType.name) }

    /// A `ReadModelDictionary`: it grows with every customer who orders, and is snapshotted.
    public private(set) var activity = ReadModelDictionary<String, CustomerOrderActivity>()
    /// Change notification: called after an event changed a customer's activity (loop thread).
    public var onChange: ((_ customerId: String) -> Void)?

    public init(name: String = "customers-order-activity") { self.name = name }

    public func apply(_ event: RecordedEvent) throws {
        switch event.type {
        case OrderPlacedV1.eventType.name:
            let e = try OrderPlacedV1.decode(event.data)
            activity[e.customerId, default: CustomerOrderActivity()].orderCount += 1
            onChange?(e.customerId)
        case OrderShippedV1.eventType.name:
            let e = try OrderShippedV1.decode(event.data)
            activity[e.customerId, default: CustomerOrderActivity()].lifetimeValue += e.total
            onChange?(e.customerId)
        default:
            break
        }
    }

    /// 2: binary (`CustomerSnapshotCoding`); 1 was JSON.
    public var snapshotSchemaVersion: Int { 2 }

    /// Copies the dictionary (copy-on-write, O(1)); the runner encodes it off the loop.
    public func captureSnapshot() throws -> SnapshotEncoding? {
        let copy = activity
        return SnapshotWriter.encoding(capacity: copy.count * 64) { CustomerSnapshotCoding.write(copy, to: &$0) }
    }

    public func restore(from bytes: [UInt8]) throws {
        activity = try SnapshotReader.readAll(bytes) { try CustomerSnapshotCoding.readActivity(&$0) }
    }
}

extension CustomerOrderActivityProjection: BackgroundReplayable {
    public func makeEmpty() -> CustomerOrderActivityProjection { CustomerOrderActivityProjection(name: name) }

    public func adoptState(of other: CustomerOrderActivityProjection) {
        activity = other.activity
        if let onChange { for id in activity.keys { onChange(id) } }
    }
}
