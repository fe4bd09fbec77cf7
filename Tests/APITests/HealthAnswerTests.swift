import CQRS
import EventStore
import HTTP
import Testing
@testable import API

/// A service whose components and readiness the test sets.
final class HealthFake: RunningService {
    let name = "fake"
    let store: EventStore = MemoryEventStore(executor: InlineExecutor())
    let publicLog: EventStore = MemoryEventStore(executor: InlineExecutor())
    let idempotency = IdempotencyIndex()
    let consumerName: String? = nil
    let projectionRunners: [ProjectionRunner] = []
    var components: [ComponentHealth] = [ComponentHealth(kind: "projection", name: "view", status: "live", position: .start, lag: 0)] {
        didSet { changes += 1 }
    }
    /// The fake's stamp: one count of every change of `components`.
    private var changes: UInt64 = 0
    func appendHealthStamp(to stamp: inout [UInt64]) { stamp.append(changes) }
    var isReady = true
    var writes = true
    let feeds: [CQRS.Feed] = [.own]
    let generation: UInt64 = 0
    func position(_ feed: CQRS.Feed) -> LogPosition { .start }
    func tokenName(_ feed: CQRS.Feed) -> String { name }
    func wait(forPosition position: LogPosition, in feed: CQRS.Feed, timeout: Duration, completion: @escaping (PositionWaitResult) -> Void) {
        completion(.reached(.start))
    }
    func startReadModels() {}
    func start(consumerFrom: LogPosition?) throws {}
    func stop() {}
}

@Suite("/health: the kept answer is current")
struct HealthAnswerTests {
    private func body(_ r: HTTPResponse) -> String { String(decoding: r.body, as: UTF8.self) }

    @Test("the same state gives the kept bytes; a store position, a component's status or lag, or readiness builds it again")
    func keptWhileUnchanged() throws {
        let service = HealthFake()
        let stores: NamedStores = [("fake", service.store)]
        let answer = HealthAnswer(role: .single)
        let first = answer.response(stores: stores, services: [service])
        #expect(first.status == 200 && body(first).contains(#""lastPosition":0"#))
        #expect(body(answer.response(stores: stores, services: [service])) == body(first))

        _ = service.store.appendAndWait(to: "s-1", expected: .any, events: [NewEvent(type: "t", data: Array("{}".utf8))])
        let appended = answer.response(stores: stores, services: [service])
        #expect(body(appended).contains(#""lastPosition":1"#))

        service.components[0].lag = 1
        service.components[0].status = "catching-up"
        let behind = answer.response(stores: stores, services: [service])
        #expect(body(behind).contains(#""lag":1"#) && body(behind).contains(#""status":"catching-up""#))

        service.components[0].status = "failed"
        service.components[0].error = "at position 1: boom"
        let failed = answer.response(stores: stores, services: [service])
        #expect(failed.status == 503 && body(failed).contains("boom") && body(failed).contains(#""status":"degraded""#))

        service.isReady = false
        #expect(body(answer.response(stores: stores, services: [service])).contains(#""ready":false"#))
        #expect(body(answer.response(stores: stores, services: nil)).contains(#""components":[]"#))
    }

    @Test("probes of one loop turn share its first answer; the next turn sees every change")
    func oneGatheringPerTurn() throws {
        let service = HealthFake()
        let stores: NamedStores = [("fake", service.store)]
        let answer = HealthAnswer(role: .single)
        let first = body(answer.response(stores: stores, services: [service], turn: 7))
        #expect(first.contains(#""lastPosition":0"#))
        _ = service.store.appendAndWait(to: "s-1", expected: .any, events: [NewEvent(type: "t", data: Array("{}".utf8))])
        service.components[0].status = "failed"
        #expect(body(answer.response(stores: stores, services: [service], turn: 7)) == first)
        let next = answer.response(stores: stores, services: [service], turn: 8)
        #expect(next.status == 503 && body(next).contains(#""lastPosition":1"#))
        // Without a turn (the live feed), every call gathers.
        service.components[0].status = "live"
        #expect(answer.response(stores: stores, services: [service]).status == 200)
        service.components[0].status = "stopped"
        #expect(answer.response(stores: stores, services: [service], turn: 8).status == 503)
    }

    @Test("the document names the process's role; a standby taking the lease builds it again")
    func roleAndWriterChange() throws {
        let service = HealthFake()
        let stores: NamedStores = [("fake", service.store)]
        let role = ProcessRole(name: "customers", service: "customers", writer: .standby, waitingFor: "test.")
        let answer = HealthAnswer(role: role)
        let standby = body(answer.response(stores: stores, services: [service]))
        #expect(standby.contains(#""role":{"name":"customers","service":"customers","writer":"standby"}"#))
        role.becameLeader()
        #expect(body(answer.response(stores: stores, services: [service])).contains(#""writer":"leader""#))
        let replica = HealthAnswer(role: ProcessRole(name: "query", service: "orders", writer: .none))
        #expect(body(replica.response(stores: stores, services: [service])).contains(#""role":{"name":"query","service":"orders","writer":"none"}"#))
    }

    @Test("a standby refuses writes with 503 and Retry-After, a query replica with 421, a writer not at all")
    func writeRefusals() throws {
        let standby = ProcessRole(name: "orders", service: "orders", writer: .standby, waitingFor: "another process holds the lease.")
        let refused = try #require(standby.writeRefusal())
        #expect(refused.status == 503 && refused.headers["Retry-After"] == "1" && refused.detail?.contains("holds the lease") == true)
        #expect(ProcessRole(name: "query", service: "orders", writer: .none).writeRefusal()?.status == 421)
        #expect(ProcessRole.single.writeRefusal() == nil)
        standby.becameLeader()
        #expect(standby.writeRefusal() == nil)
    }
}
