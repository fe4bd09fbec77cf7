import EventStore
import Testing
@testable import API

@Suite("API tokens: file format, lookup, hashing, constant-time compare")
struct AuthTokensTests {
    static let hashA = TokenHashing.hex(SHA256.hash(Array("token-a".utf8)))
    static let hashB = TokenHashing.hex(SHA256.hash(Array("token-b".utf8)))

    @Test("parses names, hashes and scopes; skips comments and blank lines; ';' separates entries")
    func parsesFile() throws {
        let text = """
        # ci and ops tokens
        ci   \(Self.hashA)  commands:write,queries:read

        ops\t\(Self.hashB.uppercased())\tadmin ;
        """
        let set = try APITokenSet.parse(text, source: "tokens file t")
        #expect(set.count == 2)
        #expect(set.tokens[0].name == "ci" && set.tokens[0].scopes == [.commandsWrite, .queriesRead])
        #expect(set.tokens[1].scopes == [.admin])
        let env = try APITokenSet.parse("a \(Self.hashA) streams:read;b \(Self.hashB) admin", source: "TRIBUTARY_TOKENS")
        #expect(env.tokens.map(\.name) == ["a", "b"])
    }

    @Test("rejects bad lines with the source and line number, never echoing the secret field")
    func rejectsBadLines() {
        let cases: [(String, String)] = [
            ("ci raw-token-pasted-here queries:read", "64-hex-digit SHA-256"),
            ("ci \(Self.hashA)", "3 fields"),
            ("ci \(Self.hashA) queries:write", "unknown scope 'queries:write'"),
            ("ci \(Self.hashA) queries:read,", "unknown scope ''"),
            ("c/i \(Self.hashA) admin", "token name"),
            ("ci \(Self.hashA) admin\nci \(Self.hashB) admin", "defined twice"),
            ("ci \(Self.hashA) admin\nops \(Self.hashA) admin", "same hash"),
        ]
        for (text, expected) in cases {
            do {
                _ = try APITokenSet.parse(text, source: "tokens file t")
                Issue.record("accepted: \(text)")
            } catch let error as TokenConfigurationError {
                #expect(error.description.contains(expected), "\(error)")
                #expect(error.description.hasPrefix("tokens file t line "), "\(error)")
                #expect(!error.description.contains("raw-token-pasted-here"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("looks a presented token up by its hash")
    func lookup() throws {
        let set = try APITokenSet.parse("a \(Self.hashA) admin\nb \(Self.hashB) queries:read", source: "t")
        #expect(set.token(presented: "token-a")?.name == "a")
        #expect(set.token(presented: "token-b")?.name == "b")
        #expect(set.token(presented: "token-c") == nil)
        #expect(set.token(presented: "") == nil)
        #expect(APITokenSet().token(presented: "token-a") == nil)
    }

    @Test("hash-token: SHA-256 hex of stdin minus one line end; rejects empty and whitespace")
    func hashToken() throws {
        // SHA-256("abc"), FIPS 180-2 test vector.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(try TokenHashing.hashHex(stdin: Array("abc".utf8)) == abc)
        #expect(try TokenHashing.hashHex(stdin: Array("abc\n".utf8)) == abc)
        #expect(try TokenHashing.hashHex(stdin: Array("abc\r\n".utf8)) == abc)
        for bad in ["", "\n", "a b", "abc\n\n", "a\u{7F}"] {
            #expect(throws: TokenConfigurationError.self) { try TokenHashing.hashHex(stdin: Array(bad.utf8)) }
        }
    }

    @Test("constant-time equality")
    func constantTimeEquals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([9, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2], [1, 2, 3]))
        #expect(ConstantTime.equals([], []))
    }
}


@Suite struct LoopbackAddressTests {
    @Test("loopback detection")
    func loopback() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::1%lo"] {
            #expect(LoopbackAddress.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::2", "1::1", "::ffff:10.0.0.1", "localhost", "", "127.0.0"] {
            #expect(!LoopbackAddress.isLoopback(host), "\(host)")
        }
    }
}
