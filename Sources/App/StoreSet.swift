import API
import EventStore
import Foundation
import Logging
import PostgresStore
import UV

/// Where one store lives: a directory of the embedded file engine, or a PostgreSQL database
/// (the store then has a schema of its own, `tributary_<store>`).
public enum StoreLocation: Equatable, Sendable, CustomStringConvertible {
    case directory(String)
    case postgres(url: String)

    /// `postgresql://…` or `postgres://…` is a database; anything else a directory.
    public init(_ text: String) {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") { self = .postgres(url: text) } else { self = .directory(text) }
    }

    public var description: String {
        switch self {
        case .directory(let path): return path
        case .postgres(let url): return Self.redacted(url)
        }
    }

    /// A URL with its password hidden, for logs and banners.
    static func redacted(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://"), scheme.upperBound < at,
              let colon = url[scheme.upperBound..<at].firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
    }
}

/// The stores: one private store per service and the shared public log (docs/architecture.md,
/// "The argument"). Each is in its own subdirectory of the data directory unless configured to
/// live elsewhere (another directory, or a PostgreSQL database).
final class StoreSet {
    /// Store names: subdirectory names on files, schema names on PostgreSQL.
    static let names = ["customers", "orders", "public"]

    let stores: [(name: String, store: EventStore)]

    /// The PostgreSQL schema of store `name`: `tributary_<name>` (not the database's own
    /// `public` schema, and clear about whose tables these are).
    static func schemaName(_ name: String) -> String { "tributary_\(name)" }

    /// Where each store lives: `locations[name]`, else `default` (a database for all), else
    /// the store's subdirectory of `dataDirectory`.
    static func locations(dataDirectory: String, postgres: String?, overrides: [String: StoreLocation]) -> [(String, StoreLocation)] {
        names.map { name in
            if let o = overrides[name] { return (name, o) }
            if let url = postgres { return (name, .postgres(url: url)) }
            return (name, .directory((dataDirectory as NSString).appendingPathComponent(name)))
        }
    }

    /// Opens the stores in parallel (independent; each recovers on its own).
    /// `loop` drives PostgreSQL connections (needed only when a store is on PostgreSQL).
    /// The engines' own lines (recovery, health, connection state) go to `log` with `store=NAME`.
    /// `readOnly`: the stores on PostgreSQL are opened read-only (a query replica's).
    init(locations: [(String, StoreLocation)], durability: Durability, loop: EventLoop?, executor: CompletionExecutor,
         log: Logger = Logger(label: "tributary"), readOnly: Bool = false) throws {
        let outcomes = concurrently(locations.count) { i -> EventStore in
            let (name, location) = locations[i]
            let storeLog: @Sendable (StoreLogLevel, String) -> Void = { level, message in
                log.log(level: Logger.Level(level), "\(message)", metadata: ["component": "store", "store": "\(name)"])
            }
            switch location {
            case .directory(let path):
                var options = FileEventStoreOptions(durability: durability.storeDurability)
                options.executor = executor
                options.logger = storeLog
                return try FileEventStore(directory: path, options: options)
            case .postgres(let url):
                guard let loop else { throw ConfigurationError("store '\(name)' is on PostgreSQL, which needs the loop") }
                // Durability on PostgreSQL is the database's (an ack means COMMIT returned).
                var options = PostgresStoreOptions(url: url, schema: StoreSet.schemaName(name))
                options.logger = storeLog
                options.readOnly = readOnly
                return try PostgresEventStore(loop: loop, executor: executor, options: options)
            }
        }
        var opened: [(String, EventStore)] = []
        var failure: Error?
        for ((name, _), outcome) in zip(locations, outcomes) {
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

    /// Every store in its subdirectory of `dataDirectory`.
    convenience init(dataDirectory: String, durability: Durability, executor: CompletionExecutor) throws {
        try self.init(locations: Self.locations(dataDirectory: dataDirectory, postgres: nil, overrides: [:]),
                      durability: durability, loop: nil, executor: executor)
    }

    subscript(name: String) -> EventStore? { stores.first { $0.name == name }?.store }

    /// The stores by name, as the API reports them.
    var named: [(name: String, store: EventStore)] { stores }

    var allHealthy: Bool { stores.allSatisfy { $0.store.health.isHealthy } }

    func close() {
        for (_, store) in stores { store.close() }
    }
}
