import Foundation
import Testing
@testable import App

@Suite("Request ids")
struct RequestIDTests {
    @Test("ids are lowercase RFC 4122 version-4 UUIDs that Foundation parses back")
    func canonicalForm() throws {
        for _ in 0..<1000 {
            let id = RequestID.make()
            #expect(id.count == 36)
            #expect(id == id.lowercased())
            let uuid = try #require(UUID(uuidString: id))
            #expect(uuid.uuidString.lowercased() == id)
            let chars = Array(id)
            #expect(chars[14] == "4")
            #expect("89ab".contains(chars[19]))
        }
    }

    @Test("ids do not repeat")
    func unique() {
        let ids = (0..<10_000).map { _ in RequestID.make() }
        #expect(Set(ids).count == ids.count)
    }
}
