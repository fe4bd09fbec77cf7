import CQRS

/// Binary snapshot layout of the orders read models (`SnapshotWriter`). Changing a field of
/// `OrderView`, `OrderLine`, `OrderStatsView` or `ReplicaCustomer` means changing this and
/// bumping the projections' `snapshotSchemaVersion` (a test counts the fields to remind you).
enum OrderSnapshotCoding {
    /// The views' state; `byCustomer` is not written, it follows from `created` and the orders.
    static func write(_ s: OrderViewsProjection.State, to w: inout SnapshotWriter) {
        w.writeCount(s.created.count)
        for c in s.created {
            w.write(c.position); w.write(c.orderId)
            guard let v = s.orders[c.orderId] else { w.write(false); continue }
            w.write(true)
            w.write(v.customerId); w.write(v.customerName); w.write(v.status.rawValue); w.write(v.currency)
            w.writeCount(v.lines.count)
            for l in v.lines { w.write(l.sku); w.write(l.quantity); w.write(l.unitPrice) }
            w.write(v.total); w.write(v.createdAt); w.write(v.updatedAt); w.write(v.version)
            w.write(v.rejectionReason); w.write(v.cancellationReason)
        }
        w.writeCount(s.stats.ordersByStatus.count)
        for (k, n) in s.stats.ordersByStatus { w.write(k); w.write(n) }
        w.writeCount(s.stats.revenueByCurrency.count)
        for (k, n) in s.stats.revenueByCurrency { w.write(k); w.write(n) }
        w.write(s.stats.orderCount)
    }

    static func readViews(_ r: inout SnapshotReader) throws -> OrderViewsProjection.State {
        var s = OrderViewsProjection.State()
        let n = try r.readCount()
        s.created.reserveCapacity(n)
        for i in 0..<n {
            let position = try r.readUInt64(), orderId = try r.readString()
            s.created.append(OrderViewsProjection.Created(position: position, orderId: orderId))
            guard try r.readBool() else { continue }
            let customerId = try r.readString(), customerName = try r.readOptionalString()
            guard let status = OrderStatus(rawValue: try r.readString()) else { throw SnapshotDecodingError(offset: i) }
            let currency = try r.readString()
            var lines: [OrderLine] = []
            let m = try r.readCount()
            lines.reserveCapacity(m)
            for _ in 0..<m { lines.append(OrderLine(sku: try r.readString(), quantity: try r.readInt(), unitPrice: try r.readInt64())) }
            s.orders[orderId] = OrderView(orderId: orderId, customerId: customerId, customerName: customerName, status: status,
                                          currency: currency, lines: lines, total: try r.readInt64(), createdAt: try r.readString(),
                                          updatedAt: try r.readString(), version: try r.readInt64(),
                                          rejectionReason: try r.readOptionalString(), cancellationReason: try r.readOptionalString())
            s.byCustomer[customerId, default: []].append(i)
        }
        s.stats.ordersByStatus = [:]
        for _ in 0..<(try r.readCount()) { let k = try r.readString(); s.stats.ordersByStatus[k] = try r.readInt() }
        for _ in 0..<(try r.readCount()) { let k = try r.readString(); s.stats.revenueByCurrency[k] = try r.readInt64() }
        s.stats.orderCount = try r.readInt()
        return s
    }

    static func write(_ customers: ReadModelDictionary<String, ReplicaCustomer>, to w: inout SnapshotWriter) {
        w.writeCount(customers.count)
        for (id, c) in customers {
            w.write(id); w.write(c.customerId); w.write(c.name); w.write(c.active); w.write(c.currency); w.write(c.creditLimit)
        }
    }

    static func readReplica(_ r: inout SnapshotReader) throws -> ReadModelDictionary<String, ReplicaCustomer> {
        let n = try r.readCount()
        var out = ReadModelDictionary<String, ReplicaCustomer>(minimumCapacity: n)
        for _ in 0..<n {
            let id = try r.readString()
            out[id] = ReplicaCustomer(customerId: try r.readString(), name: try r.readString(), active: try r.readBool(),
                                      currency: try r.readString(), creditLimit: try r.readInt64())
        }
        return out
    }
}
