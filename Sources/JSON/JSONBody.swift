import Foundation

/// Why a request body did not decode into the type asked for, in the terms a client can act
/// on: the body is not JSON at all, or one field is missing or has the wrong type.
public enum JSONBodyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not valid JSON; `reason` says where and why, when known.
    case malformed(reason: String?)
    /// Not UTF-8 (RFC 8259 §8.1); `offset` is the first byte that is not.
    case notUTF8(offset: Int)
    /// JSON with two readings (see `JSONText`): an object names `member` (a dotted path) twice,
    /// or names it in a form that is not Unicode NFC (`unnormalized`).
    case ambiguousMember(member: String, unnormalized: Bool)
    /// Valid JSON, but `field` (a dotted path, `[i]` for array elements; `(body)` for the
    /// whole body) is missing or not of the expected type; `message` says which.
    case invalidField(field: String, message: String)

    public var description: String {
        switch self {
        case .malformed(let reason): return "the body is not valid JSON" + (reason.map { ": \($0)" } ?? "")
        case .notUTF8(let offset): return "the body is not UTF-8 (byte \(offset))"
        case let .ambiguousMember(member, unnormalized):
            return unnormalized ? "the member name \(member) is not in Unicode NFC" : "the member \(member) appears twice"
        case let .invalidField(field, message): return "\(field) \(message)"
        }
    }
}

/// Decoding request bodies: the strict decoder when it accepts the body (its parser takes only
/// UTF-8 texts without duplicate members, a subset of what `JSONText` lets through), else
/// `JSONText`'s one-reading check and then Foundation, whose errors become `JSONBodyError`s
/// naming the field. Foundation never sees a text the check refused: it would guess UTF-16 or
/// UTF-32 from the first bytes and keep one of two duplicate members.
public enum JSONBody {
    public static func decode<T: Decodable>(_: T.Type, from body: [UInt8]) throws -> T {
        if let value = JSONCoding.fastDecode(T.self, from: body) { return value }
        let checked: JSONText.Checked
        do {
            checked = try JSONText.check(body)
        } catch {
            switch error {
            case .notUTF8(let offset): throw JSONBodyError.notUTF8(offset: offset)
            case let .malformed(offset, reason): throw JSONBodyError.malformed(reason: "\(reason) (byte \(offset))")
            case .duplicateMember(let path): throw JSONBodyError.ambiguousMember(member: path, unnormalized: false)
            case .unnormalizedMember(let path): throw JSONBodyError.ambiguousMember(member: path, unnormalized: true)
            }
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(checked.text))
        } catch let error as DecodingError {
            // The text is JSON (checked), so corrupt data without a path is a number Foundation
            // cannot represent (10.5 or 1e30 for an integer, 1e400 at all): name the first
            // number that is not an integer within Int64.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw JSONBodyError.invalidField(field: checked.firstNonInteger ?? "(body)", message: "must be an integer within range")
            }
            throw bodyError(for: error)
        } catch {
            throw JSONBodyError.malformed(reason: nil)
        }
    }

    private static func bodyError(for error: DecodingError) -> JSONBodyError {
        func path(_ context: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            var keys = context.codingPath
            if let extra { keys.append(extra) }
            var out = ""
            for key in keys {
                if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
            }
            return out.isEmpty ? "(body)" : out
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidField(field: path(context, key), message: "is required")
        case .typeMismatch(let type, let context):
            return .invalidField(field: path(context), message: "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return .invalidField(field: path(context), message: "must be \(describe(type)), not null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .malformed(reason: nil) }
            return .invalidField(field: path(context), message: "has an invalid value")
        @unknown default:
            return .invalidField(field: "(body)", message: "is invalid")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        case is [Any].Type: return "an array"
        default: return "an object" }
    }
}
