import Foundation

/// Why a request body did not decode into the type asked for, in the terms a client can act
/// on: the body is not JSON at all, or one field is missing or has the wrong type.
public enum JSONBodyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not valid JSON.
    case malformed
    /// Valid JSON, but `field` (a dotted path, `[i]` for array elements; `(body)` for the
    /// whole body) is missing or not of the expected type; `message` says which.
    case invalidField(field: String, message: String)

    public var description: String {
        switch self {
        case .malformed: return "the body is not valid JSON"
        case let .invalidField(field, message): return "\(field) \(message)"
        }
    }
}

/// Decoding request bodies: the strict decoder when it accepts the body, else Foundation,
/// whose errors become `JSONBodyError`s naming the field.
public enum JSONBody {
    public static func decode<T: Decodable>(_: T.Type, from body: [UInt8]) throws -> T {
        if let value = JSONCoding.fastDecode(T.self, from: body) { return value }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            // Foundation reports a number that does not fit the field (10.5, 1e30 for an
            // integer) as corrupt data without a path; tell it apart from broken JSON.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
               (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil {
                throw JSONBodyError.invalidField(field: numberField(in: body) ?? "(body)", message: "must be an integer within range")
            }
            throw bodyError(for: error)
        } catch {
            throw JSONBodyError.malformed
        }
    }

    /// The first member (dotted path, `[i]` for array elements) whose value is a number that is
    /// not an integer within Int64: what the decoder could not name.
    static func numberField(in body: [UInt8]) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body)) else { return nil }
        func search(_ value: Any, _ path: String) -> String? {
            if let dict = value as? [String: Any] {
                for key in dict.keys.sorted() {
                    if let hit = search(dict[key]!, path.isEmpty ? key : path + "." + key) { return hit }
                }
            } else if let array = value as? [Any] {
                for (i, v) in array.enumerated() { if let hit = search(v, path + "[\(i)]") { return hit } }
            } else if let number = value as? NSNumber, !(value is Bool) {
                let d = number.doubleValue
                if d != d.rounded() || abs(d) >= 9.2e18 || "\(number)".contains("e") { return path }
            }
            return nil
        }
        return search(root, "")
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
            if context.codingPath.isEmpty { return .malformed }
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
