import Foundation
import Testing
import TributaryTesting
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
            o.logger = { _, _ in }
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
    o.logger = { logs?.log($1) }
    return o
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { return e }; return nil }
    var success: Success? { if case .success(let s) = self { return s }; return nil }
}


/// Every engine runs the shared conformance suite (TributaryTesting's `StoreConformance`).
@Suite("EventStore conformance") struct EventStoreConformanceTests {
    @Test(arguments: StoreConformance.cases, Engine.allCases)
    func conformance(_ behaviour: StoreConformance.Case, engine: Engine) async throws {
        let (store, cleanup) = try engine.make(); defer { cleanup() }
        try await behaviour.run(store)
    }
}
