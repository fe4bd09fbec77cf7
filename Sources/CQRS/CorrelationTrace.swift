import Foundation
import EventStore
import JSON

/// Correlation id → the positions of a store's events that carry it (the first
/// `maxPositionsPerId`), for the newest `capacity` correlation ids (older ones are forgotten
/// first: a trace is for recent sagas).
/// Every command of a saga carries the correlation id of the request that started it (the
/// consumers pass it on), so one id finds the whole saga in every store.
public final class CorrelationIndex: Projection, BackgroundReplayable {
    public let name: String
    public let capacity: Int
    /// A `ReadModelDictionary`: up to `capacity` ids, one per saga.
    private(set) var positions = ReadModelDictionary<String, [LogPosition]>()
    /// Correlation ids in the order they were first seen (eviction order).
    private var arrival: [String] = []
    private var arrivalHead = 0

    public init(name: String, capacity: Int = 100_000) {
        self.name = name
        self.capacity = max(1, capacity)
    }

    public func apply(_ event: RecordedEvent) throws {
        guard let id = event.metadata.correlationId, !id.isEmpty else { return }
        if positions[id] == nil {
            arrival.append(id)
            if arrival.count - arrivalHead > capacity {
                positions[arrival[arrivalHead]] = nil
                arrivalHead += 1
                if arrivalHead > 4096 && arrivalHead * 2 > arrival.count { arrival.removeFirst(arrivalHead); arrivalHead = 0 }
            }
        }
        // A correlation id is the client's to choose: one reused for ever must not grow without bound.
        if positions[id, default: []].count < Self.maxPositionsPerId { positions[id, default: []].append(event.position) }
    }

    /// Events kept per correlation id (the first ones: a saga's start).
    public static let maxPositionsPerId = 1_000

    /// The positions of the events carrying `id`, oldest first (empty when none or forgotten).
    public func positions(of id: String) -> [LogPosition] { positions[id] ?? [] }

    public func makeEmpty() -> CorrelationIndex { CorrelationIndex(name: name, capacity: capacity) }
    public func adoptState(of other: CorrelationIndex) {
        positions = other.positions
        arrival = other.arrival
        arrivalHead = other.arrivalHead
    }
}

/// One event of a trace: where it is, what it is, what caused it.
public struct TraceEntry: Codable, Hashable, Sendable {
    /// The store (`customers`, `orders`, `public`).
    public var store: String
    public var position: UInt64
    public var stream: String
    public var type: String
    public var eventId: String
    public var time: String
    public var correlationId: String?
    /// The event id of its cause (an internal event for a public one, a public event for a
    /// saga's reaction, the request's correlation for a client's command).
    public var causationId: String?
    public var data: JSONValue
}

/// Finds every event of a correlation id across stores (`GET /admin/trace/{id}`): each store
/// has a `CorrelationIndex` fed by its own runner; the events are read from the stores off
/// the loop. Loop-confined.
public final class CorrelationTracer {
    public struct Source {
        public var name: String
        public var store: EventStore
        public var runner: ProjectionRunner
        let index: CorrelationIndex
    }

    public private(set) var sources: [Source] = []

    public init(stores: [(name: String, store: EventStore)], executor: CompletionExecutor, scheduler: Scheduler,
                capacity: Int = 100_000, logger: @escaping CQRSLogger = { _, _ in }) {
        for (name, store) in stores {
            let index = CorrelationIndex(name: "\(name).correlations", capacity: capacity)
            var options = ProjectionRunner.Options()
            options.enableBackgroundReplay(after: 4096)
            let runner = ProjectionRunner(projection: index, store: store, executor: executor, scheduler: scheduler,
                                          options: options, logger: logger)
            sources.append(Source(name: name, store: store, runner: runner, index: index))
        }
    }

    public func start() { for s in sources { s.runner.start() } }
    public func stop() { for s in sources { s.runner.stop() } }

    /// Every indexed event carrying `correlationId`, across the stores, oldest first by commit
    /// time; `completion` runs on the loop.
    public func trace(_ correlationId: String, completion: @escaping (Result<[TraceEntry], EventStoreError>) -> Void) {
        let wanted = sources.map { ($0.name, $0.store, $0.index.positions(of: correlationId)) }
        StoreIOThreads.run(sources.first?.store.executor ?? InlineExecutor(), {
            var entries: [TraceEntry] = []
            for (name, store, positions) in wanted {
                for p in positions {
                    guard let e = try store.readAll(from: LogPosition(p.value - 1), maxCount: 1, filter: nil).first,
                          e.position == p else { continue }
                    entries.append(TraceEntry(store: name, position: p.value, stream: e.stream.value, type: e.type,
                                              eventId: e.id.description.lowercased(), time: RFC3339.format(e.timestamp),
                                              correlationId: e.metadata.correlationId, causationId: e.metadata.causationId,
                                              data: JSONValue(jsonBytes: e.data)))
                }
            }
            return entries.sorted { ($0.time, $0.store, $0.position) < ($1.time, $1.store, $1.position) }
        }, completion: completion)
    }
}
