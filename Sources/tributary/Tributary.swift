import API
import App
import LiveFeeds
import ArgumentParser
import Foundation
import Logging


@main
struct Tributary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "An event-sourcing + CQRS backend on a libuv HTTP/1.1 server.",
        subcommands: [Serve.self, Verify.self, Copy.self, HashToken.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server: on the embedded file store by default, or on PostgreSQL.")

    @Option(help: "Address to listen on: HOST:PORT, [IPv6]:PORT; repeat for several. Port 0 picks a free port.")
    var listen: [String] = ["127.0.0.1:8080"]

    @Option(help: "Serve the command API (/commands/...) on this address instead of --listen; repeatable.")
    var commandListen: [String] = []

    @Option(help: "Serve the query API (queries, history, public log, streams, admin) on this address instead of --listen; repeatable.")
    var queryListen: [String] = []

    @Option(help: "Data directory of the embedded store.")
    var data: String = "./data"

    @Option(help: ArgumentHelp("Put every store in this PostgreSQL database (postgresql://USER@HOST:PORT/DB), each in a schema of its own (tributary_customers, tributary_orders, tributary_public), instead of files under --data. Passwords: PGPASSWORD or ~/.pgpass rather than the URL.",
                               valueName: "url"))
    var postgres: String?

    @Option(help: ArgumentHelp("Put one store elsewhere: NAME=postgresql://... or NAME=DIRECTORY (names: customers, orders, public); repeatable.",
                               valueName: "name=location"))
    var store: [String] = []

    @Option(help: ArgumentHelp("What this process runs: all (every service, the default), customers or orders (that service's writer: commands, publisher, saga, read models; a standby while another process holds its writer lease), or query (a read-only replica of --service). Roles other than all keep their stores on PostgreSQL.",
                               valueName: "all|customers|orders|query"))
    var role: String = "all"

    @Option(help: ArgumentHelp("The service a --role query replica serves.", valueName: "customers|orders"))
    var service: String?

    @Option(help: "Milliseconds between a standby's tries for its service's writer lease.")
    var leaseRetry: UInt64 = 1_000

    @Option(help: "Durability of appends on files: fsync (acknowledged = on disk), batch, none. On PostgreSQL an append is acknowledged once COMMIT returns.")
    var durability: String = "fsync"

    @Option(help: "Maximum open client connections; more get 503 and are closed.")
    var maxConnections: Int = 10_000

    @Option(help: "Maximum client commands queued or running at once, server-wide; more get 503 with Retry-After.")
    var maxQueuedCommands: Int = 2_048

    @Option(help: "Maximum request body in bytes (413 beyond).")
    var maxBodyBytes: Int = 1 << 20

    @Option(help: "Seconds a client has to send a complete request head (slowloris guard).")
    var headerTimeout: Double = 10

    @Option(help: "Seconds an idle keep-alive connection is kept open.")
    var idleTimeout: Double = 60

    @Option(help: "Seconds a client has to send a complete request body once its head has arrived (slow-body guard).")
    var bodyTimeout: Double = 30

    @Option(help: "Seconds in-flight requests get to finish on SIGINT/SIGTERM.")
    var shutdownGrace: Double = 10

    @Option(help: ArgumentHelp("Snapshot each read model every this many events (and on SIGINT/SIGTERM) so a restart replays only the tail; 0: no snapshots, full replay on start.",
                               valueName: "events"))
    var snapshotEvery: UInt64 = 50_000

    @Option(help: ArgumentHelp("Minimum seconds between two periodic snapshots of one read model, whatever the write rate.",
                               valueName: "seconds"))
    var snapshotMinInterval: Double = 10

    @Option(help: ArgumentHelp("A read model further behind its store than this on start catches up off the loop, in parallel with the others (0: always).",
                               valueName: "events"))
    var backgroundReplayAfter: UInt64 = 4096

    @Option(help: "Seconds between SSE heartbeat comments on a quiet stream (0: none).")
    var sseHeartbeat: Double = 15

    @Option(help: "SSE reconnection delay sent to clients as retry:, in milliseconds.")
    var sseRetry: Int = 2_000

    @Option(help: "Maximum open SSE subscribers; more get 503 with Retry-After.")
    var sseMaxSubscribers: Int = 10_000

    @Option(help: "Seconds after which an SSE stream is closed (minus up to --sse-lifetime-jitter of it); 0: unlimited.")
    var sseMaxLifetime: Double = 3_600

    @Option(help: "Fraction (0…1) of the SSE lifetime taken off at random per stream, against reconnect storms.")
    var sseLifetimeJitter: Double = 0.2

    @Option(help: "Per-subscriber SSE bound on unsent bytes; over it the subscriber is disconnected as too slow.")
    var sseMaxBufferedBytes: Int = 64 << 10

    @Option(help: "Per-subscriber SSE bound on unsent events; over it the subscriber is disconnected as too slow.")
    var sseMaxBufferedEvents: Int = 1_024

    @Option(help: "Most milliseconds live public events wait to be batched (the delay grows with subscribers up to this; 0: per loop wake-up).")
    var sseFlushInterval: Double = 200

    @Option(help: "Threads writing public-event batches to SSE subscribers (default: one per core, at most 8).")
    var sseFanOutThreads: Int = LiveFeedSettings().fanOutThreads

    @Option(help: "Origin allowed to call the API and streams from a browser (CORS); repeat for several; * for any.")
    var corsOrigin: [String] = []

    @Option(help: ArgumentHelp("File of API tokens, one 'NAME SHA256HEX SCOPE[,SCOPE...]' per line (scopes: commands:write, queries:read, streams:read, admin). Also read: TRIBUTARY_TOKENS (same format, ';' separates entries). Without tokens: development mode, loopback only.",
                               valueName: "path"))
    var tokensFile: String?

    @Option(help: ArgumentHelp("Log lines as text (logfmt: key=value) or json (one object per line), on standard output.", valueName: "text|json"))
    var logFormat: String = "text"

    @Option(help: ArgumentHelp("Least severe lines logged: trace, debug (adds one line per request), info, notice, warning, error, critical.",
                               valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of: " + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        _ = try storeLocations(store)
        if let postgres, StoreLocation(postgres) == .directory(postgres) {
            throw ValidationError("--postgres takes a postgresql:// URL")
        }
        guard Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be one of: fsync, batch, none")
        }
        guard maxConnections > 0, maxQueuedCommands > 0, maxBodyBytes >= 0, headerTimeout > 0, idleTimeout > 0, bodyTimeout > 0, shutdownGrace >= 0,
              snapshotMinInterval >= 0 else {
            throw ValidationError("limits and timeouts must be positive")
        }
    }

    func run() throws {
        let format = LogFormat(rawValue: logFormat)!, level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { TributaryLogHandler(label: $0, format: format, level: level) }
        var config = AppConfiguration()
        config.log = Logger(label: "tributary")
        config.listen = listen
        config.commandListen = commandListen
        config.queryListen = queryListen
        config.dataDirectory = data
        config.postgres = postgres
        config.storeLocations = try storeLocations(store)
        do { config.role = try ServerRole(role: role, service: service) } catch { throw ValidationError("\(error)") }
        config.leaseRetryInterval = max(50, leaseRetry)
        config.durability = Durability(rawValue: durability)!
        config.maxConnections = maxConnections
        config.maxBodyBytes = maxBodyBytes
        config.maxQueuedCommands = maxQueuedCommands
        config.headerTimeout = headerTimeout
        config.idleTimeout = idleTimeout
        config.bodyTimeout = bodyTimeout
        config.shutdownGrace = shutdownGrace
        config.snapshotEvery = snapshotEvery
        config.snapshotMinInterval = snapshotMinInterval
        config.backgroundReplayAfter = backgroundReplayAfter
        config.liveFeeds.heartbeatSeconds = sseHeartbeat
        config.liveFeeds.retryMilliseconds = sseRetry
        config.liveFeeds.maxSubscribers = sseMaxSubscribers
        config.liveFeeds.maxLifetimeSeconds = sseMaxLifetime
        config.liveFeeds.lifetimeJitter = sseLifetimeJitter
        config.liveFeeds.maxBufferedBytes = sseMaxBufferedBytes
        config.liveFeeds.maxBufferedEvents = sseMaxBufferedEvents
        config.liveFeeds.flushIntervalMilliseconds = sseFlushInterval
        config.liveFeeds.fanOutThreads = sseFanOutThreads
        config.corsOrigins = corsOrigin
        do { try config.liveFeeds.validate() } catch { throw ValidationError("\(error)") }
        config.tokens = try loadTokens()
        let code = try TributaryServer.run(configuration: config)
        if code != 0 { throw ExitCode(code) }
    }
}

extension Serve {
    /// The tokens file's and the environment's tokens; a tokens file without any token is an
    /// error (the operator asked for authentication and would silently get development mode).
    func loadTokens() throws -> APITokenSet {
        var tokens = APITokenSet()
        do {
            if let path = tokensFile {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw StartupError(description: "cannot read tokens file \(path)")
                }
                let fromFile = try APITokenSet.parse(text, source: "tokens file \(path)")
                guard !fromFile.isEmpty else { throw StartupError(description: "tokens file \(path) defines no token") }
                try tokens.merge(fromFile)
            }
            if let env = ProcessInfo.processInfo.environment["TRIBUTARY_TOKENS"],
               !env.allSatisfy({ $0.isWhitespace || $0 == ";" }) {
                try tokens.merge(APITokenSet.parse(env, source: "TRIBUTARY_TOKENS"))
            }
        } catch let error as TokenConfigurationError {
            throw StartupError(description: error.description)
        }
        return tokens
    }
}

/// `--store NAME=LOCATION` options, checked: known names, each once, a location given.
func storeLocations(_ options: [String]) throws -> [String: StoreLocation] {
    var out: [String: StoreLocation] = [:]
    for option in options {
        guard let eq = option.firstIndex(of: "=") else { throw ValidationError("--store takes NAME=LOCATION, got '\(option)'") }
        let name = String(option[..<eq]), location = String(option[option.index(after: eq)...])
        guard AppConfiguration.storeNames.contains(name) else {
            throw ValidationError("--store: unknown store '\(name)' (stores: \(AppConfiguration.storeNames.joined(separator: ", ")))")
        }
        guard !location.isEmpty else { throw ValidationError("--store \(name)= needs a location") }
        guard out[name] == nil else { throw ValidationError("--store \(name) given twice") }
        out[name] = StoreLocation(location)
    }
    return out
}

/// A configuration problem found at start: printed as "Error: …" (no usage text), exit 1.
struct StartupError: Error, CustomStringConvertible {
    var description: String
}

struct HashToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-token",
        abstract: "Read an API token from standard input and print its SHA-256 (hex) for the tokens file.",
        discussion: "Example: TOKEN=$(openssl rand -hex 32); printf %s \"$TOKEN\" | tributary hash-token")

    func run() throws {
        if isatty(STDIN_FILENO) != 0 {
            FileHandle.standardError.write(Data("tributary: type the token, then Enter and Ctrl-D\n".utf8))
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        do {
            print(try TokenHashing.hashHex(stdin: Array(input)))
        } catch let error as TokenConfigurationError {
            FileHandle.standardError.write(Data("tributary: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every record's CRC and the SHA-256 hash chain of the stores (files under a data directory, or PostgreSQL).")

    @Option(help: "Data directory to verify.")
    var data: String = "./data"

    @Option(help: ArgumentHelp("Verify the stores in this PostgreSQL database (as tributary serve --postgres).", valueName: "url"))
    var postgres: String?

    @Option(help: ArgumentHelp("One store elsewhere: NAME=postgresql://... or NAME=DIRECTORY; repeatable.", valueName: "name=location"))
    var store: [String] = []

    func run() throws {
        let ok = try StoreVerification.run(dataDirectory: data, postgres: postgres, storeLocations: try storeLocations(store))
        if !ok { throw ExitCode(1) }
    }
}

struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every store from files to PostgreSQL or back, keeping positions, ids and times; verified at the end.",
        discussion: "Example: tributary copy --from ./data --to postgresql://tributary@db.internal/tributary. The destination stores must be empty and no server may run on either side. Snapshots are not copied (the first start rebuilds them).")

    @Option(help: ArgumentHelp("Where the stores are: a data directory or a postgresql:// URL.", valueName: "location"))
    var from: String

    @Option(help: ArgumentHelp("Where they go: a data directory or a postgresql:// URL (empty stores).", valueName: "location"))
    var to: String

    func run() throws {
        let ok = try StoreCopy.run(from: from, to: to)
        if !ok { throw ExitCode(1) }
    }
}
