import EventStore
import Foundation

/// How a PostgreSQL store connects and behaves.
public struct PostgresStoreOptions: Sendable {
    /// A libpq connection string or `postgresql://` URL.
    public var url: String
    /// The schema holding this store's tables (one per store: `customers`, `orders`, `public`).
    public var schema: String
    /// Seconds an append may wait for the database (disconnected, restarting) before it fails
    /// with `storeUnhealthy` (HTTP 503 + Retry-After). An append whose commit was sent but not
    /// answered is resent after a reconnect and settled by its event ids.
    public var appendDeadline: Double = 10
    /// Milliseconds between polls of the log's head: the fallback when a NOTIFY was missed
    /// (NOTIFY is a wake-up only; reads always go from the last position seen).
    public var pollInterval: UInt64 = 500
    /// Most appends, and most bytes of event data, in one group-commit batch.
    public var maxBatchAppends = 512
    public var maxBatchBytes = 8 << 20
    /// Test hook: milliseconds each batch of this store waits after taking its positions and
    /// before its COMMIT (0: none). The concurrency tests use it to make commits finish out of
    /// the order in which other writers started theirs.
    public var testHoldBeforeCommit = 0
    /// Only reads: no writer connection, no DDL at open (the schema must exist; a database role
    /// with SELECT on it suffices), every append refused. What a query replica opens.
    public var readOnly = false
    /// What `pg_stat_activity` shows for this store's connections.
    public var applicationName = "tributary"
    public var logger: @Sendable (StoreLogLevel, String) -> Void = { level, message in FileHandle.standardError.write(Data(("tributary: [\(level)] " + message + "\n").utf8)) }

    public init(url: String, schema: String) {
        self.url = url
        self.schema = schema
        applicationName = "tributary \(schema)"
    }

    /// `url` (URL or key=value form) with the application name added unless it names one, and
    /// JIT compilation off unless it sets server options itself.
    ///
    /// JIT off: this engine runs short statements with generic plans (the tail read, the append
    /// functions' statements), whose estimated costs can pass `jit_above_cost` although they
    /// touch a few rows; PostgreSQL then compiled the tail read on every execution, 6 ms of JIT
    /// for a 0.5 ms read (bench/REPORT.md, the split deployment).
    var conninfo: String {
        let name = applicationName.filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" || $0 == "_" }
        var settings: [(key: String, url: String, plain: String)] = []
        if !url.contains("application_name") {
            settings.append(("application_name", name.replacingOccurrences(of: " ", with: "%20"), "'\(name)'"))
        }
        if !url.contains("options") {
            settings.append(("options", "-c%20jit%3Doff", "'-c jit=off'"))
        }
        if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") {
            return settings.reduce(url) { $0 + ($0.contains("?") ? "&" : "?") + $1.key + "=" + $1.url }
        }
        return settings.reduce(url) { $0 + " " + $1.key + "=" + $1.plain }
    }
}

/// A store opened on PostgreSQL could not be opened: what the database said, in one line.
public struct PostgresOpenError: Error, CustomStringConvertible {
    public let description: String
}

