import Testing
import CQRS
import EventStore
import HTTP
@testable import API

/// `If-Match` on a command: one RFC 9110 entity-tag; the version is the number before its first
/// `.`. A well-formed tag that names no version can match no stream (412, like a stale version);
/// what is not one entity tag is a 400.
@Suite struct EntityTagTests {
    @Test("a command's and a read's ETag name their version; W/ is accepted")
    func versions() throws {
        #expect(try EntityTag.expectedVersion(ifMatch: "\"3\"") == StreamVersion(3))
        #expect(try EntityTag.expectedVersion(ifMatch: "W/\"3\"") == StreamVersion(3))
        #expect(try EntityTag.expectedVersion(ifMatch: "\"12.565320e05bbe2ad0\"") == StreamVersion(12))
        #expect(try EntityTag.expectedVersion(ifMatch: " \"0\" ") == StreamVersion(0))
    }

    @Test("a well-formed tag that names no version is .end (answered 412), not a 400")
    func noVersion() throws {
        for tag in ["\"abc\"", "\"-1\"", "\"\"", "\".5\"", "\"+3\"", "\"none.1f\"", "\"99999999999999999999\"", "W/\"x%\"", "\"é\""] {
            #expect(try EntityTag.expectedVersion(ifMatch: tag) == StreamVersion.end, "\(tag)")
        }
    }

    @Test("not one entity tag is a 400 bad-if-match")
    func malformed() {
        for value in ["3", "nope", "*", "\"1\", \"2\"", "W/3", "\"a\"b\"", "\"", "\"a b\"", "\"unterminated"] {
            #expect(throws: Problem.self, "\(value)") { try EntityTag.expectedVersion(ifMatch: value) }
        }
    }

    @Test("412 for a tag that names no version: no expectedVersion, the actual version and its ETag")
    func mismatchWithoutVersion() {
        let p = Problem.from(CommandError.versionMismatch(stream: "customer-c1", expected: .end, actual: StreamVersion(2)))
        #expect(p.status == 412)
        #expect(p.headers["ETag"] == "\"2\"")
        #expect(p.extensions["expectedVersion"] == nil)
        #expect(p.detail?.contains("names no version") == true)
        let stale = Problem.from(CommandError.versionMismatch(stream: "customer-c1", expected: StreamVersion(0), actual: StreamVersion(2)))
        #expect(stale.status == 412)
        #expect(stale.detail?.contains("expected version 0") == true)
    }
}
