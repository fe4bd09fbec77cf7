import CQRS
import EventStore
import Foundation
import HTTP
import JSON
import Metrics

/// The stores of this process, by name (`customers`, `orders`, `public`).
public typealias NamedStores = [(name: String, store: EventStore)]

/// `GET /health`, `GET /ready` and `GET /metrics`. `services` is read per request: nil while
/// the services start (the routes answer before the read models have replayed).
enum OperationalRoutes {
    static func install(on group: RouteGroup, stores: NamedStores, services: @escaping () -> [RunningService]?,
                        registry: MetricsRegistry, role: ProcessRole) {
        let runtimeMetrics = RuntimeMetrics(registry: registry)
        let health = HealthAnswer(role: role)
        group.get("/health") { context, responder in
            responder.respond(health.response(stores: stores, services: services(), turn: context.loop.turn))
        }
        // The usual answer, built once per writer state: readiness probes are frequent.
        var ready: (writer: ProcessRole.Writer, response: HTTPResponse)?
        group.get("/ready") { _, responder in
            let running = services()
            // Probes are frequent: the reasons are gathered only when there are some.
            if isReady(stores: stores, services: running) {
                if ready?.writer != role.writer { ready = (role.writer, json(["ready": true, "role": role.json], status: 200)) }
                return responder.respond(ready!.response)
            }
            let reasons = notReadyReasons(stores: stores, services: running)
            responder.respond(json(["ready": false, "role": role.json, "reasons": .array(reasons.map { .string($0) })], status: 503))
        }
        group.get("/metrics") { _, responder in
            runtimeMetrics.update(stores: stores, services: services(), role: role)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: MetricsRegistry.contentType)
            responder.respond(HTTPResponse(status: 200, headers: headers, body: Array(registry.render().utf8)))
        }
    }

    /// Liveness plus the state of every store and runtime component. 200 while everything
    /// works; 503 (same JSON report) when a store refuses appends or a component has stopped,
    /// so a failed projection is never a silent stall.
    static func healthResponse(_ state: HealthAnswer.State, role: JSONValue) -> HTTPResponse {
        var storeStatus: [String: JSONValue] = [:]
        for store in state.stores {
            var entry: [String: JSONValue] = ["lastPosition": .int(Int(store.lastPosition))]
            if let reason = store.unhealthyReason {
                entry["status"] = "unhealthy"
                entry["reason"] = .string(reason)
            } else {
                entry["status"] = "healthy"
            }
            storeStatus[store.name] = .object(entry)
        }
        let healthy = state.healthy
        var components: [JSONValue] = []
        for service in state.services {
            for c in service.components {
                var o: [String: JSONValue] = ["service": .string(service.name), "kind": .string(c.kind), "name": .string(c.name),
                                              "status": .string(c.status), "position": .int(Int(c.position.value)),
                                              "lag": .int(Int(c.lag)), "healthy": .bool(c.isHealthy)]
                if let e = c.error { o["error"] = .string(e) }
                if c.kind == "consumer" { o["parked"] = .int(c.parked) }
                if let r = c.rebuild {
                    o["rebuild"] = ["position": .int(Int(r.position.value)), "target": .int(Int(r.target.value))]
                }
                components.append(.object(o))
            }
        }
        let body: JSONValue = [
            "status": healthy ? "ok" : "degraded",
            "ready": .bool(state.ready),
            "role": role,
            "stores": .object(storeStatus),
            "components": .array(components),
        ]
        var response = json(body, status: healthy ? 200 : 503)
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    /// Every service's read models caught up.
    static func allReady(_ services: [RunningService]) -> Bool {
        for service in services where !service.isReady { return false }
        return true
    }

    /// Every service's read models caught up and every store accepting appends.
    static func isReady(stores: NamedStores, services: [RunningService]?) -> Bool {
        guard let services, allReady(services) else { return false }
        for (_, store) in stores where !store.health.isHealthy { return false }
        return true
    }

    /// Why this process should not get traffic now: a store that refuses appends (a full disk,
    /// a database that is down), read models still replaying. Empty when ready.
    static func notReadyReasons(stores: NamedStores, services: [RunningService]?) -> [String] {
        var reasons: [String] = []
        for (name, store) in stores {
            if case .unhealthy(let reason) = store.health { reasons.append("store \(name): \(reason)") }
        }
        guard let services else { return reasons + ["the services are starting"] }
        for service in services where !service.isReady {
            reasons.append("\(service.name): read models catching up")
        }
        return reasons
    }

    static func json(_ value: JSONValue, status: Int) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: headers, body: value.bytes)
    }
}

/// Store and runtime gauges for `/metrics`, refreshed at scrape time.
final class RuntimeMetrics {
    private let appends, events, batches, fsyncs, bytes: Counter
    private let syncDuration, batchSize: Histogram
    private let position, healthy, writerLeader: Gauge
    private let componentPosition, componentLag, componentHealthy, componentParked, componentRebuilding: Gauge
    private let componentParkedTotal, componentRetries: Counter
    private let projectionDelay: Histogram

    init(registry: MetricsRegistry) {
        appends = registry.counter("tributary_store_appends_total", help: "Appends completed", labelNames: ["store"])
        events = registry.counter("tributary_store_events_written_total", help: "Events written", labelNames: ["store"])
        batches = registry.counter("tributary_store_batches_total", help: "Group-commit batches written", labelNames: ["store"])
        fsyncs = registry.counter("tributary_store_fsyncs_total", help: "fdatasync calls on the log (COMMITs on PostgreSQL)", labelNames: ["store"])
        bytes = registry.counter("tributary_store_bytes_written_total", help: "Bytes written to the log", labelNames: ["store"])
        syncDuration = registry.histogram("tributary_store_sync_duration_seconds", help: "Time each flush took: an fdatasync of the log, or a batch's round trip to COMMIT on PostgreSQL",
                                          labelNames: ["store"], buckets: Distribution.syncBounds)
        batchSize = registry.histogram("tributary_store_batch_events", help: "Events per group-commit batch", labelNames: ["store"],
                                       buckets: Distribution.batchBounds)
        position = registry.gauge("tributary_store_last_position", help: "Newest committed global position", labelNames: ["store"])
        healthy = registry.gauge("tributary_store_healthy", help: "1 while the store accepts appends", labelNames: ["store"])
        writerLeader = registry.gauge("tributary_process_writer", help: "1 while this process writes its services' stores (the single process, or the lease holder), 0 for a standby or a query replica",
                                      labelNames: ["role", "service"])
        let labels = ["service", "kind", "name"]
        componentPosition = registry.gauge("tributary_component_position", help: "Position a projection, publisher or consumer has processed", labelNames: labels)
        componentLag = registry.gauge("tributary_component_lag", help: "Events behind the store it follows", labelNames: labels)
        componentHealthy = registry.gauge("tributary_component_healthy", help: "1 unless failed, stopped or holding parked events", labelNames: labels)
        componentParked = registry.gauge("tributary_component_parked", help: "Events parked and waiting for an operator", labelNames: labels)
        componentRebuilding = registry.gauge("tributary_component_rebuilding", help: "1 while an operator's rebuild of the read model runs", labelNames: labels)
        componentParkedTotal = registry.counter("tributary_component_parked_total", help: "Events parked since start", labelNames: labels)
        componentRetries = registry.counter("tributary_component_retries_total", help: "Retries of failed events since start", labelNames: labels)
        projectionDelay = registry.histogram("tributary_projection_delay_seconds",
                                             help: "Once live, from an event's commit to a read model having applied it, per delivered batch",
                                             labelNames: ["service", "name"], buckets: Distribution.latencyBounds)
    }

    func update(stores: NamedStores, services: [RunningService]?, role: ProcessRole) {
        writerLeader.set(role.writer == .leader ? 1 : 0, [role.name, role.service ?? ""])
        for (name, store) in stores {
            let s = store.stats
            appends.set(total: Double(s.appends), [name])
            events.set(total: Double(s.eventsWritten), [name])
            batches.set(total: Double(s.batches), [name])
            fsyncs.set(total: Double(s.fsyncs), [name])
            bytes.set(total: Double(s.bytesWritten), [name])
            syncDuration.set(counts: s.syncSeconds.counts, sum: s.syncSeconds.sum, count: s.syncSeconds.count, [name])
            batchSize.set(counts: s.batchEvents.counts, sum: s.batchEvents.sum, count: s.batchEvents.count, [name])
            position.set(Double(store.lastPosition.value), [name])
            healthy.set(store.health.isHealthy ? 1 : 0, [name])
        }
        for service in services ?? [] {
            for runner in service.projectionRunners {
                let d = runner.applyDelay
                projectionDelay.set(counts: d.counts, sum: d.sum, count: d.count, [service.name, runner.projection.name])
            }
        }
        for service in services ?? [] {
            for c in service.components {
                let l = [service.name, c.kind, c.name]
                componentPosition.set(Double(c.position.value), l)
                componentLag.set(Double(c.lag), l)
                componentHealthy.set(c.isHealthy ? 1 : 0, l)
                componentParked.set(Double(c.parked), l)
                componentRebuilding.set(c.rebuild == nil ? 0 : 1, l)
                componentParkedTotal.set(total: Double(c.parkedTotal), l)
                componentRetries.set(total: Double(c.retriesTotal), l)
            }
        }
    }
}

/// `/health`'s answer, kept with the state it reports. A probe gathers a stamp: numbers that
/// change whenever the document would (stores' positions, every component's status changes,
/// positions, lags and counts: `RunningService.appendHealthStamp`), plus the stores' reasons for
/// being unhealthy, readiness and the writer state. While the stamp is unchanged the probe gets
/// the kept bytes; any change gathers the whole state and builds the document again. Current
/// by construction; the JSON is encoded once per change, and a probe of an unchanged state
/// allocates nothing.
///
/// Probes given the loop's `turn` gather the stamp once per turn: the later probes of the same
/// turn get the answer of its first one. The state shown is then at most one turn old, and
/// never older than what a client saw before it sent the probe: a response written in one
/// turn is read by its client, and the client's next request by the server, in a later turn
/// (libuv reads a connection again within one turn only after a read that filled its 64 KiB
/// buffer, i.e. behind a pipelined burst the client sent before it had the response).
/// Under a flood of probes (a load balancer, a monitoring fleet) this takes the stamp out of
/// most of them. Loop-confined.
final class HealthAnswer {
    /// Everything `/health` shows.
    struct State {
        struct Store {
            var name: String
            var lastPosition: UInt64
            var unhealthyReason: String?
        }
        struct Service {
            var name: String
            var components: [ComponentHealth]
        }
        var stores: [Store]
        var services: [Service]
        var ready: Bool

        init(stores: NamedStores, services: [RunningService]?) {
            self.stores = stores.map { name, store in
                var reason: String?
                if case .unhealthy(let why) = store.health { reason = why }
                return Store(name: name, lastPosition: store.lastPosition.value, unhealthyReason: reason)
            }
            self.services = (services ?? []).map { Service(name: $0.name, components: $0.components) }
            ready = services.map { OperationalRoutes.allReady($0) } ?? false
        }

        var healthy: Bool { stores.allSatisfy { $0.unhealthyReason == nil } && services.allSatisfy { $0.components.allSatisfy(\.isHealthy) } }
    }

    /// A probe's stamp; two of each, the kept one and the one being gathered (swapped on a
    /// change), so that gathering reuses their storage.
    private struct Stamp: Equatable {
        var numbers: [UInt64] = []
        var reasons: [String?] = []

        mutating func gather(stores: NamedStores, services: [RunningService]?, role: ProcessRole) {
            numbers.removeAll(keepingCapacity: true)
            reasons.removeAll(keepingCapacity: true)
            switch role.writer {
            case .leader: numbers.append(1)
            case .standby: numbers.append(2)
            case .none: numbers.append(3)
            }
            for (_, store) in stores {
                numbers.append(store.lastPosition.value)
                if case .unhealthy(let why) = store.health { reasons.append(why) } else { reasons.append(nil) }
            }
            guard let services else { return numbers.append(0) }
            numbers.append(OperationalRoutes.allReady(services) ? 2 : 1)
            for service in services { service.appendHealthStamp(to: &numbers) }
        }
    }

    private var kept: HTTPResponse?
    /// The loop turn whose probe last gathered the stamp (nil: none, or a probe without a turn).
    private var keptTurn: UInt64?
    private var keptStamp = Stamp()
    private var probe = Stamp()
    /// Counts the documents built (each one a change of the state).
    private(set) var generation: UInt64 = 0
    private let role: ProcessRole

    init(role: ProcessRole) { self.role = role }

    /// The answer now; `turn` (the loop's) lets the probes of one turn share one gathering.
    func response(stores: NamedStores, services: [RunningService]?, turn: UInt64? = nil) -> HTTPResponse {
        if let turn, turn == keptTurn, let kept { return kept }
        keptTurn = turn
        probe.gather(stores: stores, services: services, role: role)
        if let kept, probe == keptStamp { return kept }
        let response = OperationalRoutes.healthResponse(State(stores: stores, services: services), role: role.json)
        kept = response
        swap(&keptStamp, &probe)
        generation += 1
        return response
    }
}

/// The `/health` document for a live feed of it (`/streams/health`): the current body, and a
/// number that changes exactly when the document does. Loop-confined.
public final class HealthDocument {
    private let answer: HealthAnswer
    private let stores: NamedStores
    private let services: () -> [RunningService]?

    public init(stores: NamedStores, services: @escaping () -> [RunningService]?, role: ProcessRole = .single) {
        answer = HealthAnswer(role: role)
        self.stores = stores
        self.services = services
    }

    /// The document now, and its generation (unchanged while the document is).
    public func current() -> (body: [UInt8], generation: UInt64) {
        let body = answer.response(stores: stores, services: services()).body
        return (body, answer.generation)
    }

    /// Each store's write totals (appends, events, group-commit batches, flushes): a reader
    /// that takes two of them computes rates and events per batch.
    public func storeTotals() -> (json: JSONValue, sum: UInt64) {
        var out: [String: JSONValue] = [:]
        var sum: UInt64 = 0
        for (name, store) in stores {
            let s = store.stats
            out[name] = ["appends": .int(Int(s.appends)), "events": .int(Int(s.eventsWritten)),
                         "batches": .int(Int(s.batches)), "fsyncs": .int(Int(s.fsyncs))]
            sum &+= s.appends &+ s.batches
        }
        return (.object(out), sum)
    }
}
