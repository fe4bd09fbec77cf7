import EventStore
import Foundation
import UV

// The PostgreSQL engine's reads: the log's tail, which this process publishes from; blocking
// reads for other threads (start-up, tools, the catch-up phase of subscriptions) on the
// blocking connection; asynchronous ones and snapshots on the loop's connections.
extension PostgresEventStore {
    // MARK: The tail

    /// Reads what others (or this process, out of order) committed after the tail, and
    /// publishes it in order.
    func readTail() {
        guard let reader, !closedOnLoop else { return }
        if tailReading { tailAgain = true; return }
        tailReading = true
        tailAgain = false
        let from = LogPosition(tail), chunk = 1024
        reader.send(PostgresRows.readAll(schema, from: from, maxCount: chunk, filter: nil)) { [weak self] result in
            guard let self else { return }
            self.tailReading = false
            guard case .success(let rows) = result, let events = try? PostgresRows.events(rows) else { return }
            let fresh = events.filter { $0.position.value > self.tail }
            if let first = fresh.first, first.position.value == self.tail + 1 { self.advance(to: fresh) }
            if events.count >= chunk || self.tailAgain { self.readTail() }
        }
    }

    // MARK: Reads

    private func mapped(_ error: Error) -> EventStoreError {
        if let e = error as? EventStoreError { return e }
        if let e = error as? PGError { return .storeUnhealthy(reason: "PostgreSQL: \(e.description)") }
        return .wrap(error)
    }

    public func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int) throws -> [RecordedEvent] {
        guard maxCount > 0, from.value >= 0 else { return [] }
        do {
            let q = PostgresRows.readStream(schema, stream, from: from, direction: direction, maxCount: maxCount)
            return try PostgresRows.events(try blocking.query(q.sql, q.params))
        } catch { throw mapped(error) }
    }

    public func listStreams(containing: String?, after: String?, limit: Int) throws -> StreamPage {
        let limit = max(1, limit)
        do {
            let q = PostgresRows.listStreams(schema, containing: containing, after: after, limit: limit)
            let rows = try blocking.query(q.sql, q.params)
            var streams: [StreamPage.Stream] = []
            for r in rows.rows.indices {
                guard let name = rows.text(r, 0), let version = rows.int64(r, 1) else { continue }
                streams.append(StreamPage.Stream(name: StreamName(name), version: StreamVersion(version)))
            }
            return StreamPage(streams: streams, next: streams.count == limit ? streams.last?.name.value : nil)
        } catch { throw mapped(error) }
    }

    public func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?) throws -> [RecordedEvent] {
        try scan(after: from.value, maxCount: maxCount, filter: filter).events
    }

    private func scan(after: UInt64, maxCount: Int, filter: EventFilter?) throws -> (events: [RecordedEvent], scannedTo: UInt64) {
        guard maxCount > 0 else { return ([], after) }
        do {
            let q = PostgresRows.readAll(schema, from: LogPosition(after), maxCount: maxCount, filter: filter)
            return try PostgresRows.readAllResult(try blocking.query(q.sql, q.params), from: LogPosition(after), maxCount: maxCount)
        } catch { throw mapped(error) }
    }

    /// Runs `query` on one of the loop's connections (the read connection unless `loads`: the
    /// state loads' own); `decode` turns its rows into the answer.
    private func readOnLoop<T>(_ query: PGQuery, loads: Bool = false, _ decode: @escaping (PGRows) throws -> T,
                               _ completion: @escaping (Result<T, EventStoreError>) -> Void) {
        let queued = onLoop { [self] in
            guard let connection = loads ? loader : reader, !closedOnLoop else { return executor.execute { completion(.failure(.closed)) } }
            connection.send(query) { [self] result in
                let outcome: Result<T, EventStoreError>
                switch result {
                case .success(let rows): outcome = Result { try decode(rows) }.mapError(mapped)
                case .failure(let e): outcome = .failure(mapped(e))
                }
                executor.execute { completion(outcome) }
            }
        }
        if !queued { executor.execute { completion(.failure(.closed)) } }
    }

    public func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int,
                           completion: @escaping ReadCompletion) {
        guard maxCount > 0, from.value >= 0 else { return executor.execute { completion(.success([])) } }
        readOnLoop(PostgresRows.readStream(schema, stream, from: from, direction: direction, maxCount: maxCount), loads: true,
                   PostgresRows.events, completion)
    }

    public func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?, completion: @escaping ReadCompletion) {
        guard maxCount > 0 else { return executor.execute { completion(.success([])) } }
        readOnLoop(PostgresRows.readAll(schema, from: from, maxCount: maxCount, filter: filter),
                   { try PostgresRows.events($0) }, completion)
    }

    public func streamVersion(_ stream: StreamName) -> StreamVersion? {
        lock.lock(); defer { lock.unlock() }
        return versions[stream].map(StreamVersion.init)
    }

    public var lastPosition: LogPosition {
        lock.lock(); defer { lock.unlock() }
        return LogPosition(published)
    }

    public func subscribe(from: LogPosition, filter: EventFilter?, executor: CompletionExecutor,
                          handler: @escaping ([RecordedEvent]) -> Void) -> Subscription {
        hub.subscribe(from: from, filter: filter, executor: executor, handler: handler) { [weak self] after, max, filter in
            guard let self else { throw EventStoreError.closed }
            return try self.scan(after: after, maxCount: max, filter: filter)
        }
    }

    // MARK: Snapshots

    private func saveQuery(_ stream: StreamName, _ version: StreamVersion, _ data: [UInt8]) -> PGQuery {
        PGQuery("INSERT INTO \(schema.quoted).snapshots (stream, version, data) VALUES ($1, $2, $3) ON CONFLICT (stream) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data",
                [.text(stream.value), .int64(version.value), .bytea(data)])
    }

    private func loadQuery(_ stream: StreamName) -> PGQuery {
        PGQuery("SELECT version, data FROM \(schema.quoted).snapshots WHERE stream = $1", [.text(stream.value)])
    }

    private static func snapshot(_ rows: PGRows) -> Snapshot? {
        guard !rows.rows.isEmpty, let v = rows.int64(0, 0), let data = rows.bytes(0, 1) else { return nil }
        return Snapshot(version: StreamVersion(v), data: data)
    }

    public func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8]) throws {
        lock.lock(); let closed = isClosed; lock.unlock()
        if closed { throw EventStoreError.closed }
        do {
            let q = saveQuery(stream, version, data)
            _ = try blocking.query(q.sql, q.params)
        } catch { throw mapped(error) }
        lock.lock(); snapshotStreams.insert(stream); lock.unlock()
    }

    public func loadSnapshot(_ stream: StreamName) throws -> Snapshot? {
        do {
            let q = loadQuery(stream)
            return Self.snapshot(try blocking.query(q.sql, q.params))
        } catch { throw mapped(error) }
    }

    public func mayHaveSnapshot(_ stream: StreamName) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return snapshotStreams.contains(stream)
    }

    public func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8],
                             completion: @escaping (Result<Void, EventStoreError>) -> Void) {
        lock.lock(); let closed = isClosed; lock.unlock()
        if closed { return executor.execute { completion(.failure(.closed)) } }
        lock.lock(); snapshotStreams.insert(stream); lock.unlock()
        readOnLoop(saveQuery(stream, version, data), { _ in () }, completion)
    }

    public func loadSnapshot(_ stream: StreamName, completion: @escaping (Result<Snapshot?, EventStoreError>) -> Void) {
        readOnLoop(loadQuery(stream), loads: true, Self.snapshot, completion)
    }
}
