import API
import Testing
@testable import HTTP
import UV
@testable import App

/// `--command-listen` / `--query-listen`: which addresses serve which API.
@Suite struct ListenerSplitTests {
    func groups(_ listen: [String], commands: [String] = [], queries: [String] = []) throws -> [String] {
        var config = AppConfiguration()
        config.listen = listen
        config.commandListen = commands
        config.queryListen = queries
        return try config.httpConfigurations().map { "\($0.apis): " + $0.configuration.listen.map(\.description).joined(separator: " ") }
    }

    @Test func byDefaultEveryAddressServesBoth() throws {
        #expect(try groups(["127.0.0.1:8080", "[::1]:8080"]) == ["commands and queries: 127.0.0.1:8080 [::1]:8080"])
        #expect(try groups(["127.0.0.1:0"]) == ["commands and queries: 127.0.0.1:0"])
    }

    @Test func splitAddressesServeOneAPIEach() throws {
        #expect(try groups(["127.0.0.1:8080"], commands: ["127.0.0.1:8081"])
                == ["commands: 127.0.0.1:8081", "queries: 127.0.0.1:8080"])
        #expect(try groups(["127.0.0.1:8080"], commands: ["127.0.0.1:8081"], queries: ["127.0.0.1:8082", "127.0.0.1:8081"])
                == ["commands and queries: 127.0.0.1:8081", "queries: 127.0.0.1:8082"])
        // Port 0 under different options: different listeners, not one.
        #expect(try groups(["127.0.0.1:0"], commands: ["127.0.0.1:0"]) == ["commands: 127.0.0.1:0", "queries: 127.0.0.1:0"])
    }
}
