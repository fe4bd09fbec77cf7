import API
import EventStore
import Foundation
import PostgresStore
import UV

/// `tributary copy --from LOCATION --to LOCATION`: moves every store (customers, orders, public)
/// from files to PostgreSQL or back (or between two of either), keeping every event's position,
/// stream version, id, timestamp, data and metadata. The destination stores must be empty and
/// no server may use either side meanwhile. At the end each destination store is verified
/// (its own CRCs and hash chain) and read back: the SHA-256 of its events must equal the
/// source's. Snapshots are not copied (they are caches; the first start rebuilds them).
public enum StoreCopy {
    /// Returns true when every store was copied and checks out; prints one line per store.
    public static func run(from: String, to: String, log: (String) -> Void = { print($0) }) throws -> Bool {
        let source = StoreLocation(from), destination = StoreLocation(to)
        guard source != destination else { throw ConfigurationError("--from and --to are the same place") }
        let loop = EventLoopThread()
        defer { loop.finish() }
        var ok = true
        for name in StoreSet.names {
            let src = try open(location(source, name), name: name, loop: loop, mustExist: true)
            guard let src else { log("\(name): nothing to copy (no store at \(location(source, name)))"); continue }
            let copied: (count: Int, digest: [UInt8])
            do {
                let sink = try Sink(location(destination, name), name: name)
                defer { sink.close() }
                copied = try copy(src, into: sink)
            } catch {
                src.close()
                throw error
            }
            src.close()
            let report = try verify(location(destination, name), name: name)
            guard let readBack = try open(location(destination, name), name: name, loop: loop, mustExist: true) else {
                throw ConfigurationError("\(name): the copy cannot be opened")
            }
            let again = try digest(of: readBack)
            readBack.close()
            let same = again.count == copied.count && again.digest == copied.digest
            if !report.isIntact || !same { ok = false }
            log("\(name): copied \(copied.count) events; destination \(report)" + (same ? "; contents identical to the source" : "; CONTENTS DIFFER from the source"))
        }
        return ok
    }

    private static func location(_ base: StoreLocation, _ name: String) -> StoreLocation {
        switch base {
        case .directory(let dir): return .directory((dir as NSString).appendingPathComponent(name))
        case .postgres: return base
        }
    }

    /// A store to read, nil when there is none there.
    private static func open(_ location: StoreLocation, name: String, loop: EventLoopThread, mustExist: Bool) throws -> EventStore? {
        switch location {
        case .directory(let dir):
            let present = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.contains { $0.hasPrefix("log-") } ?? false
            if !present { return nil }
            var options = FileEventStoreOptions(durability: .fsync)
            options.logger = { _, _ in }
            return try FileEventStore(directory: dir, options: options)
        case .postgres(let url):
            var options = PostgresStoreOptions(url: url, schema: StoreSet.schemaName(name))
            options.logger = { _, _ in }
            let store = try PostgresEventStore(loop: loop.loop, executor: DispatchQueueExecutor(), options: options)
            return store
        }
    }

    private static func copy(_ src: EventStore, into sink: Sink) throws -> (count: Int, digest: [UInt8]) {
        var hasher = SHA256()
        var after = LogPosition.start, count = 0
        while true {
            let chunk = try src.readAll(from: after, maxCount: 4096, filter: nil)
            guard let last = chunk.last else { break }
            try sink.write(chunk)
            for e in chunk { feed(&hasher, e) }
            count += chunk.count
            after = last.position
        }
        try sink.finish()
        return (count, hasher.finalize())
    }

    private static func digest(of store: EventStore) throws -> (count: Int, digest: [UInt8]) {
        var hasher = SHA256()
        var after = LogPosition.start, count = 0
        while true {
            let chunk = try store.readAll(from: after, maxCount: 4096, filter: nil)
            guard let last = chunk.last else { break }
            for e in chunk { feed(&hasher, e) }
            count += chunk.count
            after = last.position
        }
        return (count, hasher.finalize())
    }

    /// Everything an event is, in a fixed layout (lengths in front of variable parts).
    private static func feed(_ h: inout SHA256, _ e: RecordedEvent) {
        var b: [UInt8] = []
        func u64(_ v: UInt64) { for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: v >> (56 - 8 * i))) } }
        func bytes(_ x: [UInt8]) { u64(UInt64(x.count)); b += x }
        u64(e.position.value); bytes(Array(e.stream.value.utf8)); u64(UInt64(bitPattern: e.streamVersion.value))
        u64(e.id.high); u64(e.id.low); bytes(Array(e.type.utf8)); u64(UInt64(e.schemaVersion)); bytes(e.data)
        bytes(MetadataCoding.encode(e.metadata))
        u64(UInt64(bitPattern: Int64((e.timestamp.timeIntervalSince1970 * 1_000_000).rounded())))
        h.update(b)
    }

    private static func verify(_ location: StoreLocation, name: String) throws -> VerifyReport {
        switch location {
        case .directory(let dir): return try EventStoreVerifier.verify(directory: dir)
        case .postgres(let url): return try PostgresVerifier.verify(url: url, schema: StoreSet.schemaName(name))
        }
    }

    /// Where the copied events go: an empty file store (appends stamped with the source's
    /// times) or an empty PostgreSQL store (rows written as they are).
    private final class Sink {
        private var file: FileEventStore?
        private var importer: PostgresImporter?
        private let stamp = Stamp()

        init(_ location: StoreLocation, name: String) throws {
            switch location {
            case .directory(let dir):
                var options = FileEventStoreOptions(durability: .none)
                options.logger = { _, _ in }
                let stamp = self.stamp
                options.clock = { stamp.value }
                let store = try FileEventStore(directory: dir, options: options)
                guard store.lastPosition == .start else {
                    store.close()
                    throw ConfigurationError("\(name): the store at \(dir) is not empty (last position \(store.lastPosition)): copy only into an empty store")
                }
                file = store
            case .postgres(let url):
                importer = try PostgresImporter(url: url, schema: StoreSet.schemaName(name))
            }
        }

        func write(_ events: [RecordedEvent]) throws {
            if let importer { return try importer.write(events) }
            guard let file else { return }
            // One append per run of events of one stream with one commit time: the positions,
            // versions and times come out as they were.
            var i = 0
            while i < events.count {
                var j = i + 1
                while j < events.count, events[j].stream == events[i].stream, events[j].timestamp == events[i].timestamp,
                      events[j].streamVersion.value == events[j - 1].streamVersion.value + 1 { j += 1 }
                let run = events[i..<j]
                let first = run.first!
                stamp.value = first.timestamp
                let expected: ExpectedVersion = first.streamVersion.value == 0 ? .noStream : .exact(StreamVersion(first.streamVersion.value - 1))
                let result = file.appendAndWait(to: first.stream, expected: expected, events: run.map {
                    NewEvent(id: $0.id, type: $0.type, schemaVersion: $0.schemaVersion, data: $0.data, metadata: $0.metadata)
                })
                switch result {
                case .success(let r):
                    guard r.firstPosition == first.position else {
                        throw ConfigurationError("copy: position \(first.position) came out as \(r.firstPosition)")
                    }
                case .failure(let e):
                    throw ConfigurationError("copy: appending position \(first.position): \(e)")
                }
                i = j
            }
        }

        func finish() throws {
            file?.close()
            file = nil
        }

        func close() {
            file?.close()
            importer?.close()
        }
    }

    private final class Stamp: @unchecked Sendable {
        private let lock = NSLock()
        private var at = Date()
        var value: Date {
            get { lock.lock(); defer { lock.unlock() }; return at }
            set { lock.lock(); at = newValue; lock.unlock() }
        }
    }
}
