import EventStore
import Foundation
@testable import PostgresStore
import Testing
import TributaryTesting

/// A store opened read-only (a query replica's): creates nothing, refuses appends, reads
/// what a writer appends.
@Suite("PostgreSQL store opened read-only", .serialized)
struct PostgresReadOnlyTests {
    @Test("a schema that does not exist is refused with one clear error; nothing is created")
    func missingSchema() throws {
        let schema = TestDatabase.freshSchema("ro")
        #expect {
            _ = try PostgresFixture(schema: schema) { $0.readOnly = true }
        } throws: { "\($0)".contains("does not exist yet, and a read-only process creates nothing") }
        let db = try PGBlockingConnection(conninfo: try TestDatabase.url)
        defer { db.close() }
        #expect(try db.query("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [.text(schema)]).int64(0, 0) == 0)
    }

    @Test("appends are refused; a writer's appends are read and followed")
    func readsWhatAWriterAppends() throws {
        let writer = try PostgresFixture()
        defer { writer.close() }
        let reader = try PostgresFixture(schema: writer.schema) { $0.readOnly = true }
        defer { reader.close(dropSchema: false) }
        let refused = reader.store.appendAndWait(to: "s-1", expected: .any, events: [NewEvent(type: "t", data: Array("{}".utf8))])
        guard case .failure(.invalidArgument(let why)) = refused else { Issue.record("append on a read-only store: \(refused)"); return }
        #expect(why.contains("read-only"))
        _ = writer.store.appendAndWait(to: "s-1", expected: .any, events: [NewEvent(type: "t", data: Array("{}".utf8))])
        let deadline = Date().addingTimeInterval(10)
        while reader.store.lastPosition.value < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(reader.store.lastPosition.value == 1)
        #expect(try reader.store.readAll(from: .start, maxCount: 10, filter: nil).map(\.stream.value) == ["s-1"])
    }
}
