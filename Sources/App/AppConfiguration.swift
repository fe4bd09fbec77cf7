import API
import CQRS
import EventStore
import Foundation
import Logging
import HTTP
import LiveFeeds
import UV

/// How appends reach the disk before they are acknowledged (see `FileEventStoreOptions.Durability`).
public enum Durability: String, Sendable, CaseIterable {
    /// Group commit, `fdatasync` before acknowledging: acknowledged means on disk.
    case fsync
    /// Acknowledge once written to the OS, `fdatasync` at most every few milliseconds.
    case batch
    /// Never `fdatasync` (tests, demos, benchmarks).
    case none

    var storeDurability: FileEventStoreOptions.Durability {
        switch self {
        case .fsync: return .fsync
        case .batch: return .batch(maxDelayMillis: 10)
        case .none: return .none
        }
    }
}

/// Everything `tributary serve` can be told. Times are in seconds.
public struct AppConfiguration {
    /// `HOST:PORT` or `[IPv6]:PORT`; port 0 picks a free port.
    public var listen: [String] = ["127.0.0.1:8080"]
    /// Where the command API (`/commands/...`) is served; empty: on `listen`.
    public var commandListen: [String] = []
    /// Where the query API (queries, history, public log, streams, admin) is served; empty: on `listen`.
    public var queryListen: [String] = []
    /// Root of the embedded stores: one subdirectory per store.
    public var dataDirectory = "./data"
    /// A PostgreSQL database for every store (each in a schema named after it) instead of
    /// files under `dataDirectory`; nil: the embedded file engine.
    public var postgres: String?
    /// Stores that live elsewhere than the others: a directory or a `postgresql://` URL.
    public var storeLocations: [String: StoreLocation] = [:]
    /// What this process runs: every service (the default), one service's writer, or a query
    /// replica of one service (docs/deployment.md).
    public var role = ServerRole.all
    /// Milliseconds between a standby's tries for its service's writer lease.
    public var leaseRetryInterval: UInt64 = 1_000
    /// The stores' names (`--store NAME=...`).
    public static var storeNames: [String] { StoreSet.names }
    public var durability = Durability.fsync
    public var maxConnections = 10_000
    public var maxBodyBytes = 1 << 20
    /// Client commands accepted and not yet answered, server-wide; more get 503 + `Retry-After`.
    public var maxQueuedCommands = 2_048
    public var headerTimeout = 10.0
    public var idleTimeout = 60.0
    public var bodyTimeout = 30.0
    public var shutdownGrace = 10.0
    /// Snapshot each read model every this many events of the store it follows, and on a
    /// graceful shutdown, so a restart replays only the tail; 0: no snapshots (full replay).
    public var snapshotEvery: UInt64 = 50_000
    /// Minimum seconds between two periodic snapshots of one read model (bounds the background
    /// work under a heavy write load; a crash then replays at most this long's worth of events).
    public var snapshotMinInterval = 10.0
    /// A read model further behind its store than this many events on start catches up off
    /// the loop (replayed into a fresh copy on a background thread, in parallel with the
    /// others, then swapped in); 0: always.
    public var backgroundReplayAfter: UInt64 = 4096
    /// Server-sent-event feeds: heartbeat, limits, per-subscriber buffers.
    public var liveFeeds = LiveFeedSettings()
    /// `Access-Control-Allow-Origin` for these origins (`*`: any). Empty: no CORS headers.
    public var corsOrigins: [String] = []
    /// API tokens (hashed) that may call the API. Empty: development mode — no
    /// authentication, and only loopback listen addresses are accepted.
    public var tokens = APITokenSet()
    /// The web console's sessions (a token exchanged for a cookie), shared by the gate and the routes.
    public let consoleSessions = ConsoleSessions()

    /// No tokens configured: the API is open, so it may only listen on loopback.
    public var isDevelopmentMode: Bool { tokens.isEmpty }

    /// Where the server's lines go: the start banner, the runtime's (projection failures,
    /// publisher retries, snapshots, replay progress), the stores' and, at `debug`, one line per
    /// request. `tributary serve` bootstraps swift-log with `TributaryLogHandler`; an embedding
    /// program passes its own logger. Used on the loop thread and, during start-up, on the
    /// threads that scan the stores in parallel (swift-log handlers are thread-safe).
    public var log = Logger(label: "tributary")

    /// The runtime's log lines, as swift-log events of `log`.
    var logger: CQRSLogger {
        let log = self.log
        return { level, message in log.log(level: Logger.Level(level), "\(message)", metadata: ["component": "runtime"]) }
    }

    /// Startup replay progress (events replayed, rate, ETA), as info lines of `log`.
    var progress: (ReplayProgress) -> Void {
        let log = self.log
        return { p in
            guard p.replayed > 0 else { return }
            let eta = p.etaSeconds.map { String(format: ", ETA %.1fs", $0) } ?? ""
            log.info("\(String(format: "replay %@: %llu events (position %llu of %llu), %.0f events/s%@%@", p.projection, p.replayed, p.position.value, p.target.value, p.eventsPerSecond, eta, p.done ? ", done" : ""))",
                     metadata: ["component": "replay", "projection": "\(p.projection)", "position": "\(p.position.value)"])
        }
    }

    public init() {}

    /// One HTTP server per group of addresses serving the same APIs (commands, queries or
    /// both; operational routes everywhere), each with its server middleware (CORS, the API
    /// split, access control), or an error naming what does not parse or may not be exposed.
    /// Where each store lives, all things considered.
    var resolvedStoreLocations: [(String, StoreLocation)] {
        StoreSet.locations(dataDirectory: dataDirectory, postgres: postgres, overrides: storeLocations)
            .filter { role.storeNames.contains($0.0) }
    }

    /// For a split role, the database whose advisory locks arbitrate the writer lease (the
    /// public log's, which every process of the deployment shares), or the error saying which
    /// store is not on PostgreSQL. nil for the single process.
    func splitRoleDatabase() throws -> String? {
        guard role != .all else { return nil }
        var publicURL: String?
        for (name, location) in resolvedStoreLocations {
            guard case .postgres(let url) = location else {
                throw ConfigurationError("--role \(role) needs every store it opens on PostgreSQL, where the other processes reach it; "
                    + "store '\(name)' is the directory \(location). Use --postgres URL (or --store \(name)=postgresql://...).")
            }
            if name == "public" { publicURL = url }
        }
        return publicURL
    }

    /// The start banner's account of the stores: `data DIR` when they are all in their
    /// subdirectories of it, else where each one is.
    var storesBanner: String {
        let role = self.role == .all ? "" : "role \(self.role), "
        return role + storesDescription
    }

    private var storesDescription: String {
        if postgres == nil && storeLocations.isEmpty { return "durability \(durability.rawValue), data \(dataDirectory)" }
        let onFiles = resolvedStoreLocations.contains { if case .directory = $0.1 { return true } else { return false } }
        return (onFiles ? "durability \(durability.rawValue) on files, " : "") + "stores "
            + resolvedStoreLocations.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    func httpConfigurations() throws -> [(apis: ServedAPIs, configuration: HTTPServerConfiguration)] {
        func parse(_ texts: [String]) throws -> [SocketAddress] {
            try texts.map { text in
                guard let address = SocketAddress(parsing: text) else {
                    throw ConfigurationError("cannot parse listen address '\(text)' (expected HOST:PORT or [IPv6]:PORT)")
                }
                return address
            }
        }
        let commandAddresses = (commandListen.isEmpty ? "listen" : "command", try parse(commandListen.isEmpty ? listen : commandListen))
        let queryAddresses = (queryListen.isEmpty ? "listen" : "query", try parse(queryListen.isEmpty ? listen : queryListen))
        // Group addresses by what they serve, keeping the order they were given in. Port 0
        // ("any free port") entries of different options are different listeners.
        var order: [String] = []
        var byAddress: [String: (address: SocketAddress, apis: ServedAPIs)] = [:]
        for ((source, addresses), api) in [(commandAddresses, ServedAPIs.commands), (queryAddresses, .queries)] {
            for (i, address) in addresses.enumerated() {
                let key = address.port == 0 ? "\(source)#\(i)" : address.description
                if byAddress[key] == nil { order.append(key); byAddress[key] = (address, []) }
                byAddress[key]!.apis.insert(api)
            }
        }
        if isDevelopmentMode {
            let exposed = order.compactMap { byAddress[$0] }.map { $0.address }.filter { !LoopbackAddress.isLoopback($0.host) }
            if !exposed.isEmpty {
                throw ConfigurationError("refusing to listen on \(exposed.map { $0.description }.joined(separator: ", ")) without authentication: "
                    + "no API tokens are configured, and development mode is loopback only (127.0.0.0/8, ::1). "
                    + "Configure tokens with --tokens-file or TRIBUTARY_TOKENS (see `tributary hash-token`), or listen on a loopback address.")
            }
        }
        let cors = CORSPolicy(origins: corsOrigins)
        var result: [(apis: ServedAPIs, configuration: HTTPServerConfiguration)] = []
        for apis in [ServedAPIs.all, .commands, .queries] {
            let addresses = order.compactMap { byAddress[$0] }.filter { $0.apis == apis }.map { $0.address }
            guard !addresses.isEmpty else { continue }
            var config = HTTPServerConfiguration(listen: addresses)
            // Browsers may read every response (JSON API and streams) from the allowed origins;
            // a request open to two readings stops here; a listener answers only its APIs; then
            // a token must carry the route's scope.
            if cors.isEnabled { config.middleware.append(CORSMiddleware(policy: cors)) }
            config.middleware.append(OneReadingMiddleware())
            if apis != .all { config.middleware.append(ServedAPIsMiddleware(served: apis)) }
            if !isDevelopmentMode { config.middleware.append(AuthGate(tokens: tokens, sessions: consoleSessions)) }
            // Every request's lines (and its X-Request-ID), whatever answered it.
            config.observer = RequestLog(log: log)
            config.maxConnections = maxConnections
            config.limits.maxBodyBytes = maxBodyBytes
            config.headerTimeout = Self.millis(headerTimeout)
            config.idleTimeout = Self.millis(idleTimeout)
            config.bodyTimeout = Self.millis(bodyTimeout)
            config.shutdownGrace = Self.millis(shutdownGrace)
            result.append((apis, config))
        }
        return result
    }

    private static func millis(_ seconds: Double) -> UInt64 { UInt64((seconds * 1000).rounded()) }
}
