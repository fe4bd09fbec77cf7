import API
import EventStore
import Testing
@testable import App

@Suite("Development mode: loopback only without tokens")
struct AuthDevelopmentModeTests {
    @Test("no tokens + non-loopback listen address → refused before binding")
    func refusesExposedDevelopmentMode() throws {
        var config = AppConfiguration()
        config.listen = ["127.0.0.1:0", "0.0.0.0:0"]
        #expect(config.isDevelopmentMode)
        do {
            _ = try config.httpConfigurations()
            Issue.record("accepted a non-loopback address in development mode")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("refusing to listen on 0.0.0.0:0 without authentication"))
        }
        config.listen = ["127.0.0.1:0", "[::1]:0"]
        let open = try config.httpConfigurations()
        #expect(open.count == 1 && !open[0].configuration.middleware.contains { $0 is AuthGate })
        config.commandListen = ["0.0.0.0:0"]   // a split listener is checked too
        #expect(throws: ConfigurationError.self) { try config.httpConfigurations() }
    }

    @Test("with tokens any address is accepted and the auth middleware is installed")
    func tokensAllowExposure() throws {
        var config = AppConfiguration()
        config.listen = ["0.0.0.0:0"]
        config.tokens = try APITokenSet.parse("ci \(TokenHashing.hex(SHA256.hash(Array("token-a".utf8)))) admin", source: "t")
        #expect(!config.isDevelopmentMode)
        let http = try config.httpConfigurations()
        #expect(http.count == 1 && http[0].configuration.middleware.contains { $0 is AuthGate })
    }
}
