import JSON

/// The public-event contract shared by every service: names, versions and payloads.
///
/// Public events are the only thing services exchange (docs/architecture.md). Each type has
/// a dotted name, a version and a JSON Schema in `openapi/public-events.yaml`. A payload
/// struct here is the *current* version of its event; an incompatible change adds a new
/// version (a new struct and a new `PublicEventType`), never edits an existing one.
public struct PublicEventType: Hashable, Sendable, CustomStringConvertible {
    /// Dotted name, e.g. `order.placed`.
    public let name: String
    /// Contract version of the payload, starting at 1.
    public let version: Int

    public init(_ name: String, version: Int) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name) v\(version)" }
}

/// A payload type bound to its public event name and version.
public protocol PublicEventPayload: Codable, Sendable, Equatable {
    static var eventType: PublicEventType { get }
    /// The hand-written reader (PublicEventReaders.swift): the value the synthesized
    /// `Decodable` conformance gives, or an error that makes `decode(_:)` fall back to it.
    init(json: JSONObjectReader) throws
}

/// Currencies the services accept: ISO 4217 codes with minor units (amounts are integers
/// in minor units, e.g. cents).
public enum Currency {
    public static let supported: Set<String> = [
        "AUD", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "JPY", "NOK", "NZD", "PLN", "SEK", "SGD", "USD",
    ]

    public static func isSupported(_ code: String) -> Bool { supported.contains(code) }
}
