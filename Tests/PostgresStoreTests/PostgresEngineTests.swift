import EventStore
import Foundation
@testable import PostgresStore
import Testing
import TributaryTesting
import UV

/// What only the PostgreSQL engine has: several writers on one log, a database that drops
/// connections, start-up errors, tamper evidence in rows.
@Suite("PostgreSQL engine") struct PostgresEngineTests {
    /// Several stores (each its own loop and connections, as separate processes would be) append
    /// to one schema at once while a subscriber on another follows it: positions are gapless and
    /// each is delivered once, in order, and every acknowledged append is there.
    @Test func concurrentWritersOnOneLogLeaveNoGapAndNoRepeat() async throws {
        let schema = TestDatabase.freshSchema("w")
        let follower = try PostgresFixture(schema: schema)
        defer { follower.close() }
        let writers = try (0..<4).map { _ in try PostgresFixture(schema: schema) }
        defer { for w in writers { w.close(dropSchema: false) } }
        let seen = Collected()
        let sub = follower.store.subscribe(from: .start, filter: nil, executor: DispatchQueueExecutor()) { seen.add($0) }
        defer { sub.cancel() }

        let perWriter = 150
        let acked = try await withThrowingTaskGroup(of: [AppendResult].self) { group in
            for (w, fixture) in writers.enumerated() {
                group.addTask {
                    try await withThrowingTaskGroup(of: AppendResult.self) { inner in
                        for i in 0..<perWriter {
                            inner.addTask {
                                try await fixture.store.append(to: StreamName("w\(w)-\(i % 7)"), expected: .any, events: events(1 + i % 3))
                            }
                        }
                        return try await inner.reduce(into: []) { $0.append($1) }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let total = acked.reduce(0) { $0 + Int($1.lastPosition.value - $1.firstPosition.value + 1) }
        #expect(await eventually { seen.count >= total })
        let positions = seen.all.map(\.position.value)
        #expect(positions == Array(1...UInt64(total)), "positions delivered in order, each once, none skipped")
        // Every acknowledged range is in the log, and the ranges tile it.
        let ranges = acked.map { $0.firstPosition.value...$0.lastPosition.value }.sorted { $0.lowerBound < $1.lowerBound }
        #expect(ranges.first?.lowerBound == 1)
        for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(b.lowerBound == a.upperBound + 1) }
        // Versions per stream are gapless too.
        for (stream, evs) in Dictionary(grouping: seen.all, by: \.stream) {
            #expect(evs.map(\.streamVersion.value) == Array(0..<Int64(evs.count)), "\(stream)")
        }
        #expect(await eventually { follower.store.lastPosition.value == UInt64(total) })
    }

    /// Another process's append reaches this one: subscription, lastPosition and streamVersion.
    @Test func anotherWritersAppendsReachThisStore() async throws {
        let schema = TestDatabase.freshSchema("o")
        let a = try PostgresFixture(schema: schema)
        defer { a.close() }
        let b = try PostgresFixture(schema: schema)
        defer { b.close(dropSchema: false) }
        let seen = Collected()
        let sub = b.store.subscribe(from: .start, filter: nil, executor: DispatchQueueExecutor()) { seen.add($0) }
        defer { sub.cancel() }
        let r = try await a.store.append(to: "order-1", expected: .noStream, events: events(2))
        #expect(await eventually { seen.count == 2 })
        #expect(await eventually { b.store.lastPosition == r.lastPosition })
        #expect(b.store.streamVersion("order-1") == StreamVersion(1))
        // b's stale view of the stream is corrected by the database, not trusted.
        let err = await appendError(b.store, "order-1", .noStream, events(1))
        #expect(err == .wrongExpectedVersion(stream: "order-1", expected: .noStream, actual: StreamVersion(1)))
    }

    /// The database kills the store's connections: appends wait, then go through on the new
    /// connection; the store says it is unhealthy meanwhile and healthy after.
    @Test func appendsResumeAfterTheConnectionsAreKilled() async throws {
        let f = try PostgresFixture()
        defer { f.close() }
        _ = try await f.store.append(to: "s-1", expected: .noStream, events: events(1))
        let admin = try PGBlockingConnection(conninfo: try TestDatabase.url)
        defer { admin.close() }
        let killed = try admin.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                                     [.text("tributary \(f.schema)")])
        #expect((killed.int64(0, 0) ?? 0) >= 2)
        // Appended while the connections are down or coming back: none lost, none doubled.
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for i in 0..<20 { group.addTask { try await f.store.append(to: StreamName("s-\(i % 3)"), expected: .any, events: events(1)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(results.map(\.firstPosition)).count == 20)
        #expect(await eventually { f.store.health == .healthy })
        let all = try f.store.readAll(from: .start, maxCount: 100, filter: nil)
        #expect(all.map(\.position.value) == Array(1...21))
    }

    /// An append retried with the same ids after an unknown outcome is answered with the
    /// original result: the rule the reconnect path relies on.
    @Test func resentBatchIsSettledByItsEventIDs() async throws {
        let f = try PostgresFixture()
        defer { f.close() }
        let batch = events(3)
        let first = try await f.store.append(to: "p-1", expected: .noStream, events: batch)
        let again = try await f.store.append(to: "p-1", expected: .noStream, events: batch)
        #expect(again == first)
        #expect(try f.store.readStream("p-1").count == 3)
    }

    @Test func openErrorsAreOneClearLine() throws {
        let thread = EventLoopThread()
        defer { thread.finish() }
        let url = try TestDatabase.url
        func openError(_ options: PostgresStoreOptions) -> String? {
            do { _ = try PostgresEventStore(loop: thread.loop, executor: DispatchQueueExecutor(), options: options); return nil }
            catch { return "\(error)" }
        }
        let refused = openError(PostgresStoreOptions(url: "postgresql://postgres@127.0.0.1:1/postgres", schema: "x"))
        #expect(refused?.contains("127.0.0.1") == true && refused?.contains("\n") == false, "\(refused ?? "opened")")
        let noDatabase = openError(PostgresStoreOptions(url: url.replacingOccurrences(of: "/postgres", with: "/no_such_db"), schema: "x"))
        #expect(noDatabase?.contains("no_such_db") == true, "\(noDatabase ?? "opened")")
        let badSchema = openError(PostgresStoreOptions(url: url, schema: "Bad-Name"))
        #expect(badSchema?.contains("schema name") == true)
        // A schema written by a newer layout is refused, not used.
        let schema = TestDatabase.freshSchema("n")
        let f = try PostgresFixture(schema: schema)
        f.close(dropSchema: false)
        defer { TestDatabase.drop(schema) }
        let admin = try PGBlockingConnection(conninfo: url)
        defer { admin.close() }
        _ = try admin.query("UPDATE \"\(schema)\".meta SET value = '99' WHERE key = 'schema_version'")
        let newer = openError(PostgresStoreOptions(url: url, schema: schema))
        #expect(newer?.contains("newer") == true, "\(newer ?? "opened")")
    }
}

