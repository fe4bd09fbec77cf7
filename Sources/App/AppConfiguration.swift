import CQRS
import EventStore
import Foundation
import HTTP
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
    /// Root of the embedded stores: one subdirectory per store.
    public var dataDirectory = "./data"
    public var durability = Durability.fsync
    public var maxConnections = 10_000
    public var maxBodyBytes = 1 << 20
    /// Client commands accepted and not yet answered, server-wide; more get 503 + `Retry-After`.
    public var maxQueuedCommands = 10_000
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
    /// Server-sent-event streams: heartbeat, limits, per-subscriber buffers, CORS origins.
    public var streams = StreamSettings()
    /// API tokens (hashed) that may call the API. Empty: development mode — no
    /// authentication, and only loopback listen addresses are accepted.
    public var tokens = APITokenSet()

    /// No tokens configured: the API is open, so it may only listen on loopback.
    public var isDevelopmentMode: Bool { tokens.isEmpty }

    /// Runtime log lines (projection failures, publisher retries...). Default: standard error.
    /// Called on the loop thread and, during start-up, from the threads that scan the stores
    /// in parallel (`Services.prepare`): it must be thread-safe.
    public var logger: CQRSLogger = { level, message in
        guard level >= .info else { return }
        FileHandle.standardError.write(Data("tributary: [\(level)] \(message)\n".utf8))
    }
    /// Startup replay progress (events replayed, rate, ETA). Default: standard error.
    public var progress: (ReplayProgress) -> Void = { p in
        guard p.replayed > 0 else { return }
        let eta = p.etaSeconds.map { String(format: ", ETA %.1fs", $0) } ?? ""
        FileHandle.standardError.write(Data(String(format: "tributary: replay %@: %llu events (position %llu of %llu), %.0f events/s%@%@\n",
                                                   p.projection, p.replayed, p.position.value, p.target.value,
                                                   p.eventsPerSecond, eta, p.done ? ", done" : "").utf8))
    }

    public init() {}

    /// The HTTP server settings, or an error naming the listen address that does not parse.
    func httpConfiguration() throws -> HTTPServerConfiguration {
        var addresses: [SocketAddress] = []
        for text in listen {
            guard let address = SocketAddress(parsing: text) else {
                throw ConfigurationError("cannot parse listen address '\(text)' (expected HOST:PORT or [IPv6]:PORT)")
            }
            addresses.append(address)
        }
        if isDevelopmentMode {
            let exposed = addresses.filter { !LoopbackAddress.isLoopback($0.host) }
            if !exposed.isEmpty {
                throw ConfigurationError("refusing to listen on \(exposed.map(\.description).joined(separator: ", ")) without authentication: "
                    + "no API tokens are configured, and development mode is loopback only (127.0.0.0/8, ::1). "
                    + "Configure tokens with --tokens-file or TRIBUTARY_TOKENS (see `tributary hash-token`), or listen on a loopback address.")
            }
        }
        var config = HTTPServerConfiguration(listen: addresses)
        if !isDevelopmentMode {
            let gate = AuthGate(tokens: tokens)
            config.authorize = { head, route in gate.check(head, route: route) }
        }
        config.maxConnections = maxConnections
        config.limits.maxBodyBytes = maxBodyBytes
        config.headerTimeout = Self.millis(headerTimeout)
        config.idleTimeout = Self.millis(idleTimeout)
        config.bodyTimeout = Self.millis(bodyTimeout)
        config.shutdownGrace = Self.millis(shutdownGrace)
        return config
    }

    private static func millis(_ seconds: Double) -> UInt64 { UInt64((seconds * 1000).rounded()) }
}

/// A configuration that cannot be served; the message says what to fix.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
