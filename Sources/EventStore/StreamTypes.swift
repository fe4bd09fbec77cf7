import Foundation

/// The name of an event stream, e.g. `order-42`.
///
/// The *category* is the part before the first `-` (`order`); a name without a dash
/// is its own category. Categories drive `EventFilter` and read-model subscriptions.
public struct StreamName: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The full stream name as given.
    public let value: String

    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }

    /// The prefix before the first `-`, or the whole name if it has no dash.
    public var category: String {
        if let dash = value.firstIndex(of: "-") { return String(value[..<dash]) }
        return value
    }

    public var description: String { value }
    public static func < (lhs: StreamName, rhs: StreamName) -> Bool { lhs.value < rhs.value }
}

/// The version of an event within its stream: the first event of a stream is version 0.
public struct StreamVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: Int64
    public init(_ value: Int64) { self.value = value }
    /// Version of the first event in every stream.
    public static let first = StreamVersion(0)
    /// A sentinel meaning "the newest event", useful to read a stream backward from its head.
    public static let end = StreamVersion(Int64.max)
    public var description: String { String(value) }
    public static func < (lhs: StreamVersion, rhs: StreamVersion) -> Bool { lhs.value < rhs.value }
}

/// A position in the store's single global log.
///
/// Positions are gapless and equal to commit order: the first event ever appended is 1,
/// the next 2, and so on. `0` (`.start`) means "before everything"; APIs that take a
/// position to resume from (`readAll(from:)`, `subscribe(from:)`) treat it as a checkpoint
/// — the last position already seen — and return only events *after* it.
public struct LogPosition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }
    /// "Before everything": resuming from here yields the whole log.
    public static let start = LogPosition(0)
    public var description: String { String(value) }
    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool { lhs.value < rhs.value }
}

/// The optimistic-concurrency condition an append is checked against, atomically, by the store.
public enum ExpectedVersion: Hashable, Sendable, CustomStringConvertible {
    /// No check: append wherever the stream currently ends.
    case any
    /// The stream must not exist yet (it has no events).
    case noStream
    /// The stream must already have at least one event.
    case streamExists
    /// The stream's newest event must have exactly this version.
    case exact(StreamVersion)

    public var description: String {
        switch self {
        case .any: return "any"
        case .noStream: return "no-stream"
        case .streamExists: return "stream-exists"
        case .exact(let v): return String(v.value)
        }
    }
}

/// The unique identity of an event (a UUID), chosen by the writer so retries are idempotent.
///
/// Stored as two 64-bit halves: hashing and comparing them is cheap, which matters for the
/// per-store id index that makes appends idempotent.
public struct EventID: Hashable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    /// A new random (version 4) id, from the system's secure generator (buffered: `RandomWords`).
    public init() {
        let rng = RandomWords.shared
        high = (rng.next() & ~0xF000) | 0x4000                          // version 4
        low = (rng.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
    }

    public init(_ uuid: UUID) {
        let u = uuid.uuid
        high = UInt64(u.0) << 56 | UInt64(u.1) << 48 | UInt64(u.2) << 40 | UInt64(u.3) << 32
            | UInt64(u.4) << 24 | UInt64(u.5) << 16 | UInt64(u.6) << 8 | UInt64(u.7)
        low = UInt64(u.8) << 56 | UInt64(u.9) << 48 | UInt64(u.10) << 40 | UInt64(u.11) << 32
            | UInt64(u.12) << 24 | UInt64(u.13) << 16 | UInt64(u.14) << 8 | UInt64(u.15)
    }

    /// Parses the canonical textual UUID form; nil if malformed.
    public init?(uuidString: String) {
        guard let uuid = UUID(uuidString: uuidString) else { return nil }
        self.init(uuid)
    }

    public var uuid: UUID {
        let h = high, l = low
        return UUID(uuid: (UInt8(truncatingIfNeeded: h >> 56), UInt8(truncatingIfNeeded: h >> 48),
                           UInt8(truncatingIfNeeded: h >> 40), UInt8(truncatingIfNeeded: h >> 32),
                           UInt8(truncatingIfNeeded: h >> 24), UInt8(truncatingIfNeeded: h >> 16),
                           UInt8(truncatingIfNeeded: h >> 8), UInt8(truncatingIfNeeded: h),
                           UInt8(truncatingIfNeeded: l >> 56), UInt8(truncatingIfNeeded: l >> 48),
                           UInt8(truncatingIfNeeded: l >> 40), UInt8(truncatingIfNeeded: l >> 32),
                           UInt8(truncatingIfNeeded: l >> 24), UInt8(truncatingIfNeeded: l >> 16),
                           UInt8(truncatingIfNeeded: l >> 8), UInt8(truncatingIfNeeded: l)))
    }

    public var description: String { uuid.uuidString }
}

/// Metadata carried alongside an event's data; stored verbatim.
public struct EventMetadata: Hashable, Sendable {
    /// The id shared by every message caused, directly or not, by one original request.
    public var correlationId: String?
    /// The id of the message (command or event) that directly caused this event.
    public var causationId: String?
    /// Free-form string pairs (e.g. user id, tenant). Stored sorted by key.
    public var properties: [String: String]

    public init(correlationId: String? = nil, causationId: String? = nil, properties: [String: String] = [:]) {
        self.correlationId = correlationId
        self.causationId = causationId
        self.properties = properties
    }
}

/// An event to append: the store assigns its stream version, global position and timestamp.
public struct NewEvent: Hashable, Sendable {
    /// Unique id; re-appending the same id at the same place is a no-op (idempotency).
    public var id: EventID
    /// The event type name, past tense (e.g. `OrderPlaced`).
    public var type: String
    /// Version of the event's data schema, for upcasting (starts at 1).
    public var schemaVersion: Int
    /// The event's data, normally UTF-8 JSON; the store keeps the bytes exactly as given.
    public var data: [UInt8]
    public var metadata: EventMetadata

    public init(id: EventID = EventID(), type: String, schemaVersion: Int = 1, data: [UInt8], metadata: EventMetadata = EventMetadata()) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.data = data
        self.metadata = metadata
    }
}

/// An event as stored: the appended event plus where and when it was committed.
public struct RecordedEvent: Sendable {
    public var id: EventID
    public var stream: StreamName
    /// Version within `stream` (0 for the stream's first event).
    public var streamVersion: StreamVersion
    /// Global, gapless, commit-ordered position (1 for the store's first event).
    public var position: LogPosition
    public var type: String
    public var schemaVersion: Int
    public var data: [UInt8]
    /// Correlation, causation and properties. An event read from a file keeps its record's
    /// metadata bytes and decodes them on each access: most readers (projections) never look,
    /// and decoding every event's metadata up front (a dozen allocations) was a tenth of a
    /// full replay's CPU.
    public var metadata: EventMetadata {
        get { encodedMetadata.map(RecordFormat.decodeMetadata) ?? decodedMetadata }
        set { decodedMetadata = newValue; encodedMetadata = nil }
    }
    /// Commit time, from the store's injected clock (microsecond precision).
    public var timestamp: Date
    private var decodedMetadata: EventMetadata
    private var encodedMetadata: RecordFormat.EncodedMetadata?

    public init(id: EventID, stream: StreamName, streamVersion: StreamVersion, position: LogPosition,
                type: String, schemaVersion: Int, data: [UInt8], metadata: EventMetadata, timestamp: Date) {
        self.id = id; self.stream = stream; self.streamVersion = streamVersion; self.position = position
        self.type = type; self.schemaVersion = schemaVersion; self.data = data; self.decodedMetadata = metadata
        self.timestamp = timestamp
    }

    /// An event whose metadata stays encoded until read (nil: it has none).
    init(id: EventID, stream: StreamName, streamVersion: StreamVersion, position: LogPosition,
         type: String, schemaVersion: Int, data: [UInt8], encodedMetadata: RecordFormat.EncodedMetadata?, timestamp: Date) {
        self.init(id: id, stream: stream, streamVersion: streamVersion, position: position, type: type,
                  schemaVersion: schemaVersion, data: data, metadata: EventMetadata(), timestamp: timestamp)
        self.encodedMetadata = encodedMetadata
    }
}

extension RecordedEvent: Hashable {
    /// Equal when every field is, metadata compared decoded (however each side holds it).
    public static func == (a: RecordedEvent, b: RecordedEvent) -> Bool {
        a.id == b.id && a.stream == b.stream && a.streamVersion == b.streamVersion && a.position == b.position
            && a.type == b.type && a.schemaVersion == b.schemaVersion && a.data == b.data && a.timestamp == b.timestamp
            && a.metadata == b.metadata
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(position)
        hasher.combine(stream)
    }
}

/// The outcome of a successful (or idempotently repeated) append.
public struct AppendResult: Hashable, Sendable {
    /// The stream's version after the append: the version of the last event written.
    /// Pass it as `.exact(nextExpectedVersion)` to append again.
    public var nextExpectedVersion: StreamVersion
    /// Global position of the first event of this append.
    public var firstPosition: LogPosition
    /// Global position of the last event of this append (the one to wait for in read models).
    public var lastPosition: LogPosition

    public init(nextExpectedVersion: StreamVersion, firstPosition: LogPosition, lastPosition: LogPosition) {
        self.nextExpectedVersion = nextExpectedVersion
        self.firstPosition = firstPosition
        self.lastPosition = lastPosition
    }
}

/// Direction of a stream read.
public enum ReadDirection: Sendable, Hashable {
    case forward
    case backward
}

/// A filter for `readAll` and subscriptions. Empty lists mean "no restriction".
///
/// An event matches when its stream matches (no stream restriction, or its name starts with
/// one of `streamPrefixes`, or its category is in `categories`) and its type matches
/// (`eventTypes` empty or containing it).
public struct EventFilter: Hashable, Sendable {
    public var streamPrefixes: [String]
    public var categories: Set<String>
    public var eventTypes: Set<String>

    public init(streamPrefixes: [String] = [], categories: Set<String> = [], eventTypes: Set<String> = []) {
        self.streamPrefixes = streamPrefixes
        self.categories = categories
        self.eventTypes = eventTypes
    }

    public static func categories(_ names: String...) -> EventFilter { EventFilter(categories: Set(names)) }
    public static func eventTypes(_ names: String...) -> EventFilter { EventFilter(eventTypes: Set(names)) }
    public static func streamPrefixes(_ prefixes: String...) -> EventFilter { EventFilter(streamPrefixes: prefixes) }

    /// Whether an event of `type` in `stream` passes this filter.
    public func matches(stream: String, type: String) -> Bool {
        if !eventTypes.isEmpty && !eventTypes.contains(type) { return false }
        if streamPrefixes.isEmpty && categories.isEmpty { return true }
        for p in streamPrefixes where stream.hasPrefix(p) { return true }
        if !categories.isEmpty {
            let cat: Substring
            if let dash = stream.utf8.firstIndex(of: UInt8(ascii: "-")) { cat = stream[..<dash] } else { cat = Substring(stream) }
            if categories.contains(String(cat)) { return true }
        }
        return false
    }
}

/// The latest snapshot saved for a stream (an aggregate's or projection's state at a version).
public struct Snapshot: Hashable, Sendable {
    /// The stream version the state reflects (events after it must still be applied).
    public var version: StreamVersion
    /// Opaque state bytes, normally JSON.
    public var data: [UInt8]
    public init(version: StreamVersion, data: [UInt8]) { self.version = version; self.data = data }
}

/// Whether the store accepts appends. An unhealthy store fails appends fast; reads still work.
public enum StoreHealth: Hashable, Sendable {
    case healthy
    /// A write or fsync failed (or the store was closed); the reason says which and why.
    case unhealthy(reason: String)

    public var isHealthy: Bool { if case .healthy = self { return true } else { return false } }
}

/// Counters for metrics. Monotonic since the store was opened.
public struct StoreStats: Hashable, Sendable {
    /// Append calls completed successfully (idempotent repeats included).
    public var appends: UInt64 = 0
    /// Events written to the log.
    public var eventsWritten: UInt64 = 0
    /// Group-commit batches written (one write call each).
    public var batches: UInt64 = 0
    /// fdatasync calls on the log.
    public var fsyncs: UInt64 = 0
    /// Bytes written to the log.
    public var bytesWritten: UInt64 = 0
    /// How long each flush took: an `fdatasync` of the log, or on PostgreSQL a batch's
    /// round trip to its COMMIT.
    public var syncSeconds = Distribution(bounds: Distribution.syncBounds)
    /// Events per group-commit batch.
    public var batchEvents = Distribution(bounds: Distribution.batchBounds)
    public init() {}
}

/// Observations counted in fixed buckets (upper bounds, ascending; one more bucket above the
/// last), with their sum: what a Prometheus histogram renders, kept where the observations
/// happen (a store's writer thread) and read at scrape time.
public struct Distribution: Hashable, Sendable {
    public let bounds: [Double]
    /// Per bucket, not cumulative; the last one counts what is above every bound.
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    /// Flush durations in seconds, 50 µs … 2.5 s.
    public static let syncBounds: [Double] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5]
    /// Latencies in seconds, 0.5 ms … 10 s.
    public static let latencyBounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Batch sizes in events, 1 … 4096.
    public static let batchBounds: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

    public init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    public mutating func observe(_ value: Double) {
        var i = 0
        while i < bounds.count && value > bounds[i] { i += 1 }
        counts[i] += 1
        sum += value
        count += 1
    }
}

/// A page of a store's streams (`EventStore.listStreams`).
public struct StreamPage: Hashable, Sendable {
    public struct Stream: Hashable, Sendable {
        public var name: StreamName
        public var version: StreamVersion
        public init(name: StreamName, version: StreamVersion) { self.name = name; self.version = version }
    }
    public var streams: [Stream]
    /// The cursor of the next page, nil on the last one.
    public var next: String?
    public init(streams: [Stream], next: String?) { self.streams = streams; self.next = next }
}
