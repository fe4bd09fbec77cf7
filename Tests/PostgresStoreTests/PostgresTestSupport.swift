import EventStore
import Foundation
@testable import PostgresStore
import Testing
import TributaryTesting
import UV

/// The PostgreSQL the tests use: `TRIBUTARY_TEST_POSTGRES_URL`, which `scripts/test` sets after
/// starting a throwaway cluster (`scripts/tool postgres start`). Without it every test here
/// fails saying so: these tests never pass vacuously.
enum TestDatabase {
    static var url: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["TRIBUTARY_TEST_POSTGRES_URL"], !url.isEmpty else {
                throw PGError("TRIBUTARY_TEST_POSTGRES_URL is not set: run scripts/test, or start a cluster with "
                    + "`scripts/tool postgres start --dir DIR --fsync off` and export the URL it prints")
            }
            return url
        }
    }

    /// A schema name no other test uses.
    static func freshSchema(_ prefix: String = "t") -> String {
        "\(prefix)_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
    }

    /// Drops a test's schema.
    static func drop(_ schema: String) {
        guard let url = try? url, let db = try? PGBlockingConnection(conninfo: url) else { return }
        _ = try? db.query("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE")
        db.close()
    }
}

/// A PostgreSQL store on a loop thread of its own, in a fresh schema.
final class PostgresFixture {
    let thread = EventLoopThread()
    let schema: String
    let store: PostgresEventStore
    private var closed = false

    init(schema: String = TestDatabase.freshSchema(), configure: (inout PostgresStoreOptions) -> Void = { _ in }) throws {
        self.schema = schema
        var options = PostgresStoreOptions(url: try TestDatabase.url, schema: schema)
        options.logger = { _, _ in }
        configure(&options)
        do {
            store = try PostgresEventStore(loop: thread.loop, executor: DispatchQueueExecutor(), options: options)
        } catch {
            thread.stopAndFinish()
            throw error
        }
    }

    /// Closes the store and the loop; returns the loop handles left open (0 when clean).
    @discardableResult
    func close(dropSchema: Bool = true) -> Int {
        guard !closed else { return 0 }
        closed = true
        store.close()
        let left = thread.finish()
        if dropSchema { TestDatabase.drop(schema) }
        return left
    }

    deinit { close() }
}
