import CQRS
import EventStore
import Foundation
import JSON
import Logging
import UV

/// How a log line is written: `text` is logfmt (`key=value`, values quoted when they need
/// it), `json` one JSON object per line. Both carry the same fields in the same order:
/// `ts`, `level`, `logger`, `msg`, then the metadata sorted by key.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}

/// The server's swift-log handler: one line per event, written with one `write(2)` to
/// standard output (or another descriptor), so lines from the loop and from the threads that
/// replay or fan out never interleave. `tributary serve` bootstraps it (`--log-format`,
/// `--log-level`); a program embedding the server may bootstrap its own handler instead.
public struct TributaryLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let sink: @Sendable ([UInt8]) -> Void

    /// Lines go to `sink` (default: standard output).
    public init(label: String, format: LogFormat, level: Logger.Level,
                sink: @escaping @Sendable ([UInt8]) -> Void = { System.writeAll(STDOUT_FILENO, $0) }) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let own = event.metadata { fields.merge(own) { $1 } }
        if let error = event.error { fields["error"] = .string("\(error)") }
        sink(Self.line(format: format, time: Self.timestamp(), level: event.level, label: label,
                       message: event.message.description, metadata: fields))
    }

    /// One line, newline included. Exposed for tests.
    static func line(format: LogFormat, time: String, level: Logger.Level, label: String,
                     message: String, metadata: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + message.utf8.count)
        let fixed: [(String, Logger.Metadata.Value)] = [("ts", .string(time)), ("level", .string(level.rawValue)),
                                                        ("logger", .string(label)), ("msg", .string(message))]
        let sorted = metadata.filter { !["ts", "level", "logger", "msg"].contains($0.key) }.sorted { $0.key < $1.key }
        switch format {
        case .json:
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in (fixed + sorted).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.write(key, into: &out)
                out.append(UInt8(ascii: ":"))
                writeJSON(value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .text:
            for (i, (key, value)) in (fixed + sorted).enumerated() {
                if i > 0 { out.append(UInt8(ascii: " ")) }
                out.append(contentsOf: key.utf8)
                out.append(UInt8(ascii: "="))
                writeLogfmt(flat(value), into: &out)
            }
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private static func writeJSON(_ value: Logger.Metadata.Value, into out: inout [UInt8]) {
        switch value {
        case .string(let s): JSONString.write(s, into: &out)
        case .stringConvertible(let c): JSONString.write(c.description, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeJSON(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            out.append(UInt8(ascii: "{"))
            for (i, (key, item)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.write(key, into: &out)
                out.append(UInt8(ascii: ":"))
                writeJSON(item, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A metadata value as one logfmt value: nested values in a JSON-like form.
    private static func flat(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array, .dictionary:
            var out: [UInt8] = []
            writeJSON(value, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// logfmt: bare when the value has no space, quote, `=` or control character and is not
    /// empty; otherwise quoted, with `"`, `\` and control characters escaped as in JSON.
    private static func writeLogfmt(_ value: String, into out: inout [UInt8]) {
        let bare = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 != 0x7F }
        if bare { out.append(contentsOf: value.utf8) } else { JSONString.write(value, into: &out) }
    }

    /// UTC, RFC 3339 with milliseconds: `2026-12-07T15:40:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}

extension Logger.Level {
    /// The runtime's severities on swift-log's scale.
    init(_ level: CQRS.LogLevel) {
        switch level {
        case .debug: self = .debug
        case .info: self = .info
        case .warning: self = .warning
        case .error: self = .error
        }
    }

    /// The engines' severities on swift-log's scale.
    init(_ level: StoreLogLevel) {
        switch level {
        case .info: self = .info
        case .warning: self = .warning
        case .error: self = .error
        }
    }
}
