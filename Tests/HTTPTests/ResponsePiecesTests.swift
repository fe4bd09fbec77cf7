import Testing
import Foundation
@testable import HTTP
import Metrics
import JSON

@Suite struct SSEFramingTests {
    @Test func multiLineDataIsSplitOnCRLFCRAndLF() {
        let e = SSEEvent(id: "42", event: "order.placed", data: "a\r\nb\rc\nd", retry: 1500)
        #expect(String(decoding: e.encoded, as: UTF8.self) == "id: 42\nevent: order.placed\nretry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n")
    }

    @Test func emptyAndTrailingNewlineDataKeepEmptyDataLines() {
        #expect(String(decoding: SSEEvent(data: "").encoded, as: UTF8.self) == "data:\n\n")
        #expect(String(decoding: SSEEvent(data: "x\n").encoded, as: UTF8.self) == "data: x\ndata:\n\n")
    }

    @Test func newlinesInIdAndEventCannotInjectFields() {
        let e = SSEEvent(id: "1\ndata: evil", event: "a\rb", data: "ok")
        #expect(String(decoding: e.encoded, as: UTF8.self) == "id: 1data: evil\nevent: ab\ndata: ok\n\n")
    }

    @Test func commentsAndHeaders() {
        #expect(String(decoding: SSE.comment("hi\nthere"), as: UTF8.self) == ":hi\n:there\n\n")
        #expect(SSE.initialComment == Array(":ok\n\n".utf8))
        let head = SSE.responseHead()
        #expect(head.headers["Content-Type"] == "text/event-stream; charset=utf-8")
        #expect(head.headers["Cache-Control"] == "no-cache, no-store")
        #expect(head.headers["X-Accel-Buffering"] == "no")
    }
}

@Suite struct ProblemTests {
    @Test func problemJSONHasStandardMembersThenSortedExtensions() {
        let p = Problem.validation([.init(field: "email", message: "is required")], detail: "Bad input")
        let r = p.response
        #expect(r.status == 422)
        #expect(r.headers["Content-Type"] == "application/problem+json")
        #expect(String(decoding: r.body, as: UTF8.self) ==
                #"{"type":"about:blank","title":"Unprocessable Content","status":422,"detail":"Bad input","errors":[{"field":"email","message":"is required"}]}"#)
    }

    @Test func errorsMapToStatusesInOnePlace() {
        struct Conflict: HTTPResponseError { var problem: Problem { Problem(status: 409, type: "/problems/conflict") } }
        struct Unknown: Error {}
        #expect(Problem.from(HTTPParseError(status: 431, detail: "too many")).status == 431)
        #expect(Problem.from(Conflict()).type == "/problems/conflict")
        #expect(Problem.from(Unknown()).status == 500)
        #expect(Problem.from(Unknown()).detail == "An internal error occurred.")
    }

    @Test func jsonStringsAreEscaped() {
        #expect(String(decoding: JSONValue.string("a\"b\\c\n\u{1}").bytes, as: UTF8.self) == #""a\"b\\c\n\u0001""#)
    }

    struct Order: Codable, Equatable { var id: Int; var name: String }

    @Test func jsonHelpersCheckContentTypeAndEncodeSorted() throws {
        func request(_ ct: String?, _ body: String) -> HTTPRequest {
            var h = HTTPHeaders([("Host", "x")])
            if let ct { h.add(name: "Content-Type", value: ct) }
            return HTTPRequest(head: HTTPRequestHead(method: "POST", target: "/", version: .http1_1, headers: h,
                                                     keepAlive: true, expectsContinue: false), body: Array(body.utf8))
        }
        #expect(request("application/json; charset=utf-8", "{}").hasJSONContentType)
        #expect(request(" Application/Problem+JSON ", "{}").hasJSONContentType)
        #expect(!request("text/plain", "{}").hasJSONContentType)
        #expect(!request(nil, "{}").hasJSONContentType)
        let r = try HTTPResponse.json(Order(id: 2, name: "y"), status: 201)
        #expect(String(decoding: r.body, as: UTF8.self) == #"{"id":2,"name":"y"}"#)
        #expect(r.headers["Content-Type"] == "application/json")
    }

    @Test func dateHeaderIsIMFFixdateAndCachedPerSecond() {
        #expect(HTTPDateCache.format(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        var now = 784111777
        var cache = HTTPDateCache(clock: { now })
        let first = cache.current()
        #expect(String(decoding: first, as: UTF8.self) == "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n")
        now += 1
        #expect(cache.current() != first)
    }
}

@Suite struct MetricsTests {
    @Test func rendersPrometheusTextFormat() {
        let registry = MetricsRegistry()
        let m = HTTPMetrics(registry: registry)
        m.record(route: "/orders/{id}", method: "GET", status: 200, seconds: 0.003)
        m.record(route: "/orders/{id}", method: "GET", status: 200, seconds: 0.2)
        m.record(route: "/orders/{id}", method: "GET", status: 404, seconds: 0.0001)
        m.openConnections.set(3)
        let text = registry.render()
        #expect(text.contains("# TYPE http_requests_total counter\n"))
        #expect(text.contains("http_requests_total{route=\"/orders/{id}\",method=\"GET\",status=\"200\"} 2\n"))
        #expect(text.contains("http_requests_total{route=\"/orders/{id}\",method=\"GET\",status=\"404\"} 1\n"))
        #expect(text.contains("# TYPE http_request_duration_seconds histogram\n"))
        #expect(text.contains("http_request_duration_seconds_bucket{route=\"/orders/{id}\",le=\"0.0005\"} 1\n"))
        #expect(text.contains("http_request_duration_seconds_bucket{route=\"/orders/{id}\",le=\"0.005\"} 2\n"))
        #expect(text.contains("http_request_duration_seconds_bucket{route=\"/orders/{id}\",le=\"+Inf\"} 3\n"))
        #expect(text.contains("http_request_duration_seconds_count{route=\"/orders/{id}\"} 3\n"))
        #expect(text.contains("http_open_connections 3\n"))
    }

    @Test func labelValuesAreEscaped() {
        let registry = MetricsRegistry()
        let c = registry.counter("x_total", help: "x", labelNames: ["v"])
        c.increment(["a\"b\\c\nd"])
        #expect(registry.render().contains(#"x_total{v="a\"b\\c\nd"} 1"#))
    }
}

@Suite struct DecimalWritingTests {
    @Test(arguments: [0, 7, 9, 10, 99, 100, 101, 1_000, 65_535, 1_048_576, 999_999_999_999, Int.max])
    func writesTheSameDigitsAsDescription(_ value: Int) {
        var out: [UInt8] = [0x41]
        HTTPResponseSerializer.appendDecimal(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "A" + String(value))
    }
}
