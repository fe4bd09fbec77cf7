import ArgumentParser
import EventStore
import Foundation
import PostgresStore
import UV

/// `bench`: durable append throughput and latency at several concurrencies (closed loop:
/// each appender issues its next append when the previous one is acknowledged, like
/// pgbench clients), then replay speed and open time over a large log.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench")
    @Option(help: "Scratch directory (created, then removed).") var data: String
    @Option var durability = "fsync"
    @Option(help: "Comma-separated appender counts.") var appenders = "1,16,256"
    @Option(help: "Seconds per appender count.") var duration = 10.0
    @Option(help: "Events in the log for the replay and open measurements (0: skip).") var replayEvents = 1_000_000
    @Option(help: "Measure the PostgreSQL engine on this database instead of files (a schema per run, dropped after; no replay run).")
    var postgres: String?

    func run() throws {
        let counts = appenders.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--appenders: e.g. 1,16,256") }
        if let postgres {
            for n in counts { try appendRun(appenders: n, postgres: postgres) }
            return
        }
        try? FileManager.default.removeItem(atPath: data)
        defer { try? FileManager.default.removeItem(atPath: data) }
        for n in counts {
            try appendRun(appenders: n, directory: data + "/append-\(n)")
        }
        if replayEvents > 0 { try replayRun(directory: data + "/replay") }
    }

    static func payload(_ i: Int) -> [UInt8] {
        // ~200 bytes of JSON, like a small domain event.
        let s = #"{"orderId":"order-\#(i)","customerId":"customer-\#(i % 5000)","sku":"SKU-\#(i % 977)","quantity":\#(i % 9 + 1),"unitPrice":\#(i % 10000),"currency":"EUR","note":"benchmark event payload padding to about two hundred bytes"}"#
        return Array(s.utf8)
    }

    private func appendRun(appenders: Int, directory: String) throws {
        let queue = DispatchQueue(label: "bench-completions")
        let store = try FileEventStore(directory: directory, options: storeOptions(durability, executor: DispatchQueueExecutor(queue: queue)))
        defer { store.close() }
        measure(store, queue: queue, appenders: appenders, label: "store")
    }

    /// The same closed-loop run through the PostgreSQL engine (its connections on a loop
    /// thread of their own), in a schema made for the run and dropped after it.
    private func appendRun(appenders: Int, postgres: String) throws {
        let queue = DispatchQueue(label: "bench-completions")
        let loop = EventLoopThread()
        defer { loop.finish() }
        let schema = "bench_\(appenders)_\(UInt32.random(in: 0...UInt32.max))"
        var options = PostgresStoreOptions(url: postgres, schema: schema)
        options.logger = { _, _ in }
        let store = try PostgresEventStore(loop: loop.loop, executor: DispatchQueueExecutor(queue: queue), options: options)
        measure(store, queue: queue, appenders: appenders, label: "pgengine")
        store.close()
        try PostgresAdmin.dropSchema(url: postgres, schema: schema)
    }

    private func measure(_ store: EventStore, queue: DispatchQueue, appenders: Int, label: String) {
        let payloads = (0..<1024).map(Self.payload)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(1 << 20)
        var errors = 0
        var issued = 0
        var running = true
        let finished = DispatchSemaphore(value: 0)
        var inFlight = 0
        let startStats = store.stats
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(duration * 1e9)
        func issue() {
            let i = issued
            issued += 1
            inFlight += 1
            let t0 = DispatchTime.now().uptimeNanoseconds
            let stream = StreamName("bench-\(UInt32.random(in: 0..<100_000))")
            store.append(to: stream, expected: .any, events: [NewEvent(type: "BenchEvent", data: payloads[i & 1023])]) { result in
                let t1 = DispatchTime.now().uptimeNanoseconds
                inFlight -= 1
                if case .failure = result { errors += 1 } else { latencies.append(t1 - t0) }
                if running && t1 < deadline { issue() } else {
                    running = false
                    if inFlight == 0 { finished.signal() }
                }
            }
        }
        queue.sync { for _ in 0..<appenders { issue() } }
        finished.wait()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let stats = store.stats
        latencies.sort()
        func pct(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1e6
        }
        let fsyncs = Double(stats.fsyncs - startStats.fsyncs)
        print(String(format: "%@ appenders=%d appends_per_s=%.0f p50_ms=%.3f p99_ms=%.3f fsyncs_per_s=%.0f events_per_batch=%.1f errors=%d",
                     label, appenders, Double(latencies.count) / elapsed, pct(0.50), pct(0.99), fsyncs / elapsed,
                     Double(stats.eventsWritten - startStats.eventsWritten) / max(1, Double(stats.batches - startStats.batches)), errors))
        fflush(stdout)
    }

    private func replayRun(directory: String) throws {
        // Fill quickly (no fsync, 100 events per append); what is measured is reading.
        do {
            let queue = DispatchQueue(label: "bench-fill")
            let store = try FileEventStore(directory: directory, options: storeOptions("none", executor: DispatchQueueExecutor(queue: queue)))
            let payloads = (0..<1024).map(Self.payload)
            let group = DispatchGroup()
            var written = 0
            while written < replayEvents {
                let n = min(100, replayEvents - written)
                let events = (0..<n).map { NewEvent(type: "BenchEvent", data: payloads[(written + $0) & 1023]) }
                group.enter()
                store.append(to: StreamName("replay-\(written % 10_000)"), expected: .any, events: events) { result in
                    if case .failure(let e) = result { fatalError("fill failed: \(e)") }
                    group.leave()
                }
                written += n
                if written % 100_000 == 0 { group.wait() }
            }
            group.wait()
            store.close()
        }
        for useCheckpoint in [true, false] {
            var options = try storeOptions("fsync", executor: InlineExecutor())
            options.useCheckpoint = useCheckpoint
            options.logger = { _, _ in }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let store = try FileEventStore(directory: directory, options: options)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            print(String(format: "store open events=%llu mode=%@ ms=%.1f", store.lastPosition.value,
                         useCheckpoint ? "checkpoint" : "fullscan", ms))
            if useCheckpoint {
                // Replay into a counting projection: events by type and payload bytes.
                let r0 = DispatchTime.now().uptimeNanoseconds
                var position = LogPosition.start
                var count = 0, bytes = 0
                var byType: [String: Int] = [:]
                while true {
                    let batch = try store.readAll(from: position, maxCount: 10_000, filter: nil)
                    guard let last = batch.last else { break }
                    for e in batch { count += 1; bytes += e.data.count; byType[e.type, default: 0] += 1 }
                    position = last.position
                }
                let secs = Double(DispatchTime.now().uptimeNanoseconds - r0) / 1e9
                print(String(format: "store replay events=%d events_per_s=%.0f mb_per_s=%.1f", count, Double(count) / secs,
                             Double(bytes) / secs / 1e6))
            }
            store.close()
        }
        fflush(stdout)
    }
}
