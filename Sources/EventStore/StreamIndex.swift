/// The in-memory index shared by both engines: which positions belong to which stream
/// (stream version = index in that stream's position list) and which event id sits where.
///
/// Not thread-safe by itself: engines guard it (the file engine's writer thread is its only
/// mutator and publishes under a lock; readers copy the few values they need under that lock).
struct StreamIndex {
    struct Entry {
        let name: StreamName
        /// Global positions of the stream's events; `positions[v]` is version `v`.
        var positions: [UInt64]
    }

    /// Sharded: both grow with the log, and a `Dictionary`'s all-at-once rehash stalled the
    /// writer (`ShardedDictionary`).
    private(set) var ordinals = ShardedDictionary<StreamName, Int>()
    private(set) var streams: [Entry] = []
    /// Stream ordinal of each event, indexed by `position - 1`.
    private(set) var streamOfPosition: [UInt32] = []
    /// Every stored event id and its position (the idempotency index).
    private(set) var ids = ShardedDictionary<EventID, UInt64>()

    init() {}

    /// Rebuilds an index from per-position stream ordinals and ids (checkpoint load).
    init(streamNames: [StreamName], streamOfPosition: [UInt32], idsByPosition: [EventID]) {
        streams = streamNames.map { Entry(name: $0, positions: []) }
        ordinals.reserveCapacity(streamNames.count)
        for (i, n) in streamNames.enumerated() { ordinals[n] = i }
        self.streamOfPosition = streamOfPosition
        ids.reserveCapacity(idsByPosition.count)
        for (i, ord) in streamOfPosition.enumerated() {
            let p = UInt64(i + 1)
            streams[Int(ord)].positions.append(p)
            ids[idsByPosition[i]] = p
        }
    }

    var lastPosition: UInt64 { UInt64(streamOfPosition.count) }

    /// Version of the stream's newest event, nil if it has none.
    func version(of stream: StreamName) -> Int64? {
        guard let o = ordinals[stream] else { return nil }
        return Int64(streams[o].positions.count) - 1
    }

    func positions(of stream: StreamName) -> [UInt64]? {
        guard let o = ordinals[stream] else { return nil }
        return streams[o].positions
    }

    /// Positions of `stream` for versions in `range` (clamped), copied so callers never keep
    /// a reference to the index's own arrays (that would force a full copy on the next append).
    func positions(of stream: StreamName, versions range: Range<Int>) -> [UInt64] {
        guard let o = ordinals[stream] else { return [] }
        let all = streams[o].positions
        let lo = max(0, range.lowerBound), hi = min(all.count, range.upperBound)
        guard lo < hi else { return [] }
        return Array(all[lo..<hi])
    }

    /// Streams looked at per call at most: a rare filter over many streams answers a short page
    /// with a cursor rather than holding the engine's lock for a whole scan.
    static let listScanLimit = 10_000

    /// Streams in creation order after ordinal cursor `after`, those whose name contains
    /// `containing`, at most `limit` (`EventStore.listStreams` on files and in memory). A page
    /// may be short (or empty) and still have a `next`: the scan stops after `listScanLimit`.
    /// - Throws: `.invalidArgument` for a cursor this index did not issue.
    func list(containing: String?, after: String?, limit: Int) throws -> StreamPage {
        var i = 0
        if let after {
            guard let a = Int(after), a >= 0, a < streams.count else { throw EventStoreError.invalidArgument("not a stream cursor: \(after)") }
            i = a + 1
        }
        var out: [StreamPage.Stream] = []
        let needle = containing.flatMap { $0.isEmpty ? nil : $0 }
        let stop = min(streams.count, i + Self.listScanLimit)
        while i < stop, out.count < limit {
            let e = streams[i]
            if needle.map({ e.name.value.contains($0) }) ?? true {
                out.append(StreamPage.Stream(name: e.name, version: StreamVersion(Int64(e.positions.count - 1))))
            }
            i += 1
        }
        return StreamPage(streams: out, next: i < streams.count ? String(i - 1) : nil)
    }

    func streamName(atPosition p: UInt64) -> StreamName { streams[Int(streamOfPosition[Int(p - 1)])].name }

    /// Where an id is stored: stream, version and position.
    func locate(_ id: EventID) -> (stream: StreamName, version: Int64, position: UInt64)? {
        guard let p = ids[id] else { return nil }
        let entry = streams[Int(streamOfPosition[Int(p - 1)])]
        // Positions within a stream ascend, so binary search finds the version.
        var lo = 0, hi = entry.positions.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let v = entry.positions[mid]
            if v == p { return (entry.name, Int64(mid), p) }
            if v < p { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    /// Adds the next event of the log (position `lastPosition + 1`); returns its stream version.
    @discardableResult
    mutating func append(stream: StreamName, id: EventID) -> Int64 {
        let p = lastPosition + 1
        let o: Int
        if let existing = ordinals[stream] {
            o = existing
        } else {
            o = streams.count
            ordinals[stream] = o
            streams.append(Entry(name: stream, positions: []))
        }
        streams[o].positions.append(p)
        streamOfPosition.append(UInt32(o))
        ids[id] = p
        return Int64(streams[o].positions.count - 1)
    }

    /// Ids ordered by position, for checkpoints.
    func idsByPosition() -> [EventID] {
        var out = [EventID](repeating: EventID(high: 0, low: 0), count: streamOfPosition.count)
        for (id, p) in ids { out[Int(p - 1)] = id }
        return out
    }
}

/// Appends accepted but not yet committed in the current group-commit batch, so later appends
/// of the same batch are validated against them too.
struct BatchOverlay {
    var heads: [StreamName: Int64] = [:]
    var ids: [EventID: (stream: StreamName, version: Int64, position: UInt64)] = [:]
    var nextPosition: UInt64

    init(nextPosition: UInt64) { self.nextPosition = nextPosition }
}

/// What the store must do with one append.
enum AppendDecision {
    /// Write the events with these first version/position.
    case write(firstVersion: Int64, firstPosition: UInt64)
    /// All events are already stored where this append targets: answer with the original result.
    case duplicate(AppendResult)
    case reject(EventStoreError)
}

/// The rules on an append's arguments alone (no stored state): every engine checks them the
/// same way before anything else.
public enum AppendArguments {
    /// Longest stream name and event type, in UTF-8 bytes.
    public static let maxNameBytes = 65_535

    /// Why the arguments are invalid, nil when they are fine: no events, a stream name or event
    /// type empty or too long, a schema version out of range, an event id twice in one append.
    public static func check(stream: StreamName, events: [NewEvent]) -> EventStoreError? {
        if events.isEmpty { return .invalidArgument("an append needs at least one event") }
        if stream.value.isEmpty || stream.value.utf8.count > maxNameBytes {
            return .invalidArgument("stream name must be 1...\(maxNameBytes) bytes")
        }
        // Duplicate ids within one append: pairwise for small appends (no allocation), a set otherwise.
        if events.count > 1 {
            var duplicate: EventID?
            if events.count <= 16 {
                outer: for i in 1..<events.count { for j in 0..<i where events[i].id == events[j].id { duplicate = events[i].id; break outer } }
            } else {
                var seen = Set<EventID>(minimumCapacity: events.count)
                for e in events where !seen.insert(e.id).inserted { duplicate = e.id; break }
            }
            if let duplicate { return .invalidArgument("event id \(duplicate) appears twice in one append") }
        }
        for e in events {
            if e.type.isEmpty || e.type.utf8.count > maxNameBytes { return .invalidArgument("event type must be 1...\(maxNameBytes) bytes") }
            if e.schemaVersion < 0 || e.schemaVersion > Int(UInt32.max) { return .invalidArgument("schema version out of range") }
        }
        return nil
    }
}

enum AppendValidator {
    static let maxNameBytes = AppendArguments.maxNameBytes

    /// Decides one append against the committed `index` plus the batch `overlay`, and records
    /// an accepted append in the overlay. The single place where the contract's rules live.
    static func decide(index: StreamIndex, overlay: inout BatchOverlay, stream: StreamName,
                       expected: ExpectedVersion, events: [NewEvent]) -> AppendDecision {
        if let invalid = AppendArguments.check(stream: stream, events: events) { return .reject(invalid) }
        // Look the ids up: all new (normal path), all stored (idempotent repeat), or a conflict.
        var known: [(stream: StreamName, version: Int64, position: UInt64)] = []
        for e in events {
            if let hit = overlay.ids[e.id] ?? index.locate(e.id) { known.append(hit) }
        }
        if !known.isEmpty {
            return repeatDecision(stream: stream, expected: expected, count: events.count, known: known)
        }
        let current = overlay.heads[stream] ?? index.version(of: stream)
        switch expected {
        case .any: break
        case .noStream:
            if current != nil { return .reject(.wrongExpectedVersion(stream: stream, expected: expected, actual: current.map(StreamVersion.init))) }
        case .streamExists:
            if current == nil { return .reject(.wrongExpectedVersion(stream: stream, expected: expected, actual: nil)) }
        case .exact(let v):
            if current != v.value { return .reject(.wrongExpectedVersion(stream: stream, expected: expected, actual: current.map(StreamVersion.init))) }
        }
        let firstVersion = (current ?? -1) + 1
        let firstPosition = overlay.nextPosition
        for (i, e) in events.enumerated() {
            overlay.ids[e.id] = (stream, firstVersion + Int64(i), firstPosition + UInt64(i))
        }
        overlay.heads[stream] = firstVersion + Int64(events.count) - 1
        overlay.nextPosition += UInt64(events.count)
        return .write(firstVersion: firstVersion, firstPosition: firstPosition)
    }

    private static func repeatDecision(stream: StreamName, expected: ExpectedVersion, count: Int,
                                       known: [(stream: StreamName, version: Int64, position: UInt64)]) -> AppendDecision {
        if known.count < count {
            return .reject(.idempotencyConflict(stream: stream, reason: "\(known.count) of \(count) event ids are already stored (partial overlap)"))
        }
        for (i, k) in known.enumerated() {
            if k.stream != stream {
                return .reject(.idempotencyConflict(stream: stream, reason: "event id already stored in stream '\(k.stream)'"))
            }
            if k.version != known[0].version + Int64(i) {
                return .reject(.idempotencyConflict(stream: stream, reason: "event ids are stored, but not consecutively in this order"))
            }
        }
        let first = known[0].version
        let placeOK: Bool
        switch expected {
        case .any, .streamExists: placeOK = true
        case .noStream: placeOK = first == 0
        case .exact(let v): placeOK = first == v.value + 1
        }
        if !placeOK {
            return .reject(.idempotencyConflict(stream: stream, reason: "event ids are stored at versions \(first)...\(known[known.count - 1].version), not where expected version \(expected) places them"))
        }
        return .duplicate(AppendResult(nextExpectedVersion: StreamVersion(known[known.count - 1].version),
                                       firstPosition: LogPosition(known[0].position),
                                       lastPosition: LogPosition(known[known.count - 1].position)))
    }
}
