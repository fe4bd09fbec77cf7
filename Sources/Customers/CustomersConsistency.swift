import CQRS
import EventStore

/// Result of `CustomersService.rebuildAndCompare()`.
public struct CustomersConsistencyReport: Codable, Hashable, Sendable {
    /// True when the rebuilt read models equal the live ones.
    public var consistent: Bool
    /// The positions both were compared at (the live read models' positions).
    public var positions: CustomerPositions
    /// Registered customers compared.
    public var customersCompared: Int
    /// Human-readable differences (at most 50), empty when consistent.
    public var differences: [String]
}

extension CustomersService {
    /// Builds fresh read models from both stores, up to the positions the live ones reflect,
    /// and compares them (the consistency check usable after any run). Synchronous reads of
    /// both stores: run it on the loop, off the hot path.
    public func rebuildAndCompare() throws -> CustomersConsistencyReport {
        let positions = self.positions
        let freshDirectory = CustomerDirectoryProjection()
        let freshActivity = CustomerOrderActivityProjection()
        try CustomersService.replay(store, into: freshDirectory, upTo: LogPosition(positions.customers), upcasters: CustomerUpcasters.chain)
        try CustomersService.replay(publicLog, into: freshActivity, upTo: LogPosition(positions.publicLog), upcasters: UpcasterChain())
        var differences: [String] = []
        func note(_ s: String) { if differences.count < 50 { differences.append(s) } }
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
        return CustomersConsistencyReport(consistent: differences.isEmpty, positions: positions,
                                          customersCompared: freshDirectory.records.count, differences: differences)
    }

    private func describe(_ r: CustomerRecord?) -> String {
        guard let r else { return "absent" }
        return "v\(r.version) \(r.state.displayName) <\(r.state.email)> limit \(r.state.creditLimit) reserved \(r.state.reservedCredit) active \(r.state.active)"
    }

    /// Applies every event of `store` up to `position` that the projection's filter accepts.
    static func replay(_ store: EventStore, into projection: Projection, upTo position: LogPosition, upcasters: UpcasterChain) throws {
        var from = LogPosition.start
        while from < position {
            let batch = try store.readAll(from: from, maxCount: 4096, filter: nil)
            guard let last = batch.last else { return }
            for e in batch where e.position <= position && !RuntimeMetadata.isInternal(e.stream) {
                if projection.filter?.matches(stream: e.stream.value, type: e.type) ?? true {
                    try projection.apply(try upcasters.upcast(e))
                }
            }
            from = last.position
        }
    }
}
