import CQRS

/// Binary snapshot layout of the customers read models (`SnapshotWriter`). Changing a field of
/// `CustomerRecord`, `CustomerState` or `CustomerOrderActivity` means changing this and bumping
/// the projections' `snapshotSchemaVersion` (a test counts the fields to remind you).
enum CustomerSnapshotCoding {
    static func write(_ records: ReadModelDictionary<String, CustomerRecord>, to w: inout SnapshotWriter) {
        w.writeCount(records.count)
        for (id, r) in records {
            w.write(id)
            let s = r.state
            w.write(s.registered); w.write(s.customerId); w.write(s.givenName); w.write(s.familyName); w.write(s.email)
            w.write(s.creditLimit); w.write(s.currency); w.write(s.active)
            w.writeCount(s.reservations.count)
            for (order, amount) in s.reservations { w.write(order); w.write(amount) }
            w.write(r.version); w.write(r.updatedAt)
        }
    }

    static func readRecords(_ r: inout SnapshotReader) throws -> ReadModelDictionary<String, CustomerRecord> {
        let n = try r.readCount()
        var out = ReadModelDictionary<String, CustomerRecord>(minimumCapacity: n)
        for _ in 0..<n {
            let id = try r.readString()
            var s = CustomerState()
            s.registered = try r.readBool(); s.customerId = try r.readString(); s.givenName = try r.readString()
            s.familyName = try r.readString(); s.email = try r.readString(); s.creditLimit = try r.readInt64()
            s.currency = try r.readString(); s.active = try r.readBool()
            let m = try r.readCount()
            if m > 0 {
                var reservations = [String: Int64](minimumCapacity: m)
                for _ in 0..<m { let k = try r.readString(); reservations[k] = try r.readInt64() }
                s.reservations = reservations
            }
            out[id] = CustomerRecord(state: s, version: try r.readInt64(), updatedAt: try r.readString())
        }
        return out
    }

    static func write(_ activity: ReadModelDictionary<String, CustomerOrderActivity>, to w: inout SnapshotWriter) {
        w.writeCount(activity.count)
        for (id, a) in activity { w.write(id); w.write(a.orderCount); w.write(a.lifetimeValue) }
    }

    static func readActivity(_ r: inout SnapshotReader) throws -> ReadModelDictionary<String, CustomerOrderActivity> {
        let n = try r.readCount()
        var out = ReadModelDictionary<String, CustomerOrderActivity>(minimumCapacity: n)
        for _ in 0..<n {
            let id = try r.readString()
            var a = CustomerOrderActivity()
            a.orderCount = try r.readInt(); a.lifetimeValue = try r.readInt64()
            out[id] = a
        }
        return out
    }
}
