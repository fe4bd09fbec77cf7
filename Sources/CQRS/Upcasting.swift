import Foundation
import EventStore

/// Turns stored events of old schema versions into the current one, on every read.
///
/// Register one transform per (event type, from version) producing version + 1; `upcast`
/// applies them in sequence until no transform is registered for the version reached — that is
/// the current version. Stored bytes are never rewritten: the audit trail keeps the original.
public struct UpcasterChain: @unchecked Sendable {
    /// Transforms the JSON bytes of version `from` into version `from + 1`.
    public typealias Transform = (_ data: [UInt8]) throws -> [UInt8]

    private var steps: [String: [Int: Transform]] = [:]

    public init() {}

    /// No step registered: every event is current as stored.
    public var isEmpty: Bool { steps.isEmpty }

    /// Registers the step `type` v`from` → v`from + 1`. Re-registering a step replaces it.
    public mutating func register(type: String, from version: Int, _ transform: @escaping Transform) {
        steps[type, default: [:]][version] = transform
    }

    /// Registers a step that edits the event's top-level JSON object in place.
    public mutating func registerObject(type: String, from version: Int, _ edit: @escaping (inout [String: Any]) throws -> Void) {
        register(type: type, from: version) { data in
            guard var object = try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
                throw UpcastError(type: type, version: version, reason: "data is not a JSON object")
            }
            try edit(&object)
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
    }

    /// Whether any step is registered for `type`.
    public func hasSteps(for type: String) -> Bool { steps[type] != nil }

    /// The version `upcast` ends at for an event stored at `version`.
    public func currentVersion(of type: String, from version: Int = 1) -> Int {
        var v = version
        while steps[type]?[v] != nil { v += 1 }
        return v
    }

    /// Applies every registered step from `version` on; returns the version reached and the data.
    /// Throws `UpcastError` (with the failing step) if a transform fails.
    public func upcast(type: String, version: Int, data: [UInt8]) throws -> (version: Int, data: [UInt8]) {
        guard let chain = steps[type] else { return (version, data) }
        var v = version, d = data
        while let step = chain[v] {
            do { d = try step(d) } catch let e as UpcastError { throw e } catch {
                throw UpcastError(type: type, version: v, reason: "\(error)")
            }
            v += 1
        }
        return (v, d)
    }

    /// The recorded event with its data and schema version upcast (everything else unchanged).
    public func upcast(_ event: RecordedEvent) throws -> RecordedEvent {
        guard steps[event.type] != nil else { return event }
        var e = event
        let up = try upcast(type: event.type, version: event.schemaVersion, data: event.data)
        e.schemaVersion = up.version
        e.data = up.data
        return e
    }
}

/// An upcasting step failed.
public struct UpcastError: Error, Hashable, Sendable, CustomStringConvertible {
    public var type: String
    public var version: Int
    public var reason: String
    public init(type: String, version: Int, reason: String) { self.type = type; self.version = version; self.reason = reason }
    public var description: String { "cannot upcast \(type) v\(version): \(reason)" }
}
