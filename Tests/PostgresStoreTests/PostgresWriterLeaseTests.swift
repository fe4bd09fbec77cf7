import Foundation
@testable import PostgresStore
import Testing
import UV

/// The writer lease on a real PostgreSQL: one holder at a time, handed over when the holder's
/// session ends, and lost (for good) when the server ends that session.
@Suite("PostgreSQL writer lease", .serialized)
struct PostgresWriterLeaseTests {
    /// A lease on a loop thread of its own, recording what happened to it.
    final class Holder: @unchecked Sendable {
        let thread = EventLoopThread()
        let lease: PostgresWriterLease
        private let lock = NSLock()
        private var _acquired = false
        private var _lost: String?

        init(name: String) throws {
            let url = try TestDatabase.url
            let thread = self.thread
            lease = try thread.sync { PostgresWriterLease(loop: thread.loop, url: url, name: name, retryInterval: 50, checkInterval: 50) }
            _ = thread.execute { [self] in
                lease.start(acquired: { [self] in lock.withLock { _acquired = true } },
                            lost: { [self] reason in lock.withLock { _lost = reason } })
            }
        }

        var acquired: Bool { lock.withLock { _acquired } }
        var lost: String? { lock.withLock { _lost } }

        func close() {
            _ = try? thread.sync { [lease] in lease.close() }
            _ = thread.finish()
        }
    }

    private func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    @Test("a second process waits while the first holds the lease, and takes it when the first lets go")
    func oneHolderThenHandOver() throws {
        let name = "test-\(UInt64.random(in: 0...UInt64.max))"
        let first = try Holder(name: name)
        defer { first.close() }
        #expect(eventually { first.acquired })
        let second = try Holder(name: name)
        defer { second.close() }
        // It keeps trying (every 50 ms) and must not get it while the first holds it.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!second.acquired)
        first.close()
        #expect(eventually { second.acquired })
        #expect(first.lost == nil, "closing is giving up, not losing")
        // Another name is another lease: free at once.
        let other = try Holder(name: name + "-other")
        defer { other.close() }
        #expect(eventually { other.acquired })
    }

    @Test("the server ending the holder's session loses the lease once, and it is not taken back silently")
    func sessionEndedIsLost() throws {
        let name = "test-\(UInt64.random(in: 0...UInt64.max))"
        let holder = try Holder(name: name)
        defer { holder.close() }
        #expect(eventually { holder.acquired })
        let admin = try PGBlockingConnection(conninfo: try TestDatabase.url)
        defer { admin.close() }
        let ended = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                                    [.text("tributary lease \(name)")])
        #expect(ended.rows.count == 1)
        #expect(eventually { holder.lost != nil })
        // The lock is free again: someone else takes it, and the old holder stays out.
        let next = try Holder(name: name)
        defer { next.close() }
        #expect(eventually { next.acquired })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(!holder.lease.isHeld)
    }

    @Test("the lock key is stable and differs per service")
    func keys() {
        #expect(PostgresWriterLease.key(for: "customers") == PostgresWriterLease.key(for: "customers"))
        #expect(PostgresWriterLease.key(for: "customers") != PostgresWriterLease.key(for: "orders"))
        #expect(PostgresWriterLease.withTimeouts("postgresql://u@h/db").contains("?connect_timeout=5&keepalives_count=3"))
        #expect(PostgresWriterLease.withTimeouts("host=h dbname=d").hasSuffix(" tcp_user_timeout=5000"))
    }
}
