import Foundation
import UV

/// The right to be the one writer of a service's store when several processes run that service
/// (`tributary serve --role customers` on two machines): a PostgreSQL session-level advisory
/// lock, held on a connection of its own, driven by the loop like the store's.
///
/// `start` tries `pg_try_advisory_lock` every `retryInterval` until it gets it (a standby
/// waits here), then calls `acquired`. The lock lives as long as that session: when the
/// holder dies, PostgreSQL ends its session and releases the lock, and a standby's next try
/// takes it. While held, the connection is watched (its socket is always read, so a server
/// that ends the session is noticed at once) and probed every `checkInterval` (a silent
/// network gets `tcp_user_timeout`); once the session is gone the lease is lost for good:
/// `lost` runs once and the connection is not reopened (a new session would not hold the
/// lock). The owner then stops writing; `tributary serve` exits, and its supervisor starts it
/// again as a standby.
///
/// Loop-confined.
public final class PostgresWriterLease {
    /// The lease's name: the service whose store it guards.
    public let name: String
    /// The advisory lock key: a stable 64-bit hash of `name` (FNV-1a).
    public let key: Int64
    private let connection: PGLoopConnection
    private let loop: EventLoop
    private let retryInterval: UInt64
    private let checkInterval: UInt64
    private var timer: LoopTimer?
    private var held = false
    private var closed = false
    private var acquired: (() -> Void)?
    private var lost: ((String) -> Void)?

    /// - Parameters:
    ///   - url: the database whose advisory locks arbitrate (every process of the service must
    ///     name the same one: the shared public log's).
    ///   - retryInterval, checkInterval: milliseconds between tries while waiting, and between
    ///     probes while held.
    public init(loop: EventLoop, url: String, name: String, retryInterval: UInt64 = 1_000, checkInterval: UInt64 = 1_000) {
        self.name = name
        self.loop = loop
        self.retryInterval = retryInterval
        self.checkInterval = checkInterval
        key = Self.key(for: name)
        var options = PostgresStoreOptions(url: url, schema: "")
        options.applicationName = "tributary lease \(name)"
        // The server's side of the session gives up on a silent holder (power lost, network cut)
        // after about 8 s instead of the system's two hours: only then is the lock free for a standby.
        connection = PGLoopConnection(name: "lease \(name)", loop: loop, conninfo: Self.withTimeouts(options.conninfo),
                                      setup: ["SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 1",
                                              "SET tcp_keepalives_count = 3", "SET tcp_user_timeout = 5000"])
    }

    /// The lock key of lease `name` (what `pg_locks.objid`/`classid` show, split in two halves).
    public static func key(for name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "tributary.writer.\(name)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// A session that goes silent (a cut network) counts as lost after about 5 s instead of
    /// the kernel's minutes; connecting gives up after 5 s too.
    static func withTimeouts(_ conninfo: String) -> String {
        let settings = ["tcp_user_timeout": "5000", "keepalives_idle": "2", "keepalives_interval": "1",
                        "keepalives_count": "3", "connect_timeout": "5"]
        if conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://") {
            let extra = settings.sorted { $0.key < $1.key }.filter { !conninfo.contains($0.key) }.map { "\($0.key)=\($0.value)" }
            return conninfo + (conninfo.contains("?") ? "&" : "?") + extra.joined(separator: "&")
        }
        return conninfo + settings.sorted { $0.key < $1.key }.filter { !conninfo.contains($0.key) }.map { " \($0.key)=\($0.value)" }.joined()
    }

    /// Starts trying; `acquired` runs once the lock is held, `lost` once if it is lost after
    /// that (both on the loop). Call once.
    public func start(acquired: @escaping () -> Void, lost: @escaping (String) -> Void) {
        self.acquired = acquired
        self.lost = lost
        connection.onLost = { [weak self] error in
            guard let self, held else { return }
            self.fail("the lease's session ended: \(error)")
        }
        attempt()
    }

    /// Whether this process holds the lease.
    public var isHeld: Bool { held }

    private func attempt() {
        guard !closed else { return }
        connection.send(PGQuery("SELECT pg_try_advisory_lock($1)", [.int64(key)])) { [weak self] result in
            guard let self, !closed else { return }
            if case .success(let rows) = result, rows.rows.count == 1, rows.bytes(0, 0) == [1] {
                held = true
                acquired?()
                acquired = nil
                return schedule(checkInterval) { [weak self] in self?.check() }
            }
            // Held by another process, or no database now: try again later.
            schedule(retryInterval) { [weak self] in self?.attempt() }
        }
    }

    private func check() {
        guard !closed, held else { return }
        connection.send(PGQuery("SELECT 1", [])) { [weak self] result in
            guard let self, !closed, held else { return }
            if case .failure(let error) = result { return fail("the lease's session failed a probe: \(error)") }
            schedule(checkInterval) { [weak self] in self?.check() }
        }
    }

    private func schedule(_ millis: UInt64, _ body: @escaping () -> Void) {
        let t = timer ?? LoopTimer(loop: loop)
        timer = t
        t.start(timeout: millis, body)
    }

    private func fail(_ reason: String) {
        guard held, !closed else { return }
        held = false
        let lost = self.lost
        self.lost = nil
        close()
        lost?(reason)
    }

    /// Gives the lease up (ending the session releases the lock) and stops trying.
    public func close() {
        guard !closed else { return }
        closed = true
        held = false
        timer?.stop()
        timer?.close()
        timer = nil
        connection.close()
    }
}
