import Foundation
import Testing
@testable import API

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

/// The idempotency fingerprint: lowercase hex SHA-256 of `method NUL path NUL body`.
@Suite struct RequestFingerprintTests {
    @Test func fingerprintIsTheHexDigestOfMethodPathAndBody() {
        // python3 -c 'import hashlib; print(hashlib.sha256(b"POST\0/commands/x\0{}").hexdigest())'
        #expect(RequestFingerprint.of(method: "POST", path: "/commands/x", body: Array("{}".utf8))
                == "7e5aa2a63b69a5841c06652c7788f7905f24ccd9bc66ba0733c97ecf679ad8de")
    }
}
