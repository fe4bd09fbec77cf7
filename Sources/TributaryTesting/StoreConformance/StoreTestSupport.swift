import EventStore
import Foundation

// What store tests share: events to append, a thread-safe collector for deliveries, bounded
// polling, and the error of an append expected to fail.

/// Thread-safe collector for subscription deliveries.
public final class Collected: @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var events: [RecordedEvent] = []
    public func add(_ e: [RecordedEvent]) { lock.lock(); events.append(contentsOf: e); lock.unlock() }
    public var all: [RecordedEvent] { lock.lock(); defer { lock.unlock() }; return events }
    public var count: Int { lock.lock(); defer { lock.unlock() }; return events.count }
}

/// Polls `condition` until true or a generous bound passes (a failure bound, not a timing assertion).
public func eventually(_ seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    // (The conditions below take locks; they are synchronous helpers, fine to call here.)
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 2_000_000)
    }
    return condition()
}

public func event(_ type: String = "Happened", _ body: String = "{}", id: EventID = EventID()) -> NewEvent {
    NewEvent(id: id, type: type, data: Array(body.utf8))
}

public func events(_ n: Int, type: String = "Happened") -> [NewEvent] {
    (0..<n).map { event(type, "{\"n\":\($0)}") }
}

/// Runs `body` against an error-expecting async append and returns the store error.
public func appendError(_ store: EventStore, _ stream: StreamName, _ expected: ExpectedVersion, _ evs: [NewEvent]) async -> EventStoreError? {
    do {
        _ = try await store.append(to: stream, expected: expected, events: evs)
        return nil
    } catch let e as EventStoreError {
        return e
    } catch {
        return nil
    }
}
