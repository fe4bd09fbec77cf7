import ArgumentParser
import EventStore
import Foundation

/// Drives a `FileEventStore` directly, for scripts/crash-test and scripts/bench store.
@main
struct StoreTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tributary-store-tool",
        abstract: "Event-store driver for the crash test and the store benchmark.",
        subcommands: [CrashChild.self, CrashCheck.self, Bench.self, PostgresAppend.self, PostgresFollow.self]
    )
}

/// The deterministic content of the crash test's n-th append, so the checker can
/// recompute what every acknowledged event must contain.
enum CrashWorkload {
    static func stream(_ n: Int) -> StreamName { StreamName("crash-\(n % 97)") }
    static func eventID(_ n: Int) -> EventID { EventID(high: 0x7472_6962_7574_6172, low: UInt64(n)) }
    static func data(_ n: Int) -> [UInt8] {
        Array(#"{"n":\#(n),"pad":"\#(String(repeating: "x", count: n % 200))"}"#.utf8)
    }
    static func event(_ n: Int) -> NewEvent {
        NewEvent(id: eventID(n), type: "CrashTestEvent", schemaVersion: 1, data: data(n),
                 metadata: EventMetadata(correlationId: "crash-\(n)"))
    }
}

func storeOptions(_ durability: String, executor: CompletionExecutor) throws -> FileEventStoreOptions {
    let mode: FileEventStoreOptions.Durability
    switch durability {
    case "fsync": mode = .fsync
    case "batch": mode = .batch(maxDelayMillis: 10)
    case "none": mode = .none
    default: throw ValidationError("durability must be fsync, batch or none")
    }
    var options = FileEventStoreOptions(durability: mode)
    options.executor = executor
    return options
}

/// Appends the crash workload forever (until killed), printing `ack N POSITION` for every
/// acknowledged append. Numbering resumes after the highest event already stored, so
/// successive runs over one directory keep writing new events.
struct CrashChild: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crash-child")
    @Option var data: String
    @Option var durability = "fsync"
    @Option(help: "Appends in flight at once.") var concurrency = 8

    func run() throws {
        let queue = DispatchQueue(label: "crash-child")
        let store = try FileEventStore(directory: data, options: storeOptions(durability, executor: DispatchQueueExecutor(queue: queue)))
        var next = Int(store.lastPosition.value)
        setvbuf(stdout, nil, _IOLBF, 0)
        func issue() {
            let n = next
            next += 1
            store.append(to: CrashWorkload.stream(n), expected: .any, events: [CrashWorkload.event(n)]) { result in
                switch result {
                case .success(let r): print("ack \(n) \(r.lastPosition.value)")
                case .failure(let e): FileHandle.standardError.write(Data("append \(n) failed: \(e)\n".utf8))
                }
                issue()
            }
        }
        queue.sync { for _ in 0..<concurrency { issue() } }
        dispatchMain()
    }
}

/// Reopens the store (running recovery) and checks every acknowledged append is present,
/// intact, at its acknowledged position, and that positions are gapless.
struct CrashCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crash-check")
    @Option var data: String
    @Option(help: "File with the `ack N POSITION` lines of every run.") var acks: String

    func run() throws {
        let store = try FileEventStore(directory: data, options: storeOptions("fsync", executor: InlineExecutor()))
        defer { store.close() }
        var expected: [UInt64: Int] = [:]
        let text = try String(contentsOfFile: acks, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            // A line cut by SIGKILL mid-write is ignored: it was never fully acknowledged to us.
            guard parts.count == 3, parts[0] == "ack", let n = Int(parts[1]), let p = UInt64(parts[2]) else { continue }
            expected[p] = n
        }
        var position = LogPosition.start
        var seen = 0
        var failures: [String] = []
        while true {
            let batch = try store.readAll(from: position, maxCount: 10_000, filter: nil)
            if batch.isEmpty { break }
            for event in batch {
                if event.position.value != position.value + 1 {
                    failures.append("gap: \(event.position) after \(position)")
                }
                position = event.position
                seen += 1
                guard event.id.high == CrashWorkload.eventID(0).high else { failures.append("foreign event at \(event.position)"); continue }
                let n = Int(event.id.low)
                if UInt64(n) + 1 != event.position.value {
                    failures.append("event \(n) at position \(event.position); appends are issued in order, expected \(n + 1)")
                }
                if event.data != CrashWorkload.data(n) || event.stream != CrashWorkload.stream(n) {
                    failures.append("event \(n) at \(event.position) has wrong content")
                }
                if let want = expected.removeValue(forKey: event.position.value), want != n {
                    failures.append("position \(event.position) acknowledged for \(want) holds \(n)")
                }
            }
        }
        for (p, n) in expected.sorted(by: { $0.key < $1.key }).prefix(10) {
            failures.append("acknowledged event \(n) at position \(p) is missing")
        }
        let report = try EventStoreVerifier.verify(directory: data)
        if !report.isIntact { failures.append("verifier: \(report)") }
        print("checked \(seen) events, \(text.split(separator: "\n").count) acknowledgements, chain \(report.isIntact ? "intact" : "BROKEN")")
        if !failures.isEmpty {
            for f in failures.prefix(20) { print("FAIL: \(f)") }
            throw ExitCode(1)
        }
    }
}
