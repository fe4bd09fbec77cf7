import EventStore
import Foundation

/// Checks a store on PostgreSQL without changing it, as `EventStoreVerifier` checks files:
/// positions gapless from 1, each stream's versions gapless from 0, every row's CRC-32C and
/// SHA-256 digest recomputed from its columns, the whole hash chain, and the head row and the
/// streams table agreeing with the events. Backs `tributary verify --postgres URL`.
/// An edit to any column of a row (even with its CRC recomputed) breaks the chain there.
public enum PostgresVerifier {
    public static func verify(url: String, schema name: String, chunk: Int = 10_000) throws -> VerifyReport {
        let schema: PostgresSchema
        let db: PGBlockingConnection
        do {
            schema = try PostgresSchema(name)
            db = try PGBlockingConnection(conninfo: url)
        } catch let e as PGError { throw PostgresOpenError(description: "PostgreSQL store '\(name)': \(e.message)") }
        defer { db.close() }
        do {
            let exists = try db.query("SELECT to_regclass($1) IS NOT NULL", [.text("\(schema.quoted).events")])
            guard exists.rows.first?[0] == [1] else { throw PostgresOpenError(description: "PostgreSQL store '\(name)': no such store (schema \(name) has no events table)") }
            return try check(db, schema, chunk: chunk)
        } catch let e as PGError { throw PostgresOpenError(description: "PostgreSQL store '\(name)': \(e.description)") }
    }

    private static func check(_ db: PGBlockingConnection, _ schema: PostgresSchema, chunk: Int) throws -> VerifyReport {
        var report = VerifyReport(records: 0, lastGoodPosition: 0, firstBrokenPosition: nil, file: nil, offset: nil, problem: nil, tornTailOnly: false)
        func broken(_ position: Int64, _ problem: String) -> VerifyReport {
            var r = report
            r.firstBrokenPosition = UInt64(max(0, position))
            r.file = "\(schema.name).events"
            r.offset = position
            r.problem = problem
            return r
        }
        var previous = [UInt8](repeating: 0, count: 32)
        var nextVersion: [String: Int64] = [:]
        var after: Int64 = 0
        while true {
            let rows = try db.query("""
                SELECT \(PostgresSchema.eventColumns), crc, digest, hash FROM \(schema.quoted).events
                 WHERE position > $1 ORDER BY position LIMIT $2
                """, [.int64(after), .int64(Int64(chunk))])
            if rows.rows.isEmpty { break }
            for r in 0..<rows.rows.count {
                let position = rows.int64(r, 0) ?? -1
                guard let event = try? PostgresRows.event(rows, r), let crc = rows.int32(r, 9), let digest = rows.bytes(r, 10),
                      let hash = rows.bytes(r, 11), let meta = rows.bytes(r, 7), let micros = rows.int64(r, 8) else {
                    return broken(position, "a NULL or malformed column")
                }
                if position != after + 1 { return broken(position, "position \(position) follows \(after): the log has a gap") }
                let stream = event.stream.value
                let expectedVersion = nextVersion[stream] ?? 0
                if event.streamVersion.value != expectedVersion {
                    return broken(position, "stream '\(stream)' has version \(event.streamVersion.value) where \(expectedVersion) was due")
                }
                let content = PostgresRows.content(id: event.id, schemaVersion: Int64(event.schemaVersion), stream: stream,
                                                   type: event.type, metadata: meta, data: event.data)
                let checks = PostgresRows.checks(content)
                if checks.crc != crc { return broken(position, "CRC-32C mismatch: the row's content was changed") }
                if checks.digest != digest { return broken(position, "SHA-256 digest mismatch: the row's content was changed") }
                let link = PostgresRows.link(previous: previous, position: position, version: event.streamVersion.value, micros: micros, digest: digest)
                if link != hash { return broken(position, "hash chain broken: the row, or one before it, was changed") }
                previous = hash
                nextVersion[stream] = expectedVersion + 1
                after = position
                report.records += 1
                report.lastGoodPosition = UInt64(position)
            }
        }
        let head = try db.query("SELECT last_position, last_hash FROM \(schema.quoted).head WHERE id = 1")
        guard let last = head.int64(0, 0), let lastHash = head.bytes(0, 1) else { return broken(after + 1, "the head row is missing") }
        if last != after { return broken(after + 1, "the head says the log ends at \(last), the events end at \(after)") }
        if lastHash != previous { return broken(after, "the head's hash is not the chain's last link") }
        let streams = try db.query("SELECT name, version FROM \(schema.quoted).streams")
        var listed = 0
        for r in 0..<streams.rows.count {
            guard let n = streams.text(r, 0), let v = streams.int64(r, 1) else { continue }
            listed += 1
            if (nextVersion[n] ?? 0) - 1 != v { return broken(after, "the streams table says '\(n)' is at version \(v), its events say \((nextVersion[n] ?? 0) - 1)") }
        }
        if listed != nextVersion.count { return broken(after, "the streams table lists \(listed) streams, the events have \(nextVersion.count)") }
        return report
    }
}
