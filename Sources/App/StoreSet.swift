import EventStore
import Foundation

/// The embedded stores under the data directory: one private store per service and
/// the shared public log (docs/architecture.md, "The argument"). Each lives in its own subdirectory.
final class StoreSet {
    /// Store names, which are also their subdirectory names.
    static let names = ["customers", "orders", "public"]

    let stores: [(name: String, store: FileEventStore)]

    /// Opens the stores in parallel (independent directories; each recovers on its own).
    init(dataDirectory: String, durability: Durability, executor: CompletionExecutor) throws {
        let outcomes = concurrently(Self.names.count) { i in
            var options = FileEventStoreOptions(durability: durability.storeDurability)
            options.executor = executor
            return try FileEventStore(directory: (dataDirectory as NSString).appendingPathComponent(Self.names[i]), options: options)
        }
        var opened: [(String, FileEventStore)] = []
        var failure: Error?
        for (name, outcome) in zip(Self.names, outcomes) {
            switch outcome {
            case .success(let store): opened.append((name, store))
            case .failure(let error): failure = failure ?? error
            }
        }
        if let failure {
            for (_, store) in opened { store.close() }
            throw failure
        }
        stores = opened
    }

    subscript(name: String) -> FileEventStore? { stores.first { $0.name == name }?.store }

    /// The stores by name, as the API reports them.
    var named: [(name: String, store: EventStore)] { stores.map { ($0.name, $0.store as EventStore) } }

    var allHealthy: Bool { stores.allSatisfy { $0.store.health.isHealthy } }

    func close() {
        for (_, store) in stores { store.close() }
    }
}
