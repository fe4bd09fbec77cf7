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

@Suite("PostgreSQL connection settings")
struct PostgresConnectionSettingsTests {
    @Test("every connection names the store and turns JIT off, unless the URL says otherwise")
    func conninfo() {
        let url = PostgresStoreOptions(url: "postgresql://u@h:5/db", schema: "tributary_public").conninfo
        #expect(url == "postgresql://u@h:5/db?application_name=tributary%20tributary_public&options=-c%20jit%3Doff")
        let kv = PostgresStoreOptions(url: "host=h dbname=d", schema: "s").conninfo
        #expect(kv == "host=h dbname=d application_name='tributary s' options='-c jit=off'")
        let own = PostgresStoreOptions(url: "postgresql://u@h/db?options=-c%20work_mem%3D64MB", schema: "s").conninfo
        #expect(own == "postgresql://u@h/db?options=-c%20work_mem%3D64MB&application_name=tributary%20s")
    }

    @Test("the store's sessions run with JIT off")
    func jitOff() throws {
        let fixture = try PostgresFixture()
        defer { fixture.close() }
        #expect(try fixture.store.blocking.query("SHOW jit").text(0, 0) == "off")
    }
}
