import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import Logging
import Testing
import UV
@testable import API

/// A swift-log handler that keeps what it is given.
final class CapturedLines: @unchecked Sendable {
    struct Line { let level: Logger.Level; let message: String; let metadata: Logger.Metadata }
    private let lock = NSLock()
    private var kept: [Line] = []
    var lines: [Line] { lock.lock(); defer { lock.unlock() }; return kept }
    func add(_ line: Line) { lock.lock(); kept.append(line); lock.unlock() }

    struct Handler: LogHandler {
        let sink: CapturedLines
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { metadata[key] } set { metadata[key] = newValue } }
        func log(event: LogEvent) {
            sink.add(Line(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }

    func logger(level: Logger.Level) -> Logger { Logger(label: "test") { _ in Handler(sink: self, logLevel: level) } }
}

/// An HTTP server observed by `RequestLog`, with routes answering 200, 201 (with a
/// correlation id), 500 and 503, talked to over loopback.
final class LoggedServer: @unchecked Sendable {
    let thread = EventLoopThread()
    let server: HTTPServer
    let base: String
    let captured = CapturedLines()

    init(level: Logger.Level) throws {
        var config = HTTPServerConfiguration(listen: [SocketAddress(host: "127.0.0.1", port: 0)])
        config.observer = RequestLog(log: captured.logger(level: level))
        let loop = thread.loop, cfg = config
        let (server, port) = try thread.sync { () -> (HTTPServer, Int) in
            let router = Router()
            router.get("/ok") { _, r in r.respond(.text("fine")) }
            router.post("/command") { _, r in
                var headers = HTTPHeaders()
                headers.add(name: "X-Correlation-ID", value: "corr-7")
                r.respond(HTTPResponse(status: 201, headers: headers))
            }
            router.get("/boom") { _, r in r.respond(Problem(status: 500, type: "about:blank", title: "Internal error", detail: "kaput").response) }
            router.get("/busy") { _, r in r.respond(Problem(status: 503, type: "about:blank", title: "Busy", detail: "later").response) }
            let server = HTTPServer(loop: loop, configuration: cfg, router: router)
            return (server, try server.start()[0].port)
        }
        self.server = server
        base = "http://127.0.0.1:\(port)"
    }

    func request(_ path: String, method: String = "GET", headers: [String: String] = [:]) async throws -> (Int, [String: String]) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (_, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var out: [String: String] = [:]
        for (k, v) in http.allHeaderFields { out[String(describing: k).lowercased()] = String(describing: v) }
        return (http.statusCode, out)
    }

    func stop() -> Int {
        let done = DispatchSemaphore(value: 0)
        thread.execute { self.server.shutdown { done.signal() } }
        done.wait()
        return thread.finish()
    }
}

@Suite("Request log: ids and lines per request")
struct RequestLogTests {
    @Test("at info: a 500 is logged with its id, route and detail, and the response names the id; 2xx and 503 are not logged")
    func serverErrorsOnly() async throws {
        let s = try LoggedServer(level: .info)
        let (ok, okHeaders) = try await s.request("/ok")
        #expect(ok == 200 && okHeaders["x-request-id"] == nil)
        let (echoed, echoedHeaders) = try await s.request("/ok", headers: ["X-Request-ID": "gw-42"])
        #expect(echoed == 200 && echoedHeaders["x-request-id"] == "gw-42")
        let (busy, _) = try await s.request("/busy")
        #expect(busy == 503)
        #expect(s.captured.lines.isEmpty)

        let (boom, boomHeaders) = try await s.request("/boom", headers: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
        #expect(boom == 500)
        let id = try #require(boomHeaders["x-request-id"])
        #expect(id.count == 36)
        let lines = s.captured.lines
        try #require(lines.count == 1)
        #expect(lines[0].level == .error)
        #expect(lines[0].metadata["request_id"] == .string(id))
        #expect(lines[0].metadata["route"] == .string("/boom"))
        #expect(lines[0].metadata["status"]?.description == "500")
        #expect(lines[0].metadata["detail"] == .string("kaput"))
        #expect(lines[0].metadata["trace_id"] == .string("4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(s.stop() == 0)
    }

    @Test("at debug: one line per request with method, target, status, duration, and the client's request and correlation ids")
    func accessLines() async throws {
        let s = try LoggedServer(level: .debug)
        let (created, headers) = try await s.request("/command", method: "POST", headers: ["X-Request-ID": "req-1"])
        #expect(created == 201 && headers["x-request-id"] == "req-1")
        _ = try await s.request("/ok?x=1", headers: ["X-Request-ID": "bad id with spaces"])
        let lines = s.captured.lines
        try #require(lines.count == 2)
        #expect(lines[0].level == .debug)
        #expect(lines[0].metadata["request_id"] == .string("req-1"))
        #expect(lines[0].metadata["correlation_id"] == .string("corr-7"))
        #expect(lines[0].metadata["method"] == .string("POST"))
        #expect(lines[0].metadata["status"]?.description == "201")
        #expect(Double(lines[0].metadata["duration_ms"]?.description ?? "") != nil)
        // An id that is not 1-128 visible characters is replaced by one of ours.
        #expect(lines[1].metadata["request_id"] != .string("bad id with spaces"))
        #expect(lines[1].metadata["target"] == .string("/ok?x=1"))
        #expect(lines[1].metadata["bytes"]?.description == "4")
        #expect(s.stop() == 0)
    }

    @Test("a client's request id is accepted only as 1-128 visible ASCII characters")
    func acceptableIds() {
        #expect(RequestLog.acceptable("abc-123") == "abc-123")
        #expect(RequestLog.acceptable(String(repeating: "a", count: 128)) != nil)
        #expect(RequestLog.acceptable(String(repeating: "a", count: 129)) == nil)
        #expect(RequestLog.acceptable("") == nil)
        #expect(RequestLog.acceptable("a b") == nil)
        #expect(RequestLog.acceptable("é") == nil)
    }
}
