import Foundation
import CQRS
import EventStore

/// One customer as the directory read model keeps it: the folded state plus stream metadata.
public struct CustomerRecord: Codable, Hashable, Sendable {
    public var state: CustomerState
    public var version: Int64
    public var updatedAt: String
}

/// Read model of the customers store: every registered customer, folded from its internal
/// events (same `evolve` as the aggregate), plus an id index for stable, paginated listing.
public final class CustomerDirectoryProjection: Projection {
    public let name: String
    public var filter: EventFilter? { .categories(CustomerID.category) }
    /// 2: binary (`SnapshotWriter`, see `CustomerSnapshotCoding`); 1 was JSON.
    public var snapshotSchemaVersion: Int { 2 }

    /// Registered customers by id.
    public private(set) var records = ReadModelDictionary<String, CustomerRecord>()
    /// Folded state of streams not registered (yet): saga rejections for unknown ids.
    private var unregistered = ReadModelDictionary<String, CustomerRecord>()
    private var index = SortedIDIndex()
    private let decider = CustomerDecider()
    /// Change notification: called after each applied event with the id of the customer whose
    /// record changed (loop thread; e.g. for SSE). Must not apply events itself.
    public var onChange: ((_ customerId: String) -> Void)?

    public init(name: String = "customers-directory") { self.name = name }

    public func apply(_ event: RecordedEvent) throws {
        guard let id = CustomerID.id(of: event.stream) else { return }
        let decoded = try decider.decode(EncodedEvent(type: event.type, schemaVersion: event.schemaVersion, data: event.data))
        // Registered: changed in place (no copy of the customer's reservations per event).
        let changed: Void? = records.modifyValue(forKey: id) { record in
            decider.apply(decoded, to: &record.state)
            record.version = event.streamVersion.value
            record.updatedAt = RFC3339.format(event.timestamp)
        }
        if changed != nil {
            onChange?(id)
            return
        }
        var record = unregistered[id]
            ?? CustomerRecord(state: decider.initialState, version: -1, updatedAt: "")
        record.state = decider.evolve(record.state, decoded)
        record.version = event.streamVersion.value
        record.updatedAt = RFC3339.format(event.timestamp)
        if record.state.registered {
            if records[id] == nil { index.insert(id); unregistered[id] = nil }
            records[id] = record
        } else {
            unregistered[id] = record
        }
        onChange?(id)
    }

    /// Registered customer ids in ascending order, starting after `cursor`.
    func ids(after cursor: String?) -> ArraySlice<String> { index.ids(after: cursor) }

    /// Copies both dictionaries (copy-on-write, O(1)); the runner encodes them off the loop.
    public func captureSnapshot() throws -> SnapshotEncoding? {
        let records = self.records, unregistered = self.unregistered
        return SnapshotWriter.encoding(capacity: (records.count + unregistered.count) * 160) { w in
            CustomerSnapshotCoding.write(records, to: &w)
            CustomerSnapshotCoding.write(unregistered, to: &w)
        }
    }

    public func restore(from bytes: [UInt8]) throws {
        let (restored, pending) = try SnapshotReader.readAll(bytes) { r in
            (try CustomerSnapshotCoding.readRecords(&r), try CustomerSnapshotCoding.readRecords(&r))
        }
        records = restored
        unregistered = pending
        index = SortedIDIndex()
        for id in records.keys { index.insert(id) }
    }

    /// Same content (for the consistency check): records and pending unregistered streams.
    func sameContent(as other: CustomerDirectoryProjection) -> Bool {
        records == other.records && unregistered == other.unregistered
    }
}

/// Ids in ascending order: a sorted array plus a small unsorted buffer merged on read, so a
/// replay of many registrations costs one sort instead of one array insertion each.
struct SortedIDIndex {
    private var sorted: [String] = []
    private var pending: [String] = []

    mutating func insert(_ id: String) { pending.append(id) }

    var count: Int { sorted.count + pending.count }

    /// Ids after `cursor` (all when nil), ascending.
    mutating func ids(after cursor: String?) -> ArraySlice<String> {
        if !pending.isEmpty {
            pending.sort()
            if sorted.isEmpty { sorted = pending } else if pending.count > sorted.count / 8 {
                sorted += pending
                sorted.sort()
            } else {
                var merged: [String] = []
                merged.reserveCapacity(sorted.count + pending.count)
                var i = 0, j = 0
                while i < sorted.count || j < pending.count {
                    if j == pending.count || (i < sorted.count && sorted[i] < pending[j]) { merged.append(sorted[i]); i += 1 }
                    else { merged.append(pending[j]); j += 1 }
                }
                sorted = merged
            }
            pending = []
        }
        guard let cursor else { return sorted[...] }
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= cursor { lo = mid + 1 } else { hi = mid }
        }
        return sorted[lo...]
    }
}

extension CustomerDirectoryProjection: BackgroundReplayable {
    public func makeEmpty() -> CustomerDirectoryProjection { CustomerDirectoryProjection(name: name) }

    public func adoptState(of other: CustomerDirectoryProjection) {
        records = other.records
        unregistered = other.unregistered
        index = other.index
        if let onChange { for id in records.keys { onChange(id) } }
    }
}
