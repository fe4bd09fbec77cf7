import Foundation
import EventStore

/// Metadata property names the runtime writes (stable: they are stored forever).
public enum RuntimeMetadata {
    /// On the first event of a command sent with an idempotency key: the key.
    public static let idempotencyKey = "idempotency-key"
    /// The request fingerprint that came with the key.
    public static let fingerprint = "idempotency-fingerprint"
    /// When the command was handled, milliseconds since 1970 (injected clock): starts retention.
    public static let handledAt = "idempotency-at"
    /// How many events the command appended (0 for a marker, see `markerStream`).
    public static let eventCount = "idempotency-count"
    /// On a marker only: the target stream, its version ("" if none) and position.
    public static let targetStream = "idempotency-stream"
    public static let targetVersion = "idempotency-version"
    public static let targetPosition = "idempotency-position"
    /// Stream receiving one marker event per idempotent command that appended nothing, so such
    /// commands are remembered too. Streams starting with `$` are runtime-internal: projections
    /// and publishers skip them.
    public static let markerStream = StreamName("$idempotency")
    public static let markerType = "IdempotentCommandRecorded"

    /// Whether `stream` is runtime-internal (starts with `$`).
    public static func isInternal(_ stream: StreamName) -> Bool { stream.value.utf8.first == UInt8(ascii: "$") }
}

/// Remembers the outcome of every command sent with an idempotency key, for a retention window.
///
/// **Durability.** Nothing is stored here that is not already in the event store: the key,
/// fingerprint and time travel in the metadata of the first event the command appended
/// (atomically with the effect — no window where the effect exists and the key does not), or,
/// for a command that appended nothing, in a marker event in `$idempotency`. After a restart
/// `rebuild(from:)` (or `observe` during the app's own startup scan) restores the index.
///
/// **What is replayed.** The *outcome* (stream, versions, position, events), not response
/// bytes: the response body depends on the position, which only exists after the append, so it
/// cannot be stored atomically with the events. Same key + same fingerprint means the same
/// command, so the app re-renders the same response from the replayed outcome. Only
/// successes are remembered; a rejected command stores nothing and is decided again on retry.
///
/// Loop-confined. Share one index between all handlers of one store.
public final class IdempotencyIndex {
    /// What a key's first successful command produced.
    public struct Entry: Hashable, Sendable {
        public var fingerprint: String
        public var stream: StreamName
        /// Version of the first event appended, nil if the command appended nothing.
        public var firstVersion: StreamVersion?
        public var eventCount: Int
        /// The stream's version after the command (nil: the stream had no events).
        public var version: StreamVersion?
        /// Position to wait for to read this command's effects.
        public var position: LogPosition
        public var handledAt: Date
    }

    /// Result of `lookup`.
    public enum Lookup: Hashable, Sendable {
        /// Key unknown or expired: handle the command.
        case miss
        /// Key known with the same fingerprint: replay this outcome.
        case hit(Entry)
        /// Key known with another fingerprint: reject.
        case mismatch(Entry)
    }

    /// How long a key is remembered after its command was handled.
    public let retention: TimeInterval
    private let clock: () -> Date
    /// Internal (not private) for `StartupScanProjection`'s snapshots.
    var entries: [String: Entry] = [:]
    private var insertsSincePrune = 0
    /// Inserts between two prunes when the index is small.
    static let minInsertsBetweenPrunes = 4096
    /// Prunes so far (for tests).
    private(set) var prunes = 0

    /// - Parameters:
    ///   - retention: window during which a key is replayed (default 24 h).
    ///   - clock: "now", injected so expiry is testable.
    public init(retention: TimeInterval = 24 * 3600, clock: @escaping () -> Date = Date.init) {
        self.retention = retention
        self.clock = clock
    }

    /// Number of keys currently held (expired ones may linger until pruned).
    public var count: Int { entries.count }

    /// Looks `key` up; an expired entry is dropped and reported as `.miss`.
    public func lookup(key: String, fingerprint: String) -> Lookup {
        guard let e = entries[key] else { return .miss }
        if clock().timeIntervalSince(e.handledAt) > retention {
            entries[key] = nil
            return .miss
        }
        return e.fingerprint == fingerprint ? .hit(e) : .mismatch(e)
    }

    func record(key: String, _ entry: Entry) {
        entries[key] = entry
        insertsSincePrune += 1
        // A prune rebuilds the whole dictionary, so it waits for a number of inserts in
        // proportion to the size: O(1) per insert, and the index holds at most ~1.5× its live
        // keys. Pruning every 4096 inserts made a startup scan of 300k keys quadratic.
        if insertsSincePrune >= max(Self.minInsertsBetweenPrunes, entries.count / 2) { pruneExpired() }
    }

    /// Drops every expired key.
    public func pruneExpired() {
        insertsSincePrune = 0
        prunes += 1
        let now = clock()
        entries = entries.filter { now.timeIntervalSince($0.value.handledAt) <= retention }
    }

    /// Feeds one stored event (in any order); events without runtime idempotency metadata are
    /// ignored. Call it for every event of a startup scan, or use `rebuild(from:)`.
    public func observe(_ event: RecordedEvent) {
        observe(event, properties: event.metadata.properties)
    }

    /// `observe` with the event's metadata properties already decoded.
    public func observe(_ event: RecordedEvent, properties p: [String: String]) {
        guard let key = p[RuntimeMetadata.idempotencyKey], let fp = p[RuntimeMetadata.fingerprint] else { return }
        let at = p[RuntimeMetadata.handledAt].flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) } ?? event.timestamp
        if clock().timeIntervalSince(at) > retention { return }
        let count = p[RuntimeMetadata.eventCount].flatMap(Int.init) ?? 1
        let entry: Entry
        if count == 0 {
            guard let s = p[RuntimeMetadata.targetStream] else { return }
            entry = Entry(fingerprint: fp, stream: StreamName(s), firstVersion: nil, eventCount: 0,
                          version: p[RuntimeMetadata.targetVersion].flatMap(Int64.init).map(StreamVersion.init),
                          position: LogPosition(p[RuntimeMetadata.targetPosition].flatMap(UInt64.init) ?? 0), handledAt: at)
        } else {
            entry = Entry(fingerprint: fp, stream: event.stream, firstVersion: event.streamVersion, eventCount: count,
                          version: StreamVersion(event.streamVersion.value + Int64(count) - 1),
                          position: LogPosition(event.position.value + UInt64(count) - 1), handledAt: at)
        }
        if entries[key] == nil { record(key: key, entry) }
    }

    /// Rebuilds the index by scanning the whole store (startup). Returns the events scanned.
    @discardableResult
    public func rebuild(from store: EventStore, chunk: Int = 4096) throws -> Int {
        try StoreScan.forEach(in: store, chunk: chunk) { observe($0) }
    }

    static func millis(_ d: Date) -> String { String(Int64((d.timeIntervalSince1970 * 1000).rounded())) }
}
