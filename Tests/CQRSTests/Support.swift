import Foundation
import EventStore
@testable import CQRS
import TributaryTesting

// MARK: - A tiny bank-account decider

/// Test-only aggregate. `AccountOpened` is at schema v2 (given/family name); v1 had `owner`.
struct AccountDecider: Decider {
    enum Command { case open(given: String, family: String), deposit(Int), withdraw(Int), touch }
    enum Event: Equatable { case opened(given: String, family: String), deposited(Int), withdrawn(Int) }
    struct State: Codable, Equatable { var isOpen = false; var given = ""; var family = ""; var balance = 0; var deposits = 0 }

    var stateSchemaVersion = 1
    var initialState: State { State() }

    func decide(_ command: Command, _ state: State) throws -> [Event] {
        switch command {
        case let .open(given, family):
            if state.isOpen { throw DomainError.conflict("already-open", "account is already open") }
            if given.isEmpty { throw DomainError.validation("invalid", "bad name", fields: [FieldError(field: "given", code: "required", message: "required")]) }
            return [.opened(given: given, family: family)]
        case .deposit(let n):
            guard state.isOpen else { throw DomainError.notFound("no-account", "no such account") }
            guard n > 0 else { throw DomainError.validation("invalid", "amount must be positive", fields: [FieldError(field: "amount", code: "positive", message: "> 0")]) }
            return [.deposited(n)]
        case .withdraw(let n):
            guard state.isOpen else { throw DomainError.notFound("no-account", "no such account") }
            guard state.balance >= n else { throw DomainError.conflict("insufficient-funds", "balance \(state.balance) < \(n)") }
            return [.withdrawn(n)]
        case .touch:
            return []
        }
    }

    func evolve(_ s: State, _ e: Event) -> State {
        var s = s
        switch e {
        case let .opened(g, f): s.isOpen = true; s.given = g; s.family = f
        case .deposited(let n): s.balance += n; s.deposits += 1
        case .withdrawn(let n): s.balance -= n
        }
        return s
    }

    struct OpenedV2: Codable { var givenName: String; var familyName: String }
    struct Amount: Codable { var amount: Int }

    func encode(_ e: Event) throws -> EncodedEvent {
        switch e {
        case let .opened(g, f): return try .json("AccountOpened", version: 2, OpenedV2(givenName: g, familyName: f))
        case .deposited(let n): return try .json("Deposited", Amount(amount: n))
        case .withdrawn(let n): return try .json("Withdrawn", Amount(amount: n))
        }
    }

    struct UnknownEvent: Error {}
    func decode(_ e: EncodedEvent) throws -> Event {
        switch e.type {
        case "AccountOpened":
            let v = try e.decodeJSON(OpenedV2.self)
            return .opened(given: v.givenName, family: v.familyName)
        case "Deposited": return .deposited(try e.decodeJSON(Amount.self).amount)
        case "Withdrawn": return .withdrawn(try e.decodeJSON(Amount.self).amount)
        default: throw UnknownEvent()
        }
    }

    var upcasters: UpcasterChain {
        var chain = UpcasterChain()
        chain.registerObject(type: "AccountOpened", from: 1) { object in
            let owner = object.removeValue(forKey: "owner") as? String ?? ""
            let parts = owner.split(separator: " ", maxSplits: 1).map(String.init)
            object["givenName"] = parts.first ?? ""
            object["familyName"] = parts.count > 1 ? parts[1] : ""
        }
        return chain
    }
}

extension CommandHandler {
    /// Sends one command through the loop and awaits its completion.
    func send(_ command: D.Command, on stream: StreamName, _ mode: ConcurrencyMode = .retrying,
              context: CommandContext = CommandContext(), loop: TestLoop) async -> Result<CommandOutcome<D.Event>, CommandError> {
        await withCheckedContinuation { c in
            loop.queue.async { self.handle(command, on: stream, concurrency: mode, context: context) { c.resume(returning: $0) } }
        }
    }
}

/// Wraps a store to count reads and optionally interfere with appends.
final class InstrumentedStore: EventStore, @unchecked Sendable {
    let inner: EventStore
    var eventsRead = 0
    /// Called before each append is forwarded (e.g. to simulate a concurrent writer).
    var beforeAppend: ((StreamName) -> Void)?

    init(_ inner: EventStore) { self.inner = inner }

    var executor: CompletionExecutor { inner.executor }
    func mayHaveSnapshot(_ stream: StreamName) -> Bool { inner.mayHaveSnapshot(stream) }

    /// Appends to fail with `.storeUnhealthy` before forwarding resumes.
    var failingAppends = 0
    var executorForFailures: CompletionExecutor = InlineExecutor()
    /// Appends to these streams that fail with an error that is not "store unavailable", as
    /// many times as the count says.
    var failingStreams: [StreamName: Int] = [:]

    func append(to stream: StreamName, expected: ExpectedVersion, events: [NewEvent], completion: @escaping AppendCompletion) {
        if failingAppends > 0 {
            failingAppends -= 1
            executorForFailures.execute { completion(.failure(.storeUnhealthy(reason: "injected"))) }
            return
        }
        if let n = failingStreams[stream], n > 0 {
            failingStreams[stream] = n - 1
            executorForFailures.execute { completion(.failure(.invalidArgument("injected failure of '\(stream)'"))) }
            return
        }
        beforeAppend?(stream)
        inner.append(to: stream, expected: expected, events: events, completion: completion)
    }
    func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int) throws -> [RecordedEvent] {
        let r = try inner.readStream(stream, from: from, direction: direction, maxCount: maxCount)
        eventsRead += r.count
        return r
    }
    func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?) throws -> [RecordedEvent] {
        try inner.readAll(from: from, maxCount: maxCount, filter: filter)
    }
    func streamVersion(_ stream: StreamName) -> StreamVersion? { inner.streamVersion(stream) }
    func listStreams(containing: String?, after: String?, limit: Int) throws -> StreamPage {
        try inner.listStreams(containing: containing, after: after, limit: limit)
    }
    var lastPosition: LogPosition { inner.lastPosition }
    func subscribe(from: LogPosition, filter: EventFilter?, executor: CompletionExecutor, handler: @escaping ([RecordedEvent]) -> Void) -> Subscription {
        inner.subscribe(from: from, filter: filter, executor: executor, handler: handler)
    }
    func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8]) throws { try inner.saveSnapshot(stream, version: version, data: data) }
    func loadSnapshot(_ stream: StreamName) throws -> Snapshot? { try inner.loadSnapshot(stream) }
    var health: StoreHealth { inner.health }
    var stats: StoreStats { inner.stats }
    func close() { inner.close() }
}

/// Appends raw events synchronously from a test (off the loop).
func rawAppend(_ store: EventStore, _ stream: StreamName, _ events: [NewEvent], expected: ExpectedVersion = .any) throws -> AppendResult {
    try store.appendAndWait(to: stream, expected: expected, events: events).get()
}

func json(_ s: String) -> [UInt8] { Array(s.utf8) }

let account = AccountDecider()
