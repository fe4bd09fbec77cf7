import Foundation
import EventStore
import CQRS
import JSON

/// One runtime component of the service, for `/health` and `/metrics`.
public struct OrdersComponentStatus: Codable, Hashable, Sendable {
    /// e.g. `orders.views`, `orders.customer-replica`, `publisher:orders`, `consumer:orders-saga`.
    public var name: String
    /// `projection`, `publisher` or `consumer`.
    public var kind: String
    /// The store it follows: `orders` or `public`.
    public var store: String
    /// e.g. `live`, `catching-up`, `running`, `retrying`, `failed`, `stopped`.
    public var status: String
    /// Position reached in the followed store (publisher: internal position published up to).
    public var position: UInt64
    /// Events behind the followed store (consumer: public events received but not completed).
    public var lag: UInt64
    /// False when failed (or stopped).
    public var healthy: Bool
    public var error: String?
}

/// Health and counters of the whole service.
public struct OrdersHealth: Codable, Hashable, Sendable {
    public var components: [OrdersComponentStatus]
    /// Both read models have caught up with their store (for `/ready`).
    public var ready: Bool
    public var commands: Int
    public var commandsSucceeded: Int
    public var commandsRejected: Int
    public var commandsFailed: Int
    public var conflictRetries: Int
    public var consumerHandled: UInt64
    public var consumerRepeats: UInt64
    public var publicEventsPublished: UInt64
}

/// Result of rebuilding the read models from the stores and comparing them with the live ones.
public struct OrdersConsistencyReport: Codable, Hashable, Sendable {
    public var consistent: Bool
    /// The positions compared at (the live read models' positions).
    public var positions: OrdersPositions
    public var ordersCompared: Int
    public var customersCompared: Int
    /// Human-readable differences (at most 50).
    public var differences: [String]
}

extension OrdersService {
    /// Both read models have caught up with their stores.
    public var isReady: Bool { viewsRunner.isCaughtUp && replicaRunner.isCaughtUp }

    public var health: OrdersHealth {
        func runner(_ r: ProjectionRunner, _ store: String) -> OrdersComponentStatus {
            var healthy = true
            switch r.status { case .failed, .stopped: healthy = false; default: break }
            return OrdersComponentStatus(name: r.projection.name, kind: "projection", store: store, status: r.status.description,
                                         position: r.position.value, lag: r.lag, healthy: healthy, error: r.failure?.description)
        }
        var pub = OrdersComponentStatus(name: "publisher:\(publisher.source)", kind: "publisher", store: "orders", status: "",
                                        position: publisher.checkpoint.value, lag: publisher.lag, healthy: true, error: nil)
        switch publisher.status {
        case .idle: pub.status = "idle"
        case .running: pub.status = "running"
        case .retrying(let reason): pub.status = "retrying"; pub.error = reason
        case .failed(let p, let reason): pub.status = "failed"; pub.healthy = false; pub.error = "at \(p): \(reason)"
        case .stopped: pub.status = "stopped"; pub.healthy = false
        }
        var con = OrdersComponentStatus(name: "consumer:\(consumer.name)", kind: "consumer", store: "public", status: "",
                                        position: consumer.checkpoint.value, lag: UInt64(max(0, consumer.backlog)), healthy: true, error: nil)
        switch consumer.status {
        case .idle: con.status = "idle"
        case .running: con.status = "running"
        case .retrying(let reason): con.status = "retrying"; con.error = reason
        case .failed(let p, let reason): con.status = "failed"; con.healthy = false; con.error = "at \(p): \(reason)"
        case .stopped: con.status = "stopped"; con.healthy = false
        }
        let s = handler.stats
        return OrdersHealth(components: [runner(viewsRunner, "orders"), runner(replicaRunner, "public"), pub, con],
                            ready: isReady, commands: s.commands, commandsSucceeded: s.succeeded, commandsRejected: s.rejected,
                            commandsFailed: s.failed, conflictRetries: s.conflictRetries, consumerHandled: consumer.handled,
                            consumerRepeats: consumer.repeats, publicEventsPublished: publisher.published)
    }

    /// Rebuilds fresh read models by reading both stores up to the positions the live ones
    /// reflect, and compares them. Synchronous (reads the stores on the calling thread, the loop).
    public func checkConsistency() throws -> OrdersConsistencyReport {
        let at = positions
        let (freshViews, freshReplica) = try OrdersService.rebuild(store: store, upTo: LogPosition(at.orders),
                                                                   publicLog: publicLog, upTo: LogPosition(at.publicLog))
        var diffs: [String] = []
        func note(_ s: String) { if diffs.count < 50 { diffs.append(s) } }
        let live = views.state, fresh = freshViews.state
        for id in Set(live.orders.keys).union(fresh.orders.keys).sorted() where live.orders[id] != fresh.orders[id] {
            note("order \(id): live \(describe(live.orders[id])) != rebuilt \(describe(fresh.orders[id]))")
        }
        if live.created != fresh.created { note("creation order differs (\(live.created.count) vs \(fresh.created.count) orders)") }
        if live.stats != fresh.stats { note("stats differ: live \(live.stats) != rebuilt \(fresh.stats)") }
        for id in Set(replica.customers.keys).union(freshReplica.customers.keys).sorted()
        where replica.customers[id] != freshReplica.customers[id] {
            note("replica customer \(id): live \(String(describing: replica.customers[id])) != rebuilt \(String(describing: freshReplica.customers[id]))")
        }
        return OrdersConsistencyReport(consistent: diffs.isEmpty, positions: at, ordersCompared: fresh.orders.count,
                                       customersCompared: freshReplica.customers.count, differences: diffs)
    }

    private func describe(_ v: OrderView?) -> String {
        guard let v else { return "missing" }
        return (try? JSONCoding.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
    }

    /// Builds read models from scratch, outside any runner.
    static func rebuild(store: EventStore, upTo ordersPosition: LogPosition, publicLog: EventStore,
                        upTo publicPosition: LogPosition) throws -> (OrderViewsProjection, CustomerReplica) {
        let views = OrderViewsProjection()
        let replica = CustomerReplica()
        views.lookupName = { [unowned replica] id in replica.customers[id]?.name }
        replica.onNameChanged = { [unowned views] id, name in views.customerNameChanged(id, name) }
        func feed(_ s: EventStore, _ p: Projection, upTo: LogPosition) throws {
            var from = LogPosition.start
            outer: while from < upTo {
                let batch = try s.readAll(from: from, maxCount: 4096, filter: nil)
                guard let last = batch.last else { break }
                for e in batch {
                    if e.position > upTo { break outer }
                    if !RuntimeMetadata.isInternal(e.stream), p.filter?.matches(stream: e.stream.value, type: e.type) ?? true {
                        try p.apply(e)
                    }
                }
                from = last.position
            }
        }
        try feed(publicLog, replica, upTo: publicPosition)
        try feed(store, views, upTo: ordersPosition)
        return (views, replica)
    }
}
