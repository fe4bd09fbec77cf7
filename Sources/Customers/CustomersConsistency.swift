import CQRS
import EventStore

extension CustomersService {
    /// Builds fresh read models from both stores (off the loop), up to the positions the live
    /// ones reflect, and compares them on the loop (the consistency check usable after any run).
    public func rebuildAndCompare(completion: @escaping (Result<ConsistencyReport, Error>) -> Void) {
        let positions = self.positions
        runtime.rebuild({ replayer in
            let freshDirectory = CustomerDirectoryProjection()
            let freshActivity = CustomerOrderActivityProjection()
            try replayer.replay(.own, into: freshDirectory, upTo: LogPosition(positions.own))
            try replayer.replay(.publicLog, into: freshActivity, upTo: LogPosition(positions.publicLog))
            return (freshDirectory, freshActivity)
        }, then: { [self] rebuilt in
            completion(rebuilt.map { compare(positions, $0.0, $0.1) })
        })
    }

    private func compare(_ positions: ServicePositions, _ freshDirectory: CustomerDirectoryProjection,
                         _ freshActivity: CustomerOrderActivityProjection) -> ConsistencyReport {
        var differences: [String] = []
        func note(_ s: String) { if differences.count < ConsistencyReport.maxDifferences { differences.append(s) } }
        for id in Set(directory.records.keys).union(freshDirectory.records.keys).sorted() where directory.records[id] != freshDirectory.records[id] {
            note("customer '\(id)': live \(describe(directory.records[id])) vs rebuilt \(describe(freshDirectory.records[id]))")
        }
        if differences.isEmpty && !directory.sameContent(as: freshDirectory) {
            note("unregistered customer streams differ")
        }
        for id in Set(orderActivity.activity.keys).union(freshActivity.activity.keys).sorted()
        where orderActivity.activity[id] != freshActivity.activity[id] {
            note("order activity of '\(id)': live \(String(describing: orderActivity.activity[id])) vs rebuilt \(String(describing: freshActivity.activity[id]))")
        }
        return ConsistencyReport(positions: positions, compared: freshDirectory.records.count, differences: differences)
    }

    private func describe(_ r: CustomerRecord?) -> String {
        guard let r else { return "absent" }
        return "v\(r.version) \(r.state.displayName) <\(r.state.email)> limit \(r.state.creditLimit) reserved \(r.state.reservedCredit) active \(r.state.active)"
    }
}
