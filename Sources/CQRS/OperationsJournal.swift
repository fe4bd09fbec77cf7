import Foundation
import EventStore
import JSON

/// Who asked for an operator move, and why: recorded with the move.
public struct OperatorNote: Hashable, Sendable {
    /// The API token's name, or `development` when the server runs without tokens.
    public var by: String
    public var reason: String
    public init(by: String, reason: String) { self.by = by; self.reason = reason }
}

/// One entry of a service's operations journal: a parked event, or what an operator did about
/// a component (retry, skip, resume, rebuild) and what came of it. Stored as an event of the
/// service's runtime-internal `$operations` stream (never published, never fed to read models),
/// so the audit trail lives, and survives, with the service's own data.
public struct OperationEntry: Codable, Hashable, Sendable {
    /// The kind of entry (one of `OperationEntry.Kind`, the stored event type).
    public var type: String
    /// The component's name (a read model, the consumer).
    public var component: String
    /// `projection` or `consumer`.
    public var kind: String?
    /// The position, in the store the component follows, of the event concerned.
    public var position: UInt64?
    /// The event concerned (parked entries); for a public event, `stream` is its source service.
    public var eventId: String?
    public var eventType: String?
    public var stream: String?
    /// What went wrong (parked, a failed retry, a failed rebuild).
    public var error: String?
    /// Failed attempts before the event was parked (0: parked behind an earlier one).
    public var attempts: Int?
    /// The parked event's sequence (e.g. its order id): later events of the same sequence are
    /// parked behind it, and retried after it, so their order holds.
    public var sequence: String?
    /// `resolved` or `failed` (a retry); `failed` or `next` (where a resume started).
    public var outcome: String?
    public var by: String?
    public var reason: String?
    /// A finished rebuild: the events fed to the new view and how long it took.
    public var events: UInt64?
    public var seconds: Double?
    /// When it was recorded (RFC 3339) and where in the service's store (set when read back).
    public var recordedAt: String?
    public var recordPosition: UInt64?

    /// The stored event types (never rename: they are in every store that ever parked).
    public enum Kind: String, CaseIterable, Sendable {
        case parked = "operations.event-parked"
        case retried = "operations.parked-event-retried"
        case skipped = "operations.parked-event-skipped"
        case resumed = "operations.component-resumed"
        case rebuildStarted = "operations.rebuild-started"
        case rebuildFinished = "operations.rebuild-finished"
        case rebuildFailed = "operations.rebuild-failed"
    }

    public init(_ kind: Kind, component: String, kind componentKind: String? = nil, position: LogPosition? = nil,
                note: OperatorNote? = nil) {
        type = kind.rawValue
        self.component = component
        self.kind = componentKind
        self.position = position?.value
        by = note?.by
        reason = note?.reason
    }

    public var entryKind: Kind? { Kind(rawValue: type) }

    /// The entry as an event of the journal stream.
    func newEvent() throws -> NewEvent {
        var stored = self
        stored.recordedAt = nil
        stored.recordPosition = nil
        return NewEvent(type: type, data: try JSONCoding.encode(stored))
    }

    /// Reads an entry back from its event (nil for an event that is not one).
    init?(_ event: RecordedEvent) {
        guard Kind(rawValue: event.type) != nil, var entry = try? JSONCoding.decode(OperationEntry.self, from: event.data) else {
            return nil
        }
        entry.type = event.type
        entry.recordedAt = RFC3339.format(event.timestamp)
        entry.recordPosition = event.position.value
        self = entry
    }
}

/// What a service's operations journal says now: the parked events still waiting for an
/// operator, and the events each component was told to skip for good.
public struct OperationsLedger: Sendable {
    /// Component → position → the entry that parked it (retried-and-failed ones carry the last error).
    public private(set) var parked: [String: [UInt64: OperationEntry]] = [:]
    /// Component → positions it skips (a skipped parked event, a read model resumed after the
    /// event that stopped it); a rebuilt read model has none.
    public private(set) var skipped: [String: Set<UInt64>] = [:]
    /// Component → the position where its last rebuild was swapped in.
    public private(set) var rebuiltAt: [String: UInt64] = [:]

    public init() {}

    public mutating func apply(_ entry: OperationEntry) {
        guard let kind = entry.entryKind else { return }
        let c = entry.component
        switch kind {
        case .parked:
            guard let p = entry.position, skipped[c]?.contains(p) != true else { return }
            parked[c, default: [:]][p] = entry
        case .retried:
            guard let p = entry.position, var open = parked[c]?[p] else { return }
            if entry.outcome == "resolved" {
                parked[c]?[p] = nil
            } else {
                open.error = entry.error ?? open.error
                open.attempts = (open.attempts ?? 0) + 1
                parked[c]?[p] = open
            }
        case .skipped:
            guard let p = entry.position else { return }
            parked[c]?[p] = nil
            skipped[c, default: []].insert(p)
        case .resumed:
            if entry.outcome == "next", let p = entry.position { skipped[c, default: []].insert(p) }
        case .rebuildFinished:
            skipped[c] = nil
            if let p = entry.position { rebuiltAt[c] = max(rebuiltAt[c] ?? 0, p) }
        case .rebuildStarted, .rebuildFailed:
            break
        }
    }

    /// The parked events of `component`, oldest first.
    public func parked(_ component: String) -> [OperationEntry] {
        (parked[component] ?? [:]).sorted { $0.key < $1.key }.map { $0.value }
    }

    public func isParked(_ component: String, _ position: LogPosition) -> Bool { parked[component]?[position.value] != nil }

    /// The first event of `sequence` parked for `component` before `position`, if any.
    public func parkedAhead(_ component: String, sequence: String, before position: LogPosition) -> LogPosition? {
        var first: UInt64?
        for (p, entry) in parked[component] ?? [:] where p < position.value && entry.sequence == sequence {
            if first.map({ p < $0 }) ?? true { first = p }
        }
        return first.map(LogPosition.init)
    }

    public func skips(_ component: String, _ position: LogPosition) -> Bool { skipped[component]?.contains(position.value) == true }
}

/// A service's operations journal: the `$operations` stream of its own store, and the ledger
/// folded from it. Loop-confined; `load()` reads the stream off the loop once, on start.
public final class OperationsJournal {
    public static let stream = StreamName("$operations")

    public let store: EventStore
    public private(set) var ledger = OperationsLedger() { didSet { ledgerChanges &+= 1 } }
    /// Counts changes of `ledger` (a parked event, an operator's move, a reload).
    public private(set) var ledgerChanges: UInt64 = 0
    /// nil until loaded; then the load's error, if it failed.
    private var loadOutcome: Result<Void, EventStoreError>?
    private var loading = false
    private var waiting: [(EventStoreError?) -> Void] = []

    public init(store: EventStore) { self.store = store }

    /// Reads the journal (once) and calls `body` on the loop when it has: at once if it already
    /// has. `body` gets the read error, if any (the ledger is then empty, and the next call
    /// reads again).
    public func whenLoaded(_ body: @escaping (EventStoreError?) -> Void) {
        if let loadOutcome {
            if case .failure(let e) = loadOutcome { return body(e) }
            return body(nil)
        }
        waiting.append(body)
        guard !loading else { return }
        loading = true
        store.readStream(Self.stream) { [weak self] read in
            guard let self else { return }
            loading = false
            switch read {
            case .success(let events):
                for e in events { if let entry = OperationEntry(e) { ledger.apply(entry) } }
                loadOutcome = .success(())
            case .failure(let e):
                loadOutcome = .failure(e)
            }
            let all = waiting
            waiting = []
            var error: EventStoreError?
            if case .failure(let e) = loadOutcome {
                error = e
                loadOutcome = nil   // the next caller reads it again
            }
            for w in all { w(error) }
        }
    }

    /// Reads the journal again, into a fresh ledger (a standby taking over: the writer before it
    /// may have parked events and recorded moves since this process first read it), and calls
    /// `body` on the loop when it has.
    public func reload(_ body: @escaping (EventStoreError?) -> Void) {
        if !loading {
            loadOutcome = nil
            ledger = OperationsLedger()
        }
        whenLoaded(body)
    }

    /// Appends `entry` durably, then folds it into the ledger; `completion` runs on the loop.
    public func record(_ entry: OperationEntry, completion: @escaping (Result<OperationEntry, EventStoreError>) -> Void) {
        let event: NewEvent
        do { event = try entry.newEvent() } catch { return completion(.failure(.wrap(error))) }
        store.append(to: Self.stream, expected: .any, events: [event]) { [weak self] result in
            switch result {
            case .success(let r):
                var recorded = entry
                recorded.recordPosition = r.lastPosition.value
                recorded.recordedAt = RFC3339.format(Date())
                self?.ledger.apply(recorded)
                completion(.success(recorded))
            case .failure(let e):
                completion(.failure(e))
            }
        }
    }

    /// Every entry, oldest first (the audit trail), read off the loop.
    public func entries(completion: @escaping (Result<[OperationEntry], EventStoreError>) -> Void) {
        store.readStream(Self.stream) { read in
            completion(read.map { events in events.compactMap(OperationEntry.init) })
        }
    }
}
