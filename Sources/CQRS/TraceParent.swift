import EventStore

/// A W3C Trace Context `traceparent` (version 00): `00-<trace-id>-<parent-id>-<flags>`, lowercase
/// hex of 32, 16 and 2 digits. A command that arrives with one carries it into the metadata of
/// the events it appends (as a span of its own, a child of the caller's), the publisher copies
/// it onto the public events those map to, and a saga consumer's commands continue it: the
/// whole saga joins the caller's distributed trace.
///
/// Values are parsed strictly and a malformed one is ignored (not trusted, not repaired), as the
/// specification asks of a receiver.
public struct TraceParent: Hashable, Sendable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero: the span this value names.
    public let spanID: String
    /// 2 lowercase hex digits (bit 0: sampled).
    public let flags: String

    /// Metadata property holding the `traceparent` of the span that appended an event.
    public static let property = "traceparent"

    /// Parses `text`; nil unless it is a valid version-00 value (a later version is read by its
    /// first four fields, as the specification allows).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 55, bytes[2] == 0x2D, bytes[35] == 0x2D, bytes[52] == 0x2D else { return nil }
        let version = bytes[0..<2], trace = bytes[3..<35], span = bytes[36..<52], flags = bytes[53..<55]
        let isFF = bytes[0] == 0x66 && bytes[1] == 0x66, is00 = bytes[0] == 0x30 && bytes[1] == 0x30
        guard [version, trace, span, flags].allSatisfy({ $0.allSatisfy(Self.isLowerHex) }), !isFF,
              bytes.count == 55 || (!is00 && bytes[55] == 0x2D),
              trace.contains(where: { $0 != 0x30 }), span.contains(where: { $0 != 0x30 }) else { return nil }
        traceID = String(decoding: trace, as: UTF8.self)
        spanID = String(decoding: span, as: UTF8.self)
        self.flags = String(decoding: flags, as: UTF8.self)
    }

    private init(traceID: String, spanID: String, flags: String) {
        self.traceID = traceID; self.spanID = spanID; self.flags = flags
    }

    /// A new span in the same trace, this one its parent (a fresh random span id).
    public func child() -> TraceParent {
        var id = RandomWords.shared.next()
        if id == 0 { id = 1 }
        let hex = String(id, radix: 16)
        return TraceParent(traceID: traceID, spanID: String(repeating: "0", count: 16 - hex.count) + hex, flags: flags)
    }

    /// The header value, version 00.
    public var description: String { "00-\(traceID)-\(spanID)-\(flags)" }

    private static func isLowerHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x66).contains(b) }
}
