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

    /// The stream version an `If-Match` value names, or a Problem for an unusable value.
    static func expectedVersion(ifMatch value: String) throws -> StreamVersion {
        var v = Substring(value.trimmingCharacters(in: .whitespaces))
        if v.hasPrefix("W/") { v = v.dropFirst(2) }
        guard v.count >= 2, v.first == "\"", v.last == "\"" else {
            throw Problem(status: 400, type: ProblemType.uri("bad-if-match"), title: "Bad If-Match",
                          detail: "If-Match must be one entity tag from a previous response, e.g. \"3\".")
        }
        let inner = v.dropFirst().dropLast()
        let number = inner.split(separator: ".", maxSplits: 1).first ?? ""
        guard let version = Int64(number), version >= 0 else {
            throw Problem(status: 400, type: ProblemType.uri("bad-if-match"), title: "Bad If-Match",
                          detail: "If-Match must name a stream version, e.g. \"3\" or an ETag of a read.")
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
