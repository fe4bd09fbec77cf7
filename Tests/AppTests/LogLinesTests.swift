import Foundation
import Logging
import Testing
@testable import App

@Suite("Log lines: logfmt and JSON")
struct LogLinesTests {
    private func line(_ format: LogFormat, _ message: String, _ metadata: Logger.Metadata) -> String {
        String(decoding: TributaryLogHandler.line(format: format, time: "2026-12-07T15:40:00.123Z", level: .warning, label: "tributary",
                                                  message: message, metadata: metadata), as: UTF8.self)
    }

    @Test("text: fixed fields first, metadata sorted, values quoted and escaped only when they need it")
    func logfmt() {
        let text = line(.text, "store \"customers\" unhealthy:\nno space", ["store": "customers", "a_empty": "", "b": "x=y", "n": .stringConvertible(42)])
        #expect(text == #"ts=2026-12-07T15:40:00.123Z level=warning logger=tributary msg="store \"customers\" unhealthy:\nno space" a_empty="" b="x=y" n=42 store=customers"# + "\n")
    }

    @Test("json: one object per line that parses, same fields in the same order, nested metadata kept as JSON")
    func json() throws {
        let text = line(.json, "tab\there", ["request_id": "r-1", "nested": ["k": ["v1", "v2"]], "msg": "ignored: fixed fields win"])
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
        #expect(text.hasPrefix(#"{"ts":"2026-12-07T15:40:00.123Z","level":"warning","logger":"tributary","msg":"tab\there","nested":"#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "tab\there")
        #expect(object["request_id"] as? String == "r-1")
        #expect(((object["nested"] as? [String: Any])?["k"] as? [String]) == ["v1", "v2"])
    }

    @Test("timestamps are UTC RFC 3339 with milliseconds")
    func timestamp() {
        let ts = TributaryLogHandler.timestamp()
        #expect(ts.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil, "\(ts)")
    }

    @Test("a handler writes one line per event at or above its level, with its own and the event's metadata")
    func handler() {
        final class Sink: @unchecked Sendable { var lines: [String] = [] }
        let sink = Sink()
        var log = Logger(label: "tributary") { TributaryLogHandler(label: $0, format: .text, level: .notice) { sink.lines.append(String(decoding: $0, as: UTF8.self)) } }
        log[metadataKey: "role"] = "customers"
        log.info("not written")
        log.notice("written", metadata: ["k": "v"])
        #expect(sink.lines.count == 1)
        #expect(sink.lines[0].contains(#"level=notice logger=tributary msg=written k=v role=customers"#), "\(sink.lines)")
    }
}
