import CQRS
import EventStore
import Foundation
import HTTP

/// A consistency token: a position in one named store (`customers:42`, `public:17`).
/// Every write returns one; `?minPosition=` takes one back so a read can wait for it.
public struct ConsistencyToken: Equatable, CustomStringConvertible {
    public var store: String
    public var position: LogPosition

    public init(store: String, position: LogPosition) {
        self.store = store
        self.position = position
    }

    /// Parses `store:position`; nil when malformed.
    public init?(parsing text: Substring) {
        guard let colon = text.lastIndex(of: ":"), let value = UInt64(text[text.index(after: colon)...]),
              colon > text.startIndex else { return nil }
        store = String(text[..<colon])
        position = LogPosition(value)
    }

    public var description: String { "\(store):\(position.value)" }
}

/// Entity tags. A read's tag is `"<stream version>.<content hash>"`: it changes whenever the
/// document does (also when a field fed by another store changes), and its version part is
/// what `If-Match` on a command expects. A command's tag is `"<stream version>"`.
enum EntityTag {
    static func forDocument(_ document: QueryDocument) -> String {
        "\"\(document.version.map(String.init) ?? "none").\(String(document.contentHash, radix: 16))\""
    }

    static func forVersion(_ version: StreamVersion?) -> String {
        "\"\(version.map { String($0.value) } ?? "none")\""
    }

    /// The stream version an `If-Match` value names, or a Problem (400) for a value that is not
    /// one entity tag (RFC 9110 8.8.3: `[W/] DQUOTE *etagc DQUOTE`; a list or `*` is refused
    /// as one field of one value). The version is the decimal number before the first `.` of
    /// the tag (a read's tag is `"<version>.<hash>"`). A well-formed tag that names no version
    /// (`"abc"`, `"-1"`, a number past Int64) matches no stream's tag: RFC 9110 13.1.1 makes the
    /// condition false, so it is `StreamVersion.end`, a version no stream reaches, and the
    /// command answers 412 where a stale version would (after the body's validation).
    static func expectedVersion(ifMatch value: String) throws -> StreamVersion {
        var v = Substring(value.trimmingCharacters(in: .whitespaces)).utf8[...]
        if v.starts(with: "W/".utf8) { v = v.dropFirst(2) }
        let quote = UInt8(ascii: "\"")
        // etagc = %x21 / %x23-7E / obs-text (%x80-FF)
        guard v.count >= 2, v.first == quote, v.last == quote,
              v.dropFirst().dropLast().allSatisfy({ $0 == 0x21 || ($0 >= 0x23 && $0 != 0x7F) }) else {
            throw Problem(status: 400, type: ProblemType.uri("bad-if-match"), title: "Bad If-Match",
                          detail: "If-Match must be one entity tag from a previous response, e.g. \"3\".")
        }
        let number = v.dropFirst().dropLast().prefix { $0 != UInt8(ascii: ".") }
        guard !number.isEmpty, number.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let version = Int64(String(decoding: number, as: UTF8.self)) else {
            return .end
        }
        return StreamVersion(version)
    }

    /// Whether `If-None-Match` (a list of tags or `*`) matches `tag` (weak comparison).
    static func matches(ifNoneMatch header: String, tag: String) -> Bool {
        let strip = { (t: Substring) -> Substring in
            let s = t.drop { $0 == " " || $0 == "\t" }
            return s.hasPrefix("W/") ? s.dropFirst(2) : s
        }
        return header.split(separator: ",").contains { candidate in
            let c = strip(candidate).trimmingCharacters(in: .whitespaces)
            return c == "*" || c == tag
        }
    }
}

/// Problem `type` URIs: stable, one per kind of error, relative to the server.
public enum ProblemType {
    public static func uri(_ code: String) -> String { "/problems/\(code)" }
}

/// Request fingerprint for `Idempotency-Key`: the same key with a different request is refused.
enum RequestFingerprint {
    static func of(method: String, path: Substring, body: [UInt8]) -> String {
        var sha = SHA256()
        sha.update(Array(method.utf8))
        sha.update([0])
        sha.update(Array(path.utf8))
        sha.update([0])
        sha.update(body)
        return sha.finalize().hexString
    }
}
