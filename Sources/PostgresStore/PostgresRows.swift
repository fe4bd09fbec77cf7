import EventStore
import Foundation

/// How events become rows and rows become events.
enum PostgresRows {
    /// The bytes an event's CRC-32C and SHA-256 digest cover: everything of it but its place
    /// (position, version and time are in the hash chain): id, schema version, stream, type,
    /// metadata and data, lengths in front. `verify` recomputes them from the columns, so a
    /// changed column is found.
    static func content(id: EventID, schemaVersion: Int64, stream: String, type: String, metadata: [UInt8], data: [UInt8]) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(40 + stream.utf8.count + type.utf8.count + metadata.count + data.count)
        b += BigEndian.bytes(Int64(bitPattern: id.high)) + BigEndian.bytes(Int64(bitPattern: id.low)) + BigEndian.bytes(schemaVersion)
        for part in [Array(stream.utf8), Array(type.utf8), metadata] { b += BigEndian.bytes(Int32(part.count)); b += part }
        b += data
        return b
    }

    static func checks(_ content: [UInt8]) -> (crc: Int32, digest: [UInt8]) {
        (Int32(bitPattern: CRC32C.checksum(content)), SHA256.hash(content))
    }

    /// The chain link of a row: sha256(previous || position || version || micros || digest).
    static func link(previous: [UInt8], position: Int64, version: Int64, micros: Int64, digest: [UInt8]) -> [UInt8] {
        SHA256.hash(previous + BigEndian.bytes(position) + BigEndian.bytes(version) + BigEndian.bytes(micros) + digest)
    }

    static func uuidBytes(_ id: EventID) -> [UInt8] { BigEndian.bytes(Int64(bitPattern: id.high)) + BigEndian.bytes(Int64(bitPattern: id.low)) }

    static func eventID(_ b: [UInt8]) -> EventID {
        EventID(high: UInt64(bitPattern: BigEndian.int64(b)), low: UInt64(bitPattern: BigEndian.int64(Array(b[8...]))))
    }

    /// A row of `PostgresSchema.eventColumns`, from column `at` on.
    static func event(_ rows: PGRows, _ r: Int, at c: Int = 0) throws -> RecordedEvent {
        guard let position = rows.int64(r, c), let stream = rows.text(r, c + 1), let version = rows.int64(r, c + 2),
              let id = rows.bytes(r, c + 3), id.count == 16, let type = rows.text(r, c + 4),
              let schemaVersion = rows.int64(r, c + 5), let data = rows.bytes(r, c + 6), let meta = rows.bytes(r, c + 7),
              let micros = rows.int64(r, c + 8) else {
            throw EventStoreError.corrupt(position: UInt64(max(0, rows.int64(r, c) ?? 0)), file: "events", offset: 0, reason: "a row with a NULL or malformed column")
        }
        guard let metadata = MetadataCoding.decode(meta) else {
            throw EventStoreError.corrupt(position: UInt64(position), file: "events", offset: 0, reason: "undecodable metadata")
        }
        return RecordedEvent(id: eventID(id), stream: StreamName(stream), streamVersion: StreamVersion(version),
                             position: LogPosition(UInt64(position)), type: type, schemaVersion: Int(schemaVersion), data: data,
                             metadata: metadata, timestamp: Date(timeIntervalSince1970: Double(micros) / 1_000_000))
    }

    static func events(_ rows: PGRows) throws -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        out.reserveCapacity(rows.rows.count)
        for r in 0..<rows.rows.count where rows.rows[r][0] != nil { out.append(try event(rows, r)) }
        return out
    }

    // MARK: Queries

    /// Streams in name order after `after`, those whose name contains `containing` (`strpos`:
    /// a plain substring, no pattern characters to escape), at most `limit`.
    static func listStreams(_ schema: PostgresSchema, containing: String?, after: String?, limit: Int) -> PGQuery {
        PGQuery("SELECT name, version FROM \(schema.quoted).streams WHERE name > $1 AND ($2::text IS NULL OR strpos(name, $2) > 0) "
                + "ORDER BY name LIMIT $3",
                [.text(after ?? ""), containing.flatMap { $0.isEmpty ? nil : PGParam.text($0) } ?? .null, .int64(Int64(limit))])
    }

    static func readStream(_ schema: PostgresSchema, _ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int) -> PGQuery {
        let order = direction == .forward ? "version >= $2 ORDER BY version" : "version <= $2 ORDER BY version DESC"
        return PGQuery("SELECT \(PostgresSchema.eventColumns) FROM \(schema.quoted).events WHERE stream = $1 AND \(order) LIMIT $3",
                       [.text(stream.value), .int64(from.value), .int64(Int64(clamping: maxCount))])
    }

    /// Events after `from` matching `filter`, and (in the last column of every row, and of a
    /// row of NULLs when none matched) the head position of the same snapshot: how far the read
    /// has looked, which a filtered read needs to move on.
    static func readAll(_ schema: PostgresSchema, from: LogPosition, maxCount: Int, filter: EventFilter?) -> PGQuery {
        let f = filter ?? EventFilter()
        let types: PGParam = f.eventTypes.isEmpty ? .null : .textArray(f.eventTypes.sorted())
        let places = !(f.categories.isEmpty && f.streamPrefixes.isEmpty)
        let sql = """
        SELECT e.*, h.last_position FROM \(schema.quoted).head h LEFT JOIN LATERAL (
            SELECT \(PostgresSchema.eventColumns) FROM \(schema.quoted).events
             WHERE position > $1 AND position <= h.last_position
               AND ($3::text[] IS NULL OR type = ANY($3))
               AND (NOT $6 OR split_part(stream, '-', 1) = ANY($4) OR EXISTS (SELECT 1 FROM unnest($5::text[]) p WHERE starts_with(stream, p)))
             ORDER BY position LIMIT $2) e ON true
        """
        return PGQuery(sql, [.int64(Int64(clamping: from.value)), .int64(Int64(clamping: maxCount)), types,
                             .textArray(f.categories.sorted()), .textArray(f.streamPrefixes), .bool(places)])
    }

    /// The events of a `readAll` answer, and how far it looked (the last event's position when
    /// the page is full, else the snapshot's head).
    static func readAllResult(_ rows: PGRows, from: LogPosition, maxCount: Int) throws -> (events: [RecordedEvent], scannedTo: UInt64) {
        let events = try Self.events(rows)
        let head = rows.rows.isEmpty ? Int64(from.value) : (rows.int64(0, 9) ?? Int64(from.value))
        let scannedTo = events.count >= maxCount ? events.last!.position.value : max(from.value, UInt64(max(0, head)))
        return (events, scannedTo)
    }
}
