import App
import ArgumentParser


@main
struct Tributary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary",
        abstract: "An event-sourcing + CQRS backend on a libuv HTTP/1.1 server.",
        subcommands: [Serve.self, Verify.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server on the embedded file store.")

    @Option(help: "Address to listen on: HOST:PORT, [IPv6]:PORT; repeat for several. Port 0 picks a free port.")
    var listen: [String] = ["127.0.0.1:8080"]

    @Option(help: "Data directory of the embedded store.")
    var data: String = "./data"

    @Option(help: "Durability of appends: fsync (acknowledged = on disk), batch, none.")
    var durability: String = "fsync"

    @Option(help: "Maximum open client connections; more get 503 and are closed.")
    var maxConnections: Int = 10_000

    @Option(help: "Maximum request body in bytes (413 beyond).")
    var maxBodyBytes: Int = 1 << 20

    @Option(help: "Seconds a client has to send a complete request head (slowloris guard).")
    var headerTimeout: Double = 10

    @Option(help: "Seconds an idle keep-alive connection is kept open.")
    var idleTimeout: Double = 60

    @Option(help: "Seconds in-flight requests get to finish on SIGINT/SIGTERM.")
    var shutdownGrace: Double = 10

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

    @Option(help: "Origin allowed to call the API and streams from a browser (CORS); repeat for several; * for any.")
    var corsOrigin: [String] = []

    func validate() throws {
        guard Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be one of: fsync, batch, none")
        }
        guard maxConnections > 0, maxBodyBytes >= 0, headerTimeout > 0, idleTimeout > 0, shutdownGrace >= 0 else {
            throw ValidationError("limits and timeouts must be positive")
        }
    }

    func run() throws {
        var config = AppConfiguration()
        config.listen = listen
        config.dataDirectory = data
        config.durability = Durability(rawValue: durability)!
        config.maxConnections = maxConnections
        config.maxBodyBytes = maxBodyBytes
        config.headerTimeout = headerTimeout
        config.idleTimeout = idleTimeout
        config.shutdownGrace = shutdownGrace
        config.streams.heartbeatSeconds = sseHeartbeat
        config.streams.retryMilliseconds = sseRetry
        config.streams.maxSubscribers = sseMaxSubscribers
        config.streams.maxLifetimeSeconds = sseMaxLifetime
        config.streams.lifetimeJitter = sseLifetimeJitter
        config.streams.maxBufferedBytes = sseMaxBufferedBytes
        config.streams.maxBufferedEvents = sseMaxBufferedEvents
        config.streams.flushIntervalMilliseconds = sseFlushInterval
        config.streams.corsOrigins = corsOrigin
        do { try config.streams.validate() } catch { throw ValidationError("\(error)") }
        let code = try TributaryServer.run(configuration: config)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every record's CRC and the SHA-256 hash chain of the stores under a data directory.")

    @Option(help: "Data directory to verify.")
    var data: String = "./data"

    func run() throws {
        let ok = try StoreVerification.run(dataDirectory: data)
        if !ok { throw ExitCode(1) }
    }
}
