import ArgumentParser
import Foundation
import UV

/// `tributary-load`: an open-model HTTP load generator on libuv, for `scripts/bench
/// open-model` (what the Python generator of `scripts/loadtest` cannot offer: tens of
/// thousands of requests a second). Loopback targets only.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary-load",
        abstract: "Offer HTTP requests at a constant rate (open model) and report latency from each request's due time.",
        discussion: """
        Each --request is 'WEIGHT METHOD PATH [BODY]'; placeholders in PATH and BODY: {n} (the request's \
        sequence number), {run} (--run), {r:K} (random in 0..<K). Prints one line:
        load mode=open|closed rate=R connections=C seconds=S due=N completed=N achieved_per_s=X errors=N \
        unanswered=N non2xx=N p50_ms=X p90_ms=X p99_ms=X p999_ms=X max_ms=X send_delay_p99_ms=X statuses=CODE:N,...
        """)

    @Option(help: "Server address, HOST:PORT on loopback (127.0.0.1 or [::1]).") var target: String
    @Option(help: "Requests per second offered; 0: closed model (each connection sends again as soon as answered).") var rate: Double
    @Option(help: "Seconds measured.") var duration: Double = 5
    @Option(help: "Seconds of load before the measured ones (not counted).") var warmup: Double = 1
    @Option(help: "Keep-alive connections (requests due while all are busy wait, and their wait counts).") var connections = 64
    @Option(name: .customLong("request"), help: "WEIGHT METHOD PATH [BODY]; repeatable.") var requests: [String] = []
    @Option(name: .customLong("run"), help: "Run id for {run}.") var runId = "r"
    @Option(help: "Seed of {r:K} and of the choice among requests.") var seed: UInt64 = 1
    @Option(help: "Also print, on stderr, per this many ms of due time: requests, p99 and max latency (where the stalls were).")
    var timelineMs: Int = 0

    func validate() throws {
        guard let address = SocketAddress(parsing: target) else { throw ValidationError("--target: HOST:PORT, e.g. 127.0.0.1:8080") }
        guard address.host == "127.0.0.1" || address.host == "::1" else {
            throw ValidationError("--target: load is only ever sent to 127.0.0.1 or [::1], not \(address.host)")
        }
        guard rate >= 0, rate <= 1_000_000 else { throw ValidationError("--rate: 0 (closed model) or up to 1000000 per second") }
        guard duration > 0, duration <= 600, warmup >= 0, warmup <= 60 else { throw ValidationError("--duration: (0, 600] s; --warmup: [0, 60] s") }
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections: 1...10000") }
        guard !requests.isEmpty else { throw ValidationError("give at least one --request 'WEIGHT METHOD PATH [BODY]'") }
    }

    func run() throws {
        let templates: [RequestTemplate]
        do { templates = try requests.map(RequestTemplate.init(parsing:)) } catch let e as LoadError { throw ValidationError(e.description) }
        let loop = EventLoop()
        let generator = Generator(loop: loop, options: .init(
            address: SocketAddress(parsing: target)!, templates: templates, rate: rate, warmup: warmup, duration: duration,
            connections: connections, run: runId, seed: seed))
        let report = generator.runToCompletion()
        _ = loop.close()
        print(Self.line(report, rate: rate, connections: connections))
        if timelineMs > 0 { FileHandle.standardError.write(Data(Self.timeline(report, bucketMillis: timelineMs).utf8)) }
        if let e = report.firstError { FileHandle.standardError.write(Data("tributary-load: first error: \(e)\n".utf8)) }
        if report.completed == 0 { throw ExitCode(1) }
    }

    /// One line per bucket of due time: `t_ms=START requests=N p99_ms=X max_ms=X`.
    static func timeline(_ r: Generator.Report, bucketMillis: Int) -> String {
        var buckets: [Int: [UInt32]] = [:]
        for (latency, due) in zip(r.latenciesMicros, r.dueOffsetsMillis) { buckets[Int(due) / bucketMillis, default: []].append(latency) }
        return buckets.keys.sorted().map { k in
            let v = buckets[k]!.sorted()
            let p99 = v[min(v.count - 1, Int((Double(v.count) * 0.99).rounded(.up)) - 1)]
            return String(format: "t_ms=%d requests=%d p99_ms=%.3f max_ms=%.3f\n", k * bucketMillis, v.count, Double(p99) / 1000, Double(v.last!) / 1000)
        }.joined()
    }

    static func line(_ r: Generator.Report, rate: Double, connections: Int) -> String {
        let latencies = r.latenciesMicros.sorted()
        let delays = r.sendDelaysMicros.sorted()
        func pct(_ values: [UInt32], _ p: Double) -> String {
            guard !values.isEmpty else { return "nan" }
            let i = min(values.count - 1, Int((Double(values.count) * p).rounded(.up)) - 1)
            return String(format: "%.3f", Double(values[max(0, i)]) / 1000)
        }
        let non2xx = r.statuses.filter { !(200..<300).contains($0.key) }.values.reduce(0, +)
        let statuses = r.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        return [
            "load mode=\(rate > 0 ? "open" : "closed")",
            "rate=\(Int(rate))", "connections=\(connections)", "seconds=\(r.measuredSeconds)",
            "due=\(r.due)", "completed=\(r.completed)",
            String(format: "achieved_per_s=%.0f", Double(r.completed) / r.measuredSeconds),
            "errors=\(r.errors)", "unanswered=\(r.unanswered)", "non2xx=\(non2xx)",
            "p50_ms=\(pct(latencies, 0.50))", "p90_ms=\(pct(latencies, 0.90))", "p99_ms=\(pct(latencies, 0.99))",
            "p999_ms=\(pct(latencies, 0.999))", "max_ms=\(pct(latencies, 1.0))",
            "send_delay_p99_ms=\(pct(delays, 0.99))", "statuses=\(statuses.isEmpty ? "-" : statuses)",
        ].joined(separator: " ")
    }
}

LoadCommand.main()
