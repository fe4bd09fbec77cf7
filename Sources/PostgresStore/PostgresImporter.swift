import EventStore
import Foundation

/// Writes another store's events into an empty PostgreSQL store as they are: the same
/// positions, stream versions, ids, timestamps, data and metadata, with this engine's CRC,
/// digest and hash chain computed for every row. For `tributary copy`; nothing else may write
/// the store meanwhile (every chunk takes the head row's lock anyway).
public final class PostgresImporter {
    private let schema: PostgresSchema
    private let db: PGBlockingConnection
    private var previous: [UInt8]
    private var last: Int64
    private var versions: [String: Int64] = [:]

    /// Opens (creating) the store's schema; fails unless the store is empty.
    public init(url: String, schema name: String) throws {
        do {
            schema = try PostgresSchema(name)
            db = try PGBlockingConnection(conninfo: url)
            try PostgresEventStore.prepare(schema, on: db)
            let head = try db.query("SELECT last_position FROM \(schema.quoted).head WHERE id = 1")
            guard head.int64(0, 0) == 0 else {
                db.close()
                throw PostgresOpenError(description: "PostgreSQL store '\(name)' is not empty (last position \(head.int64(0, 0) ?? -1)): copy only into an empty store")
            }
        } catch let e as PGError { throw PostgresOpenError(description: "PostgreSQL store '\(name)': \(e.description)") }
        previous = [UInt8](repeating: 0, count: 32)
        last = 0
    }

    /// Appends the next events of the log (positions must continue it, without a gap), in one
    /// transaction.
    public func write(_ events: [RecordedEvent]) throws {
        guard !events.isEmpty else { return }
        var positions: [Int64] = [], streams: [String] = [], versionsColumn: [Int64] = [], ids: [[UInt8]] = []
        var types: [String] = [], schemaVersions: [Int64] = [], datas: [[UInt8]] = [], metas: [[UInt8]] = []
        var micros: [Int64] = [], crcs: [Int32] = [], digests: [[UInt8]] = [], hashes: [[UInt8]] = []
        var chain = previous, at = last
        var heads = versions
        for e in events {
            let position = Int64(e.position.value)
            guard position == at + 1 else {
                throw EventStoreError.invalidArgument("copy: position \(position) after \(at): the source log has a gap")
            }
            let due = (heads[e.stream.value] ?? -1) + 1
            guard e.streamVersion.value == due else {
                throw EventStoreError.invalidArgument("copy: stream '\(e.stream)' version \(e.streamVersion.value) where \(due) was due")
            }
            let meta = MetadataCoding.encode(e.metadata)
            let us = Int64((e.timestamp.timeIntervalSince1970 * 1_000_000).rounded())
            let checks = PostgresRows.checks(PostgresRows.content(id: e.id, schemaVersion: Int64(e.schemaVersion), stream: e.stream.value,
                                                                 type: e.type, metadata: meta, data: e.data))
            chain = PostgresRows.link(previous: chain, position: position, version: e.streamVersion.value, micros: us, digest: checks.digest)
            positions.append(position); streams.append(e.stream.value); versionsColumn.append(e.streamVersion.value)
            ids.append(PostgresRows.uuidBytes(e.id)); types.append(e.type); schemaVersions.append(Int64(e.schemaVersion))
            datas.append(e.data); metas.append(meta); micros.append(us); crcs.append(checks.crc); digests.append(checks.digest)
            hashes.append(chain)
            heads[e.stream.value] = e.streamVersion.value
            at = position
        }
        let touched = Set(streams)
        let s = schema.quoted
        do {
            try db.withConnection { run in
                _ = try run("BEGIN", [])
                do {
                    let head = try run("SELECT last_position FROM \(s).head WHERE id = 1 FOR UPDATE", [])
                    guard head.int64(0, 0) == last else { throw PGError("the store was written during the copy") }
                    _ = try run("""
                        INSERT INTO \(s).events (position, stream, version, id, type, schema_version, data, metadata, micros, crc, digest, hash)
                        SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::uuid[], $5::text[], $6::int8[], $7::bytea[],
                                             $8::bytea[], $9::int8[], $10::int4[], $11::bytea[], $12::bytea[])
                        """, [.int64Array(positions), .textArray(streams), .int64Array(versionsColumn), .uuidArray(ids), .textArray(types),
                              .int64Array(schemaVersions), .byteaArray(datas), .byteaArray(metas), .int64Array(micros),
                              .int32Array(crcs), .byteaArray(digests), .byteaArray(hashes)])
                    let names = touched.sorted()
                    _ = try run("""
                        INSERT INTO \(s).streams (name, version) SELECT * FROM unnest($1::text[], $2::int8[])
                        ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version
                        """, [.textArray(names), .int64Array(names.map { heads[$0]! })])
                    _ = try run("UPDATE \(s).head SET last_position = $1, last_hash = $2 WHERE id = 1", [.int64(at), .bytea(chain)])
                    _ = try run("COMMIT", [])
                } catch {
                    _ = try? run("ROLLBACK", [])
                    throw error
                }
            }
        } catch let e as PGError { throw PostgresOpenError(description: "PostgreSQL store '\(schema.name)': \(e.description)") }
        previous = chain
        last = at
        versions = heads
    }

    public func close() { db.close() }
}

/// Maintenance a tool needs on a store's schema.
public enum PostgresAdmin {
    /// Drops a store's schema and everything in it.
    public static func dropSchema(url: String, schema name: String) throws {
        let schema = try PostgresSchema(name)
        let db = try PGBlockingConnection(conninfo: url)
        defer { db.close() }
        _ = try db.query("DROP SCHEMA IF EXISTS \(schema.quoted) CASCADE")
    }
}
