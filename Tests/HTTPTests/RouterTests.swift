import Testing
@testable import HTTP

@Suite struct RouterTests {
    func router() -> Router {
        let r = Router()
        r.get("/orders") { _, _ in }
        r.post("/orders") { _, _ in }
        r.get("/orders/{id}") { _, _ in }
        r.get("/orders/summary") { _, _ in }
        r.delete("/orders/{id}/lines/{line}", name: "order-line") { _, _ in }
        r.get("/") { _, _ in }
        return r
    }

    @Test(arguments: ["/", "", "/a", "/a/b", "/a/b/", "//", "/a//b", "a/b", "/é/ü%20x", "/x/\u{301}y", "///"])
    func segmentsAreTheSlashSplitAfterTheLeadingSlash(_ path: String) {
        // Split on the "/" byte, even before a combining mark (a Character split would not).
        var p = Substring(path).unicodeScalars[...]
        if p.first == "/" { p = p.dropFirst() }
        let expected = p.isEmpty ? [] : p.split(separator: "/", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        #expect(Router.segments(of: Substring(path)).map(String.init) == expected)
    }

    @Test func literalBeatsParameterAndParametersAreDecodedPerSegment() throws {
        let r = router()
        let (summary, _) = try r.match(method: "GET", path: "/orders/summary").get()
        #expect(summary.pattern == "/orders/summary")
        let (byId, params) = try r.match(method: "GET", path: "/orders/a%2Fb%20%C3%A9").get()
        #expect(byId.pattern == "/orders/{id}")
        #expect(params["id"] == "a/b é")
        let (line, lp) = try r.match(method: "DELETE", path: "/orders/7/lines/3").get()
        #expect(line.name == "order-line")
        #expect(lp == PathParameters(["id": "7", "line": "3"]))
        #expect(try r.match(method: "GET", path: "/").get().0.pattern == "/")
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() {
        let r = router()
        #expect(throws: RoutingError.notFound(path: "/nope")) { try r.match(method: "GET", path: "/nope").get() }
        #expect(throws: RoutingError.notFound(path: "/orders/1/2")) { try r.match(method: "GET", path: "/orders/1/2").get() }
        #expect(throws: RoutingError.methodNotAllowed(method: "PUT", allow: ["GET", "HEAD", "POST"])) {
            try r.match(method: "PUT", path: "/orders").get()
        }
        let problem = Problem.from(RoutingError.methodNotAllowed(method: "PUT", allow: ["GET", "HEAD"]))
        #expect(problem.status == 405)
        #expect(problem.response.headers["Allow"] == "GET, HEAD")
    }

    @Test func emptySegmentDoesNotMatchAParameter() {
        #expect(throws: RoutingError.self) { try router().match(method: "GET", path: "/orders/").get() }
    }

    @Test func headFallsBackToGet() throws {
        #expect(try router().match(method: "HEAD", path: "/orders/1").get().0.method == "GET")
    }

    @Test func malformedOrNonUTF8EscapeIs400() {
        #expect(throws: RoutingError.badPath("Malformed percent-encoding in the path.")) {
            try router().match(method: "GET", path: "/orders/%FF").get()
        }
        #expect(Problem.from(RoutingError.badPath("x")).status == 400)
    }

    @Test func queryParametersDecodePlusAndPercentAndKeepEveryValue() {
        let q = QueryParameters(parsing: "a=1&b=x+y%2Bz&a=2&flag&&c=%E2%9C%93&bad=%zz")
        #expect(q["a"] == "1")
        #expect(q.all("a") == ["1", "2"])
        #expect(q.first("b") == "x y+z")
        #expect(q["flag"] == "")
        #expect(q["c"] == "✓")
        #expect(q["bad"] == "%zz")
        #expect(q["missing"] == nil)
        #expect(QueryParameters(parsing: nil).isEmpty)
    }
}
