import Foundation
import EventStore
import CQRS
import JSON

extension OrdersService {
    /// Both read models have caught up with their stores.
    public var isReady: Bool { runtime.isReady }

    /// Every runtime component in the common health shape: read models, publisher, consumer.
    public var components: [ComponentHealth] { runtime.components }
    public func appendHealthStamp(to stamp: inout [UInt64]) { runtime.appendHealthStamp(to: &stamp) }

    /// Public events the saga consumer has handled since start.
    public var consumerHandled: UInt64 { consumer.handled }

    /// Rebuilds fresh read models by reading both stores (off the loop) up to the positions the
    /// live ones reflect, and compares them on the loop.
    public func checkConsistency(completion: @escaping (Result<ConsistencyReport, Error>) -> Void) {
        let at = positions
        runtime.rebuild({ replayer in
            // The views take customer names from the replica: rebuild the replica first, linked.
            let freshViews = OrderViewsProjection(), freshReplica = CustomerReplica()
            freshViews.lookupName = { [unowned freshReplica] id in freshReplica.customers[id]?.name }
            freshReplica.onNameChanged = { [unowned freshViews] id, name in freshViews.customerNameChanged(id, name) }
            try replayer.replay(.publicLog, into: freshReplica, upTo: LogPosition(at.publicLog))
            try replayer.replay(.own, into: freshViews, upTo: LogPosition(at.own))
            return (freshViews, freshReplica)
        }, then: { [self] rebuilt in
            completion(rebuilt.map { compare(at, $0.0, $0.1) })
        })
    }

    private func compare(_ at: ServicePositions, _ freshViews: OrderViewsProjection, _ freshReplica: CustomerReplica) -> ConsistencyReport {
        var diffs: [String] = []
        func note(_ s: String) { if diffs.count < ConsistencyReport.maxDifferences { diffs.append(s) } }
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
        return ConsistencyReport(positions: at, compared: fresh.orders.count,
                                 alsoCompared: ["customersCompared": freshReplica.customers.count], differences: diffs)
    }

    private func describe(_ v: OrderView?) -> String {
        guard let v else { return "missing" }
        return (try? JSONCoding.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
    }
}
