import Testing
@testable import HTTP

@Suite struct RequestLineParserTests {
    @Test func parsesMethodTargetPathQueryAndVersion() throws {
        let request = try #require(expectAccepted("GET /a/b%20c?x=1&y=%2F HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        #expect(request.head.method == "GET")
        #expect(request.head.target == "/a/b%20c?x=1&y=%2F")
        #expect(request.head.path == "/a/b%20c")
        #expect(request.head.query == "x=1&y=%2F")
        #expect(request.head.version == .http1_1)
        #expect(request.body.isEmpty)
    }

    @Test func pathAndQuerySplitAtTheFirstQuestionMark() throws {
        let empty = try #require(expectAccepted("GET /? HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(empty.head.path == "/")
        #expect(empty.head.query == "")
        let twice = try #require(expectAccepted("GET /a?b?c=/d HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(twice.head.path == "/a")
        #expect(twice.head.query == "b?c=/d")
        let star = try #require(expectAccepted("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(star.head.path == "*")
        #expect(star.head.query == nil)
    }

    @Test func acceptsHTTP10WithoutHost() throws {
        let request = try #require(expectAccepted("GET / HTTP/1.0\r\n\r\n"))
        #expect(request.head.version == .http1_0)
        #expect(request.head.query == nil)
    }

    @Test func methodIsCaseSensitiveAndAnyToken() throws {
        let request = try #require(expectAccepted("get /x HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(request.head.method == "get")
        expectAccepted("M-SEARCH! /x HTTP/1.1\r\nHost: a\r\n\r\n")
    }

    /// RFC 9112 3.2.2: a server MUST accept the absolute-form; the target's authority stands
    /// for Host (a Host that disagrees is ignored), an empty path is "/".
    @Test func absoluteFormKeepsPathAndQueryAndItsAuthorityStandsForHost() throws {
        let request = try #require(expectAccepted("GET http://127.0.0.1:8080/ready?x=1 HTTP/1.1\r\nHost: other.example\r\n\r\n"))
        #expect(request.head.target == "/ready?x=1")
        #expect(request.head.path == "/ready")
        #expect(request.head.query == "x=1")
        #expect(request.head.headers.values("Host") == ["127.0.0.1:8080"])
        let upper = try #require(expectAccepted("GET HTTPS://[::1]:9 HTTP/1.1\r\nHost: [::1]:9\r\n\r\n"))
        #expect(upper.head.target == "/")
        #expect(upper.head.headers.values("Host") == ["[::1]:9"])
        let queryOnly = try #require(expectAccepted("GET http://a?q=1 HTTP/1.0\r\n\r\n"))
        #expect(queryOnly.head.target == "/?q=1")
        #expect(queryOnly.head.headers.values("Host") == ["a"])
    }

    @Test func asteriskFormOnlyForOptions() {
        expectAccepted("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        expectRejected("GET * HTTP/1.1\r\nHost: a\r\n\r\n")
        expectRejected("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n")
    }

    @Test(arguments: [
        "G(ET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GE\u{0}T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "G\u{1}T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET: / HTTP/1.1\r\nHost: a\r\n\r\n",
        " / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GÉT / HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func rejectsInvalidMethod(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        "GET http://user@a/b HTTP/1.1\r\nHost: a\r\n\r\n",   // absolute-form with userinfo
        "GET http:///b HTTP/1.1\r\nHost: a\r\n\r\n",        // absolute-form without a host
        "GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n",        // a scheme HTTP does not serve
        "GET http://a/b HTTP/1.1\r\n\r\n",                  // HTTP/1.1 still needs Host
        "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n",    // authority-form
        "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a# HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a<b> HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a{b} HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a|b HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a\u{0}b HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /é HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func rejectsInvalidTarget(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505),
        ("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505),
        ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        ("GET / http/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.1.1\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/11\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400),
        ("GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400),
        ("GET /\r\nHost: a\r\n\r\n", 400),
        ("GET\r\n\r\n", 400),
    ])
    func rejectsInvalidVersion(raw: String, status: Int) {
        expectRejected(raw, status: status)
    }

    @Test(arguments: [
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        " GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\tHTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func rejectsWrongSpacing(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\nHost: a\r\n\r\n",          // bare LF ends the request line
        "GET / HTTP/1.1\rHost: a\r\n\r\n",          // bare CR
        "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n",
        "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func rejectsBareCRAndLFInRequestLine(raw: String) {
        expectRejected(raw)
    }

    @Test func ignoresOneEmptyLineBeforeTheRequestLine() throws {
        let request = try #require(expectAccepted("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(request.head.target == "/")
    }

    @Test(arguments: [
        "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        " \r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    ])
    func rejectsMoreThanOneOrMalformedLeadingEmptyLine(raw: String) {
        expectRejected(raw)
    }
}
