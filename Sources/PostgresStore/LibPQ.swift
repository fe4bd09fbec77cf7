import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// The few libpq calls this engine makes, each turning C values into Swift ones: the one file
/// of the module that touches pointers. A `PGconn` is used by one thread at a time (the loop,
/// or a caller holding the blocking connection's lock).
enum LibPQ {
    typealias Connection = OpaquePointer

    /// Sends `query` without waiting (`PQsendQueryParams`, binary parameters and results).
    static func send(_ conn: Connection, _ query: PGQuery) -> Bool {
        withParams(query.params) { types, values, lengths, formats in
            PQsendQueryParams(conn, query.sql, Int32(query.params.count), types, values, lengths, formats, 1) == 1
        }
    }

    /// Runs `query` and waits for its result (`PQexecParams`): for the blocking connection.
    static func exec(_ conn: Connection, _ query: PGQuery) -> Result<PGRows, PGError> {
        let result = withParams(query.params) { types, values, lengths, formats in
            PQexecParams(conn, query.sql, Int32(query.params.count), types, values, lengths, formats, 1)
        }
        guard let result else { return .failure(PGError(errorMessage(conn), connectionLost: PQstatus(conn) != CONNECTION_OK)) }
        defer { PQclear(result) }
        return rows(result, conn)
    }

    /// Runs SQL without parameters (several statements allowed: `PQexec`).
    static func execScript(_ conn: Connection, _ sql: String) -> Result<Void, PGError> {
        guard let result = PQexec(conn, sql) else { return .failure(PGError(errorMessage(conn), connectionLost: true)) }
        defer { PQclear(result) }
        return rows(result, conn).map { _ in () }
    }

    private static func withParams<R>(_ params: [PGParam],
                                      _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R) -> R {
        let types = params.map { Oid($0.oid) }
        let lengths = params.map { Int32($0.bytes?.count ?? 0) }
        let formats = [Int32](repeating: 1, count: params.count)
        // One buffer holding every value, so each pointer stays valid for the call.
        var storage: [UInt8] = []
        storage.reserveCapacity(params.reduce(0) { $0 + ($1.bytes?.count ?? 0) } + 1)
        var offsets: [Int?] = []
        for p in params {
            if let b = p.bytes { offsets.append(storage.count); storage.append(contentsOf: b) } else { offsets.append(nil) }
        }
        storage.append(0)
        return storage.withUnsafeBufferPointer { buf in
            let base = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { $0.map { base + $0 } }
            return types.withUnsafeBufferPointer { t in
                values.withUnsafeBufferPointer { v in
                    lengths.withUnsafeBufferPointer { l in
                        formats.withUnsafeBufferPointer { f in
                            body(t.baseAddress, v.baseAddress, l.baseAddress, f.baseAddress)
                        }
                    }
                }
            }
        }
    }

    /// Copies a result out of libpq (rows for queries, the affected count for commands).
    static func rows(_ result: OpaquePointer, _ conn: Connection) -> Result<PGRows, PGError> {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            var out = PGRows()
            let n = Int(PQntuples(result)), f = Int(PQnfields(result))
            out.columns = (0..<f).map { String(cString: PQfname(result, Int32($0))) }
            out.rows.reserveCapacity(n)
            for r in 0..<n {
                var row: [[UInt8]?] = []
                row.reserveCapacity(f)
                for c in 0..<f {
                    if PQgetisnull(result, Int32(r), Int32(c)) == 1 { row.append(nil); continue }
                    let length = Int(PQgetlength(result, Int32(r), Int32(c)))
                    let value = PQgetvalue(result, Int32(r), Int32(c))!
                    row.append(value.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) })
                }
                out.rows.append(row)
            }
            out.affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return .success(out)
        default:
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            return .failure(PGError(message.isEmpty ? errorMessage(conn) : message, sqlState: state,
                                    connectionLost: PQstatus(conn) != CONNECTION_OK))
        }
    }

    static func errorMessage(_ conn: Connection?) -> String {
        guard let conn, let m = PQerrorMessage(conn) else { return "out of memory" }
        return String(cString: m)
    }

    // MARK: Connection life cycle

    enum PollStatus { case reading, writing, ok, failed }

    static func connectStart(_ conninfo: String) -> Connection? { quiet(PQconnectStart(conninfo)) }
    static func connectBlocking(_ conninfo: String) -> Connection? { quiet(PQconnectdb(conninfo)) }

    /// Server notices (e.g. what a DROP ... CASCADE dropped) are not printed on stderr.
    private static func quiet(_ conn: Connection?) -> Connection? {
        if let conn { PQsetNoticeProcessor(conn, { _, _ in }, nil) }
        return conn
    }
    static func isOK(_ conn: Connection) -> Bool { PQstatus(conn) == CONNECTION_OK }
    static func isBad(_ conn: Connection) -> Bool { PQstatus(conn) == CONNECTION_BAD }
    static func socket(_ conn: Connection) -> Int32 { PQsocket(conn) }
    static func finish(_ conn: Connection) { PQfinish(conn) }
    static func reset(_ conn: Connection) { PQreset(conn) }
    static func setNonBlocking(_ conn: Connection) -> Bool { PQsetnonblocking(conn, 1) == 0 }
    static func serverVersion(_ conn: Connection) -> Int { Int(PQserverVersion(conn)) }

    static func connectPoll(_ conn: Connection) -> PollStatus {
        switch PQconnectPoll(conn) {
        case PGRES_POLLING_READING: return .reading
        case PGRES_POLLING_WRITING: return .writing
        case PGRES_POLLING_OK: return .ok
        default: return .failed
        }
    }

    /// `PQflush`: 0 all sent, 1 more to send (wait until writable), -1 failed.
    static func flush(_ conn: Connection) -> Int32 { PQflush(conn) }
    /// `PQconsumeInput`: false when the connection failed.
    static func consumeInput(_ conn: Connection) -> Bool { PQconsumeInput(conn) == 1 }
    static func isBusy(_ conn: Connection) -> Bool { PQisBusy(conn) == 1 }

    /// The next result of the query being read (nil: the query is done), copied out.
    static func nextResult(_ conn: Connection) -> Result<PGRows, PGError>? {
        guard let result = PQgetResult(conn) else { return nil }
        defer { PQclear(result) }
        return rows(result, conn)
    }

    /// Notifications received so far (channel, payload).
    static func notifications(_ conn: Connection) -> [(channel: String, payload: String)] {
        var out: [(String, String)] = []
        while let n = PQnotifies(conn) {
            out.append((String(cString: n.pointee.relname), String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }

    /// Waits up to `milliseconds` for `fd` to be readable (or writable too, when asked):
    /// the engine's shutdown drains its last commit this way, on a loop that serves nothing more.
    static func waitFor(_ fd: Int32, writable: Bool, milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN) | (writable ? Int16(POLLOUT) : 0), revents: 0)
        return Glibc.poll(&p, 1, milliseconds) > 0
    }
}
