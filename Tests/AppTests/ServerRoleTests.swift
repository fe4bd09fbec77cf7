import API
import Testing
@testable import App

@Suite("--role: what one process runs")
struct ServerRoleTests {
    @Test("roles parse, and contradictions are refused with a clear message")
    func parsing() throws {
        #expect(try ServerRole(role: "all", service: nil) == .all)
        #expect(try ServerRole(role: "customers", service: nil) == .service("customers"))
        #expect(try ServerRole(role: "orders", service: "orders") == .service("orders"))
        #expect(try ServerRole(role: "query", service: "customers") == .query("customers"))
        func refusal(_ role: String, _ service: String?) -> String {
            do { _ = try ServerRole(role: role, service: service); return "" } catch { return "\(error)" }
        }
        #expect(refusal("query", nil).contains("needs --service"))
        #expect(refusal("query", "billing").contains("no service named 'billing'"))
        #expect(refusal("customers", "orders").contains("contradicts"))
        #expect(refusal("all", "orders").contains("--role query only"))
        #expect(refusal("writer", nil).contains("unknown role 'writer'"))
    }

    @Test("each role opens its services' stores and the public log, nothing else")
    func stores() {
        #expect(ServerRole.all.storeNames == ["customers", "orders", "public"])
        #expect(ServerRole.service("orders").storeNames == ["orders", "public"])
        #expect(ServerRole.query("customers").storeNames == ["customers", "public"])
        #expect(ServerRole.query("customers").writes == false && ServerRole.service("customers").writes)
        #expect(ServerRole.all.makeProcessRole().writer == .leader)
        #expect(ServerRole.service("orders").makeProcessRole().writer == .standby)
        #expect(ServerRole.query("orders").makeProcessRole().writer == ProcessRole.Writer.none)
    }

    @Test("a split role needs its stores on PostgreSQL, and the lease lives in the public log's database")
    func splitNeedsPostgres() throws {
        var config = AppConfiguration()
        config.role = .service("customers")
        config.dataDirectory = "/tmp/x"
        #expect(throws: ConfigurationError.self) { try config.splitRoleDatabase() }
        config.postgres = "postgresql://u@h/all"
        #expect(try config.splitRoleDatabase() == "postgresql://u@h/all")
        config.storeLocations = ["public": .postgres(url: "postgresql://u@other/log")]
        #expect(try config.splitRoleDatabase() == "postgresql://u@other/log")
        config.storeLocations = ["customers": .directory("/tmp/c")]
        do { _ = try config.splitRoleDatabase(); Issue.record("files accepted for a split role") } catch {
            #expect("\(error)".contains("store 'customers' is the directory /tmp/c"))
        }
        config.role = .all
        config.storeLocations = [:]
        config.postgres = nil
        #expect(try config.splitRoleDatabase() == nil)
        #expect(config.resolvedStoreLocations.map { $0.0 } == ["customers", "orders", "public"])
        config.role = .query("orders")
        #expect(config.resolvedStoreLocations.map { $0.0 } == ["orders", "public"])
    }
}
