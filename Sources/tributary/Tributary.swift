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
