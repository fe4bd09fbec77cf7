import EventStore
import Foundation

/// The embedded stores under the data directory: one private store per service and
/// the shared public log (DESIGN.md section 1). Each lives in its own subdirectory.
final class StoreSet {
    /// Store names, which are also their subdirectory names.
    static let names = ["customers", "orders", "public"]

    let stores: [(name: String, store: FileEventStore)]

    init(dataDirectory: String, durability: Durability, executor: CompletionExecutor) throws {
        var opened: [(String, FileEventStore)] = []
        do {
            for name in Self.names {
                var options = FileEventStoreOptions(durability: durability.storeDurability)
                options.executor = executor
                let store = try FileEventStore(directory: (dataDirectory as NSString).appendingPathComponent(name),
                                               options: options)
                opened.append((name, store))
            }
        } catch {
            for (_, store) in opened { store.close() }
            throw error
        }
        stores = opened
    }

    subscript(name: String) -> FileEventStore? { stores.first { $0.name == name }?.store }

    var allHealthy: Bool { stores.allSatisfy { $0.store.health.isHealthy } }

    func close() {
        for (_, store) in stores { store.close() }
    }
}
