import ArgumentParser
import EventStore
import Foundation
import PostgresStore
import UV

/// `pg-append`: one writer process of the many-writers test: N single-event appends to random
/// streams of one PostgreSQL store, C in flight, printing `ack FIRST` per acknowledged append.
struct PostgresAppend: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pg-append")
    @Option var postgres: String
    @Option var schema: String
    @Option var appends = 200
    @Option var concurrency = 8
    @Option(help: "Milliseconds each batch waits before its COMMIT (the test hook).") var holdMs = 0

    func run() throws {
        let loop = EventLoopThread()
        defer { loop.finish() }
        var options = PostgresStoreOptions(url: postgres, schema: schema)
        options.logger = { _, _ in }
        options.testHoldBeforeCommit = holdMs
        let queue = DispatchQueue(label: "pg-append")
        let store = try PostgresEventStore(loop: loop.loop, executor: DispatchQueueExecutor(queue: queue), options: options)
        setvbuf(stdout, nil, _IOLBF, 0)
        if appends == 0 { store.close(); return }   // only opens (creates) the store
        var issued = 0, done = 0, failed = 0
        let finished = DispatchSemaphore(value: 0)
        func issue() {
            guard issued < appends else { return }
            issued += 1
            store.append(to: StreamName("w-\(UInt32.random(in: 0..<50))"), expected: .any,
                         events: [NewEvent(type: "Written", data: Array("{\"pid\":\(getpid())}".utf8))]) { result in
                switch result {
                case .success(let r): print("ack \(r.firstPosition.value)")
                case .failure(let e): failed += 1; FileHandle.standardError.write(Data("append failed: \(e)\n".utf8))
                }
                done += 1
                if done == appends { finished.signal() } else { issue() }
            }
        }
        queue.sync { for _ in 0..<min(concurrency, appends) { issue() } }
        finished.wait()
        store.close()
        if failed > 0 { throw ExitCode(1) }
    }
}

/// `pg-follow`: follows one PostgreSQL store while writers append, two ways at once: a
/// subscription, and blocking reads after the last position seen; either must see the
/// positions 1, 2, 3, ... each once, without a gap. Stops after `--events` or `--seconds`;
/// prints `followed N` or what went wrong (exit 1).
struct PostgresFollow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pg-follow")
    @Option var postgres: String
    @Option var schema: String
    @Option var events: Int
    @Option var seconds = 60.0

    func run() throws {
        let loop = EventLoopThread()
        defer { loop.finish() }
        var options = PostgresStoreOptions(url: postgres, schema: schema)
        options.logger = { _, _ in }
        let store = try PostgresEventStore(loop: loop.loop, executor: DispatchQueueExecutor(), options: options)
        defer { store.close() }
        setvbuf(stdout, nil, _IOLBF, 0)
        let lock = NSLock()
        var subscribed: [UInt64] = []
        let sub = store.subscribe(from: .start, filter: nil, executor: DispatchQueueExecutor()) { batch in
            lock.lock(); subscribed += batch.map { $0.position.value }; lock.unlock()
        }
        defer { sub.cancel() }
        print("following")
        var read: UInt64 = 0
        let deadline = Date().addingTimeInterval(seconds)
        while read < UInt64(events), Date() < deadline {
            let batch = try store.readAll(from: LogPosition(read), maxCount: 1000, filter: nil)
            for e in batch {
                guard e.position.value == read + 1 else {
                    print("gap: read \(e.position.value) after \(read)")
                    throw ExitCode(1)
                }
                read = e.position.value
            }
            if batch.isEmpty { usleep(1000) }
        }
        while Date() < deadline {
            lock.lock(); let n = subscribed.count; lock.unlock()
            if n >= events { break }
            usleep(2000)
        }
        lock.lock(); let seen = subscribed; lock.unlock()
        guard read == UInt64(events) else { print("read only \(read) of \(events)"); throw ExitCode(1) }
        guard seen == Array(1...UInt64(events)) else {
            let firstBad = zip(seen, 1...).first { $0.0 != UInt64($0.1) }
            print("subscription saw \(seen.count) events, first out of order: \(String(describing: firstBad))")
            throw ExitCode(1)
        }
        print("followed \(events)")
    }
}
