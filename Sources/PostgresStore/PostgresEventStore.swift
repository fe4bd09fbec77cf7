import EventStore
import Foundation
import UV

/// The PostgreSQL engine: the `EventStore` contract over a schema of one PostgreSQL database.
///
/// Everything talks to the database without blocking the loop: three connections driven by
/// the loop (`PGLoopConnection`), one for appends, one for the log's tail and log reads (it
/// LISTENs for the NOTIFY every append batch sends), and one for a command's state loads
/// (stream reads, snapshots; `PostgresEventStore+Reads.swift`). Group commit: the appends that arrive
/// while a batch is being committed go out together as the next batch, one call of the
/// schema's `append_batch` function, one transaction, one WAL flush; an append completes when
/// its COMMIT has returned. A fourth, blocking connection serves the protocol's blocking calls
/// (start-up, tools, the catch-up phase of subscriptions) from other threads.
///
/// Positions are assigned under the lock of the schema's `head` row, inside the batch's
/// transaction (see `PostgresSchema`): gapless and in commit order with any number of writer
/// processes. This process learns of others' appends by reading the tail after its last known
/// position (on NOTIFY, or every `pollInterval`), and publishes to subscribers only a gapless
/// prefix of the log.
///
/// Loop-confined state lives on `loop`; what other threads read (`streamVersion`,
/// `lastPosition`, `health`, `stats`) is under `lock`.
public final class PostgresEventStore: EventStore, @unchecked Sendable {
    /// Longest stream name this engine takes (PostgreSQL's B-tree entries are bounded).
    public static let maxStreamNameBytes = 2_000

    public let executor: CompletionExecutor
    public let schemaName: String
    let schema: PostgresSchema
    private let options: PostgresStoreOptions
    private let loop: EventLoop
    let blocking: PGBlockingConnection
    let hub = SubscriptionHub()

    let lock = NSLock()
    var versions: [StreamName: Int64] = [:]
    var snapshotStreams: Set<StreamName> = []
    var published: UInt64
    private var counters = StoreStats()
    /// When the batch in flight was last sent (uptime nanoseconds), for `syncSeconds`.
    private var inFlightSent: UInt64 = 0
    var isClosed = false
    private var unhealthyReason: String?

    // Loop-confined.
    private var writer: PGLoopConnection?
    var reader: PGLoopConnection?
    /// A command's state loads (a stream's events, its snapshot): on a connection of their own,
    /// so a cold stream is not queued behind the tail's and the subscriptions' log reads.
    var loader: PGLoopConnection?
    private var pollTimer: LoopTimer?
    private var deadlineTimer: LoopTimer?
    private var pending: [PendingAppend] = []
    private var inFlight: [PendingAppend]?
    var tail: UInt64
    var tailReading = false
    var tailAgain = false
    /// The highest head a NOTIFY announced while a batch of ours was in flight.
    private var notifiedHead: UInt64 = 0
    private var loopThread: pthread_t?
    var closedOnLoop = false

    /// Opens (creating if needed) the store's schema, or throws one clear error: a bad URL,
    /// a refused connection, a wrong password, a missing database, a newer schema.
    public init(loop: EventLoop, executor: CompletionExecutor, options: PostgresStoreOptions) throws {
        self.loop = loop
        self.executor = executor
        self.options = options
        do {
            schema = try PostgresSchema(options.schema)
            blocking = try PGBlockingConnection(conninfo: options.conninfo)
        } catch let e as PGError {
            throw PostgresOpenError(description: "PostgreSQL store '\(options.schema)': \(e.message)")
        }
        schemaName = options.schema
        do {
            try Self.prepare(schema, on: blocking, readOnly: options.readOnly)
            let head = try blocking.query("SELECT last_position FROM \(schema.quoted).head WHERE id = 1")
            published = UInt64(max(0, head.int64(0, 0) ?? 0))
            let streams = try blocking.query("SELECT name, version FROM \(schema.quoted).streams")
            versions.reserveCapacity(streams.rows.count)
            for r in 0..<streams.rows.count { if let n = streams.text(r, 0), let v = streams.int64(r, 1) { versions[StreamName(n)] = v } }
            let snaps = try blocking.query("SELECT stream FROM \(schema.quoted).snapshots")
            for r in 0..<snaps.rows.count { if let n = snaps.text(r, 0) { snapshotStreams.insert(StreamName(n)) } }
        } catch let e as PGError {
            blocking.close()
            throw PostgresOpenError(description: "PostgreSQL store '\(options.schema)': \(e.description)")
        } catch {
            blocking.close()
            throw error
        }
        tail = published
        loop.execute { [self] in startOnLoop() }
    }

    /// Creates the schema (under an advisory lock: several processes may open it at once), or
    /// refuses one written by a newer version of this engine. `readOnly`: creates nothing, and
    /// refuses a schema that is not there yet.
    static func prepare(_ schema: PostgresSchema, on db: PGBlockingConnection, readOnly: Bool = false) throws {
        let exists = try db.query("SELECT to_regclass($1) IS NOT NULL", [.text("\(schema.quoted).meta")])
        if readOnly && exists.rows.first?[0] != [1] {
            throw PGError("schema '\(schema.name)' does not exist yet, and a read-only process creates nothing: start a writer of this store first")
        }
        if exists.rows.first?[0] == [1] {
            let v = try db.query("SELECT value FROM \(schema.quoted).meta WHERE key = 'schema_version'")
            if let text = v.text(0, 0), let found = Int(text), found > PostgresSchema.version {
                throw PGError("schema '\(schema.name)' has layout version \(found), newer than this build's \(PostgresSchema.version): upgrade tributary")
            }
            if readOnly { return }
        }
        try db.script("BEGIN; SELECT pg_advisory_xact_lock(hashtext('tributary:' || \(literal(schema.name)))); \(schema.createScript); COMMIT;")
    }

    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    // MARK: On the loop

    private func startOnLoop() {
        loopThread = pthread_self()
        lock.lock(); let closed = isClosed; lock.unlock()
        if closed { return }
        let writer = PGLoopConnection(name: "\(schemaName) writer", loop: loop, conninfo: options.conninfo,
                                      setup: options.testHoldBeforeCommit > 0 ? ["SET tributary.hold_ms = \(options.testHoldBeforeCommit)"] : [])
        let reader = PGLoopConnection(name: "\(schemaName) reader", loop: loop, conninfo: options.conninfo,
                                      setup: ["LISTEN \(schema.channel)"])
        writer.onReady = { [weak self] in self?.writerReady() }
        writer.onLost = { [weak self] e in self?.writerLost(e) }
        reader.onReady = { [weak self] in
            // Read-only, the reader's connection is what the store's health says.
            if self?.options.readOnly == true { self?.setUnhealthy(nil) }
            self?.readTail()
        }
        if options.readOnly { reader.onLost = { [weak self] e in self?.writerLost(e) } }
        reader.onNotification = { [weak self] _, payload in
            guard let self else { return }
            let head = UInt64(payload) ?? UInt64.max
            if head <= self.tail { return }
            // Most often this is this process's own batch, whose result is on its way on the
            // other connection: wait for it rather than read the events back.
            if self.inFlight != nil {
                self.notifiedHead = max(self.notifiedHead, head)
                return
            }
            self.readTail()
        }
        let loader = PGLoopConnection(name: "\(schemaName) loader", loop: loop, conninfo: options.conninfo, setup: [])
        self.writer = options.readOnly ? nil : writer
        self.reader = reader
        self.loader = loader
        if !options.readOnly { writer.connect() }
        reader.connect()
        loader.connect()
        let poll = LoopTimer(loop: loop)
        poll.start(timeout: options.pollInterval, repeat: options.pollInterval) { [weak self] in self?.readTail() }
        pollTimer = poll
        let deadline = LoopTimer(loop: loop)
        deadline.start(timeout: 250, repeat: 250) { [weak self] in self?.expireWaitingAppends() }
        deadlineTimer = deadline
    }

    var onLoop: Bool { loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }

    /// Runs `work` on the loop: at once when already there, else through `execute`.
    func onLoop(_ work: @escaping () -> Void) -> Bool {
        if onLoop { work(); return true }
        return loop.execute(work)
    }

    /// Records why the store cannot write (nil: it can); a change is logged once, not every
    /// failed attempt.
    private func setUnhealthy(_ reason: String?) {
        lock.lock()
        let was = unhealthyReason
        unhealthyReason = reason
        lock.unlock()
        logChange(from: was, to: reason)
    }

    private func logChange(from was: String?, to reason: String?) {
        switch (was, reason) {
        case (nil, let now?): options.logger(.warning, "store \(options.schema) unhealthy: \(now)")
        case (_?, nil): options.logger(.info, "store \(options.schema) healthy again: PostgreSQL answers")
        default: break
        }
    }

    // MARK: Appends

    private struct PendingAppend {
        let stream: StreamName
        let expected: ExpectedVersion
        let events: [NewEvent]
        let metas: [[UInt8]]
        let checks: [(crc: Int32, digest: [UInt8])]
        let completion: AppendCompletion
        let since: Date
        var bytes: Int { events.reduce(0) { $0 + $1.data.count } }
    }

    public func append(to stream: StreamName, expected: ExpectedVersion, events: [NewEvent], completion: @escaping AppendCompletion) {
        if options.readOnly {
            return executor.execute { completion(.failure(.invalidArgument("store '\(self.schemaName)' is open read-only (a query replica never appends)"))) }
        }
        if let invalid = Self.check(stream: stream, events: events) { return executor.execute { completion(.failure(invalid)) } }
        let metas = events.map { MetadataCoding.encode($0.metadata) }
        let checks = zip(events, metas).map { e, m in
            PostgresRows.checks(PostgresRows.content(id: e.id, schemaVersion: Int64(e.schemaVersion), stream: stream.value, type: e.type, metadata: m, data: e.data))
        }
        let item = PendingAppend(stream: stream, expected: expected, events: events, metas: metas, checks: checks, completion: completion, since: Date())
        let queued = onLoop { [self] in
            lock.lock(); let closed = isClosed; lock.unlock()
            if closed || closedOnLoop { return executor.execute { completion(.failure(.closed)) } }
            pending.append(item)
            sendBatch()
        }
        if !queued { executor.execute { completion(.failure(.closed)) } }
    }

    static func check(stream: StreamName, events: [NewEvent]) -> EventStoreError? {
        if let invalid = AppendArguments.check(stream: stream, events: events) { return invalid }
        if stream.value.utf8.count > maxStreamNameBytes { return .invalidArgument("stream name must be 1...\(maxStreamNameBytes) bytes on PostgreSQL") }
        // PostgreSQL's text cannot hold NUL.
        if stream.value.utf8.contains(0) || events.contains(where: { $0.type.utf8.contains(0) }) {
            return .invalidArgument("stream names and event types must not contain NUL")
        }
        return nil
    }

    /// Sends the next batch when none is in flight: everything waiting, up to the bounds.
    private func sendBatch() {
        guard inFlight == nil, !pending.isEmpty, let writer, writer.isReady else { return }
        var count = 0, bytes = 0
        while count < pending.count, count < options.maxBatchAppends, count == 0 || bytes + pending[count].bytes <= options.maxBatchBytes {
            bytes += pending[count].bytes
            count += 1
        }
        let batch = Array(pending.prefix(count))
        pending.removeFirst(count)
        inFlight = batch
        send(batch)
    }

    private func send(_ batch: [PendingAppend]) {
        guard let writer else { return }
        inFlightSent = DispatchTime.now().uptimeNanoseconds
        writer.send(batchQuery(batch)) { [weak self] result in self?.batchDone(batch, result) }
    }

    private func batchQuery(_ batch: [PendingAppend]) -> PGQuery {
        var streams: [String] = [], expected: [Int64] = [], counts: [Int32] = []
        var ids: [[UInt8]] = [], types: [String] = [], schemaVersions: [Int64] = [], datas: [[UInt8]] = []
        var metas: [[UInt8]] = [], crcs: [Int32] = [], digests: [[UInt8]] = []
        for a in batch {
            streams.append(a.stream.value)
            switch a.expected {
            case .any: expected.append(-1)
            case .noStream: expected.append(-2)
            case .streamExists: expected.append(-3)
            case .exact(let v): expected.append(v.value)
            }
            counts.append(Int32(a.events.count))
            for (i, e) in a.events.enumerated() {
                ids.append(PostgresRows.uuidBytes(e.id)); types.append(e.type); schemaVersions.append(Int64(e.schemaVersion))
                datas.append(e.data); metas.append(a.metas[i]); crcs.append(a.checks[i].crc); digests.append(a.checks[i].digest)
            }
        }
        return PGQuery("SELECT o_status, o_version, o_first, o_last, o_micros, o_reason FROM \(schema.quoted).append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                       [.textArray(streams), .int64Array(expected), .int32Array(counts), .uuidArray(ids), .textArray(types),
                        .int64Array(schemaVersions), .byteaArray(datas), .byteaArray(metas), .int32Array(crcs), .byteaArray(digests)])
    }

    private func batchDone(_ batch: [PendingAppend], _ result: Result<PGRows, PGError>) {
        guard inFlight != nil else { return }   // failed by the deadline meanwhile
        switch result {
        case .failure(let error) where error.connectionLost:
            // Outcome unknown: keep the batch; it is resent after the reconnect and its ids
            // settle it (written before: answered as an idempotent repeat).
            setUnhealthy("PostgreSQL connection lost: \(error.message); reconnecting")
            return
        case .failure(let error):
            inFlight = nil
            if batch.count > 1 {
                // One append the database refuses must not fail the others: each goes alone.
                pending.insert(contentsOf: batch, at: 0)
                isolateNext = batch.count
            } else {
                let failure = EventStoreError.storeUnhealthy(reason: "PostgreSQL refused the append: \(error.description)")
                executor.execute { batch[0].completion(.failure(failure)) }
            }
            if isolateNext > 0 { return sendIsolated() }
            return sendBatch()
        case .success(let rows):
            inFlight = nil
            complete(batch, rows)
            if isolateNext > 0 { return sendIsolated() }
            sendBatch()
        }
    }

    /// Appends to retry one per batch after a batch the database refused.
    private var isolateNext = 0

    private func sendIsolated() {
        guard inFlight == nil, !pending.isEmpty, let writer, writer.isReady else { return }
        isolateNext -= 1
        let batch = [pending.removeFirst()]
        inFlight = batch
        send(batch)
    }

    private func complete(_ batch: [PendingAppend], _ rows: PGRows) {
        var outcomes: [Result<AppendResult, EventStoreError>] = []
        var written: [RecordedEvent] = []
        var stats = (appends: 0, events: 0, bytes: 0)
        lock.lock()
        for (i, a) in batch.enumerated() {
            guard i < rows.rows.count, let status = rows.int32(i, 0) else {
                outcomes.append(.failure(.storeUnhealthy(reason: "PostgreSQL answered the append without a result")))
                continue
            }
            let version = rows.int64(i, 1) ?? -1, first = rows.int64(i, 2) ?? 0, last = rows.int64(i, 3) ?? 0
            switch status {
            case 0, 1:
                outcomes.append(.success(AppendResult(nextExpectedVersion: StreamVersion(version),
                                                      firstPosition: LogPosition(UInt64(first)), lastPosition: LogPosition(UInt64(last)))))
                stats.appends += 1
                if versions[a.stream].map({ $0 < version }) ?? true { versions[a.stream] = version }
                if status == 0 {
                    let at = Date(timeIntervalSince1970: Double(rows.int64(i, 4) ?? 0) / 1_000_000)
                    let firstVersion = version - Int64(a.events.count) + 1
                    for (j, e) in a.events.enumerated() {
                        written.append(RecordedEvent(id: e.id, stream: a.stream, streamVersion: StreamVersion(firstVersion + Int64(j)),
                                                     position: LogPosition(UInt64(first) + UInt64(j)), type: e.type,
                                                     schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata, timestamp: at))
                    }
                    stats.events += a.events.count
                    stats.bytes += a.bytes
                }
            case 2:
                let actual: StreamVersion? = version < 0 ? nil : StreamVersion(version)
                if version < 0 { versions[a.stream] = nil } else { versions[a.stream] = version }
                outcomes.append(.failure(.wrongExpectedVersion(stream: a.stream, expected: a.expected, actual: actual)))
            default:
                outcomes.append(.failure(.idempotencyConflict(stream: a.stream, reason: rows.text(i, 5) ?? "conflict")))
            }
        }
        counters.appends += UInt64(stats.appends)
        counters.fsyncs += 1
        // From the batch's (last) send to its COMMIT's answer.
        counters.syncSeconds.observe(Double(DispatchTime.now().uptimeNanoseconds - inFlightSent) / 1e9)
        if !written.isEmpty {
            counters.batches += 1
            counters.batchEvents.observe(Double(stats.events))
        }
        counters.eventsWritten += UInt64(stats.events)
        counters.bytesWritten += UInt64(stats.bytes)
        let was = unhealthyReason
        unhealthyReason = nil
        lock.unlock()
        logChange(from: was, to: nil)
        publishOwn(written)
        if notifiedHead > tail { readTail() }
        for (a, outcome) in zip(batch, outcomes) { executor.execute { a.completion(outcome) } }
    }

    /// Hands this process's committed events to subscribers when they continue the gapless
    /// prefix seen so far; otherwise (another writer committed in between) the tail read
    /// brings them in order with the others'.
    private func publishOwn(_ events: [RecordedEvent]) {
        guard let first = events.first?.position.value, let last = events.last?.position.value else { return }
        if last <= tail { return }
        // A tail read in flight meanwhile is fine: it keeps only what lies beyond the tail.
        if first == tail + 1 {
            advance(to: events)
        } else {
            readTail()
        }
    }

    func advance(to events: [RecordedEvent]) {
        guard let last = events.last?.position.value else { return }
        tail = last
        lock.lock()
        published = last
        for e in events where versions[e.stream].map({ $0 < e.streamVersion.value }) ?? true { versions[e.stream] = e.streamVersion.value }
        lock.unlock()
        hub.publish(events)
    }

    private func writerReady() {
        setUnhealthy(nil)
        if let batch = inFlight { return send(batch) }
        sendBatch()
    }

    private func writerLost(_ error: PGError) {
        setUnhealthy("PostgreSQL unreachable: \(error.message); reconnecting")
    }

    /// Appends that waited longer than the deadline for a database that does not answer fail
    /// (storeUnhealthy: a 503 the client may retry). One in flight fails too: its outcome is
    /// unknown, and a retry with the same ids settles it.
    private func expireWaitingAppends() {
        guard let writer, !writer.isReady else { return }
        let limit = Date().addingTimeInterval(-options.appendDeadline)
        let reason = writer.lastError.map { "PostgreSQL unreachable: \($0.message)" } ?? "PostgreSQL unreachable"
        var expired: [PendingAppend] = []
        if let batch = inFlight, let oldest = batch.map({ $0.since }).min(), oldest < limit {
            expired += batch
            inFlight = nil
        }
        let (old, young) = (pending.filter { $0.since < limit }, pending.filter { $0.since >= limit })
        expired += old
        pending = young
        for a in expired { executor.execute { a.completion(.failure(.storeUnhealthy(reason: reason))) } }
    }

    // MARK: Health, stats, close

    public var health: StoreHealth {
        lock.lock(); defer { lock.unlock() }
        if isClosed { return .unhealthy(reason: "closed") }
        return unhealthyReason.map { .unhealthy(reason: $0) } ?? .healthy
    }

    public var stats: StoreStats { lock.lock(); defer { lock.unlock() }; return counters }

    /// Commits what was appended before (waiting up to 10 s for the database), then closes the
    /// connections and ends the subscriptions. On the loop it waits by polling the socket
    /// itself (the loop serves nothing any more at that point); elsewhere it waits for the loop.
    public func close() {
        lock.lock()
        if isClosed { lock.unlock(); return }
        isClosed = true
        lock.unlock()
        if onLoop {
            closeOnLoop()
        } else if loopThread != nil {
            let done = DispatchSemaphore(value: 0)
            if loop.execute({ [self] in closeOnLoop(); done.signal() }) { _ = done.wait(timeout: .now() + 15) }
        } else {
            // Never started on the loop: nothing was sent.
            _ = loop.execute { [self] in closeOnLoop() }
        }
        hub.closeAll()
        blocking.close()
    }

    private func closeOnLoop() {
        guard !closedOnLoop else { return }
        let deadline = Date().addingTimeInterval(10)
        while let writer, writer.isReady, inFlight != nil || !pending.isEmpty, Date() < deadline {
            if inFlight == nil { sendBatch() }
            writer.drain(until: min(deadline, Date().addingTimeInterval(0.2)))
        }
        closedOnLoop = true
        let left = (inFlight ?? []) + pending
        inFlight = nil
        pending = []
        for a in left { executor.execute { a.completion(.failure(.closed)) } }
        pollTimer?.close(); pollTimer = nil
        deadlineTimer?.close(); deadlineTimer = nil
        writer?.close(); writer = nil
        reader?.close(); reader = nil
        loader?.close(); loader = nil
    }
}
