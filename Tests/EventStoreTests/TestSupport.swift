import Foundation
import Testing
@testable import EventStore

/// A fresh directory under the system temp dir, removed by `remove()`.
final class TempDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "eventstore-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
    func sub(_ name: String) -> String { path + "/" + name }
}

/// Collects log lines from the store.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func log(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

/// Thread-safe collector for subscription deliveries.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [RecordedEvent] = []
    func add(_ e: [RecordedEvent]) { lock.lock(); events.append(contentsOf: e); lock.unlock() }
    var all: [RecordedEvent] { lock.lock(); defer { lock.unlock() }; return events }
    var count: Int { lock.lock(); defer { lock.unlock() }; return events.count }
}

/// Polls `condition` until true or a generous bound passes (a failure bound, not a timing assertion).
func eventually(_ seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    // (The conditions below take locks; they are synchronous helpers, fine to call here.)
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 2_000_000)
    }
    return condition()
}

func event(_ type: String = "Happened", _ body: String = "{}", id: EventID = EventID()) -> NewEvent {
    NewEvent(id: id, type: type, data: Array(body.utf8))
}

func events(_ n: Int, type: String = "Happened") -> [NewEvent] {
    (0..<n).map { event(type, "{\"n\":\($0)}") }
}

/// The engines every conformance test runs against.
enum Engine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case file

    var testDescription: String { rawValue }

    /// A fresh, empty store and a cleanup closure.
    func make() throws -> (store: EventStore, cleanup: () -> Void) {
        switch self {
        case .memory:
            let s = MemoryEventStore(executor: DispatchQueueExecutor())
            return (s, { s.close() })
        case .file:
            let dir = TempDirectory()
            var o = FileEventStoreOptions(durability: .fsync)
            o.logger = { _ in }
            let s = try FileEventStore(directory: dir.path, options: o)
            return (s, { s.close(); dir.remove() })
        }
    }
}

func fileOptions(_ durability: FileEventStoreOptions.Durability = .fsync, io: FileIO = SystemFileIO(),
                 logs: LogCapture? = nil, useCheckpoint: Bool = true) -> FileEventStoreOptions {
    var o = FileEventStoreOptions(durability: durability)
    o.fileIO = io
    o.useCheckpoint = useCheckpoint
    o.logger = { logs?.log($0) }
    return o
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { return e }; return nil }
    var success: Success? { if case .success(let s) = self { return s }; return nil }
}

/// Runs `body` against an error-expecting async append and returns the store error.
func appendError(_ store: EventStore, _ stream: StreamName, _ expected: ExpectedVersion, _ evs: [NewEvent]) async -> EventStoreError? {
    do {
        _ = try await store.append(to: stream, expected: expected, events: evs)
        return nil
    } catch let e as EventStoreError {
        return e
    } catch {
        return nil
    }
}
