import Foundation
import EventStore
import JSON

/// A public event as a service's mapping function produces it (the publisher adds the rest).
public struct PublicEventDraft: Hashable, Sendable {
    /// Dotted contract name, e.g. `order.placed`.
    public var type: String
    /// Contract version (starts at 1).
    public var version: Int
    /// The payload: a UTF-8 JSON object, per the contract's schema.
    public var data: [UInt8]

    public init(type: String, version: Int = 1, data: [UInt8]) { self.type = type; self.version = version; self.data = data }

    /// A draft whose data is `value` encoded as JSON (sorted keys).
    public static func json<T: Encodable>(_ type: String, version: Int = 1, _ value: T) throws -> PublicEventDraft {
        PublicEventDraft(type: type, version: version, data: try JSONCoding.encode(value))
    }
}

/// Metadata property names on public-log events.
public enum PublicMetadata {
    /// Name of the service that published the event.
    public static let source = "source"
    /// Global position of the internal event it was mapped from, in the source's store.
    public static let sourcePosition = "source-position"
    /// Index of this public event among those mapped from that internal event.
    public static let sourceIndex = "source-index"
    /// RFC 3339 time the internal event was committed.
    public static let occurredAt = "occurred-at"
}

/// The public-event envelope of the public-event spec, read back from the public log.
///
/// Stored as a public-log event with `type` = envelope type, `schemaVersion` = version,
/// `data` = payload bytes, correlation/causation in the metadata and the rest as properties.
public struct PublicEventEnvelope: Hashable, Sendable {
    public var id: EventID
    /// Dotted contract name, e.g. `order.placed`.
    public var type: String
    public var version: Int
    /// Publishing service, e.g. `orders`.
    public var source: String
    /// RFC 3339 (UTC, milliseconds) time the underlying internal event was committed.
    public var occurredAt: String
    public var correlationId: String?
    public var causationId: String?
    /// The W3C `traceparent` of the span that published it, when the command behind it came
    /// with a trace context.
    public var traceparent: String?
    /// The payload JSON object, verbatim.
    public var data: [UInt8]
    /// Position in the public log (the `after` cursor and SSE `id:`).
    public var position: LogPosition
    /// Internal position it came from in `source`'s store.
    public var sourcePosition: LogPosition

    public init(id: EventID, type: String, version: Int, source: String, occurredAt: String, correlationId: String?,
                causationId: String?, traceparent: String? = nil, data: [UInt8], position: LogPosition, sourcePosition: LogPosition) {
        self.id = id; self.type = type; self.version = version; self.source = source; self.occurredAt = occurredAt
        self.correlationId = correlationId; self.causationId = causationId; self.traceparent = traceparent; self.data = data
        self.position = position; self.sourcePosition = sourcePosition
    }

    /// Reads the envelope of a public-log event; nil if it lacks the publisher's metadata.
    public init?(_ recorded: RecordedEvent) {
        let metadata = recorded.metadata   // decoded once (see RecordedEvent.metadata)
        let p = metadata.properties
        guard let source = p[PublicMetadata.source] else { return nil }
        self.init(id: recorded.id, type: recorded.type, version: recorded.schemaVersion, source: source,
                  occurredAt: p[PublicMetadata.occurredAt] ?? RFC3339.format(recorded.timestamp),
                  correlationId: metadata.correlationId, causationId: metadata.causationId,
                  traceparent: p[TraceParent.property], data: recorded.data, position: recorded.position,
                  sourcePosition: LogPosition(p[PublicMetadata.sourcePosition].flatMap(UInt64.init) ?? 0))
    }

    /// The envelope as JSON: `{"id","type","version","source","occurredAt","correlationId",
    /// "causationId",["traceparent",]"data"}` (ids as lowercase UUID strings, null when absent,
    /// `traceparent` only when there is one, data verbatim).
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 256)
        func str(_ s: String?) { if let s { JSONString.write(s, into: &out) } else { out += Array("null".utf8) } }
        out += Array("{\"id\":".utf8); str(id.description.lowercased())
        out += Array(",\"type\":".utf8); str(type)
        out += Array(",\"version\":\(version),\"source\":".utf8); str(source)
        out += Array(",\"occurredAt\":".utf8); str(occurredAt)
        out += Array(",\"correlationId\":".utf8); str(correlationId)
        out += Array(",\"causationId\":".utf8); str(causationId)
        if let traceparent { out += Array(",\"traceparent\":".utf8); str(traceparent) }
        out += Array(",\"data\":".utf8); out += data.isEmpty ? Array("{}".utf8) : data
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// RFC 3339 timestamps in UTC with millisecond precision, without Foundation formatters.
public enum RFC3339 {
    /// Parses an RFC 3339 date-time (`2026-11-26T16:00:00Z`, fractional seconds and any
    /// `±hh:mm` offset allowed, `T`/`Z` in either case); nil if malformed. By hand: Foundation's
    /// formatters read the time-zone database from disk, and this runs on the loop.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for k in i..<(i + n) {
                guard b[k] >= 0x30 && b[k] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[k] - 0x30)
            }
            i += n
            return v
        }
        func expect(_ chars: String) -> Bool {
            guard i < b.count, chars.utf8.contains(b[i]) else { return false }
            i += 1
            return true
        }
        guard let y = digits(4), expect("-"), let mo = digits(2), expect("-"), let d = digits(2), expect("Tt"),
              let h = digits(2), expect(":"), let mi = digits(2), expect(":"), let sec = digits(2) else { return nil }
        var fraction = 0.0
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1, any = false
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { fraction += Double(b[i] - 0x30) * scale; scale /= 10; i += 1; any = true }
            guard any else { return nil }
        }
        var offset: Int64 = 0
        if expect("Zz") {
        } else if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2), expect(":"), let om = digits(2), oh <= 23, om <= 59 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard i == b.count, (1...12).contains(mo), d >= 1, d <= monthDays[Int(mo) - 1], h <= 23, mi <= 59, sec <= 60 else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), then seconds since 1970.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + h * 3600 + mi * 60 + sec - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// e.g. `2026-11-26T16:25:47.123Z`.
    public static func format(_ date: Date) -> String {
        // Truncated to the millisecond; the half-microsecond nudge keeps a whole millisecond
        // that binary floating point holds as x.9999… from losing one.
        let ms = Int64((date.timeIntervalSince1970 * 1000 + 0.0005).rounded(.down))
        var days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60, f = msOfDay % 1000
        guard (0...9999).contains(y) else {
            func p(_ v: Int64, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
            return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(h, 2)):\(p(mi, 2)):\(p(s, 2)).\(p(f, 3))Z"
        }
        // The common case in one buffer (read models format a time per event).
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ v: Int64, _ width: Int) {
            var scale: Int64 = 1
            for _ in 1..<width { scale *= 10 }
            while scale > 0 { out.append(UInt8(ascii: "0") + UInt8(v / scale % 10)); scale /= 10 }
        }
        digits(y, 4); out.append(UInt8(ascii: "-")); digits(m, 2); out.append(UInt8(ascii: "-")); digits(d, 2)
        out.append(UInt8(ascii: "T")); digits(h, 2); out.append(UInt8(ascii: ":")); digits(mi, 2)
        out.append(UInt8(ascii: ":")); digits(s, 2); out.append(UInt8(ascii: ".")); digits(f, 3); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}
