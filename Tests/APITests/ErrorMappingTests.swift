import Testing
import CQRS
import EventStore
import HTTP
@testable import API

@Suite struct ErrorMappingTests {
    @Test("a command that cannot be decided yet (start-up) is 503 not-ready with Retry-After")
    func notReadyIs503() {
        let p = Problem.from(CommandError.notReady(reason: "the customer replica is still replaying the public log"))
        #expect(p.status == 503)
        #expect(p.type.hasSuffix("/problems/not-ready"))
        #expect(p.headers["Retry-After"] == "1")
    }
}
