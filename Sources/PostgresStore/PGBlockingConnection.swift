import Foundation

/// A PostgreSQL connection used the blocking way (`PQexecParams`), under a lock, from threads
/// that may wait: opening a store (schema, the stream index), the protocol's blocking reads
/// (tools, start-up scans, the catch-up phase of subscriptions on the hub's queue), verify
/// and copy. Never from the loop. A dropped connection is reset once per call.
final class PGBlockingConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var conn: LibPQ.Connection?
    private let conninfo: String

    /// Connects, or throws libpq's message (bad URL, refused, wrong password, no database).
    init(conninfo: String) throws {
        self.conninfo = conninfo
        guard let c = LibPQ.connectBlocking(conninfo) else { throw PGError("out of memory connecting to PostgreSQL") }
        guard LibPQ.isOK(c) else {
            let message = LibPQ.errorMessage(c)
            LibPQ.finish(c)
            throw PGError(message, connectionLost: true)
        }
        conn = c
    }

    deinit { if let c = conn { LibPQ.finish(c) } }

    var serverVersion: Int { lock.lock(); defer { lock.unlock() }; return conn.map(LibPQ.serverVersion) ?? 0 }

    func query(_ sql: String, _ params: [PGParam] = []) throws -> PGRows {
        lock.lock(); defer { lock.unlock() }
        return try withReset { try LibPQ.exec($0, PGQuery(sql, params)).get() }
    }

    /// Runs several statements (DDL) at once.
    func script(_ sql: String) throws {
        lock.lock(); defer { lock.unlock() }
        try withReset { try LibPQ.execScript($0, sql).get() }
    }

    /// Runs `body` holding the connection (a transaction of several statements).
    func withConnection<T>(_ body: (_ run: (String, [PGParam]) throws -> PGRows) throws -> T) throws -> T {
        lock.lock(); defer { lock.unlock() }
        guard let c = conn else { throw PGError("connection closed", connectionLost: true) }
        return try body { sql, params in try LibPQ.exec(c, PGQuery(sql, params)).get() }
    }

    private func withReset<T>(_ body: (LibPQ.Connection) throws -> T) throws -> T {
        guard let c = conn else { throw PGError("connection closed", connectionLost: true) }
        if !LibPQ.isOK(c) { LibPQ.reset(c) }
        do {
            return try body(c)
        } catch let error as PGError where error.connectionLost {
            // Once: the server may have restarted since the last call.
            LibPQ.reset(c)
            guard LibPQ.isOK(c) else { throw error }
            return try body(c)
        }
    }

    func close() {
        lock.lock(); defer { lock.unlock() }
        if let c = conn { LibPQ.finish(c) }
        conn = nil
    }
}
