import Testing
@testable import HTTP

@Suite struct HeaderParserTests {
    @Test func keepsOrderCaseAndDuplicatesAndTrimsOWS() throws {
        let request = try #require(expectAccepted(
            "GET / HTTP/1.1\r\nHost: a\r\nX-One:  1 \t\r\nx-one:2\r\nEmpty:\r\nTabbed:\ta\tb\t\r\n\r\n"))
        let fields = request.head.headers.fields
        #expect(fields.map(\.name) == ["Host", "X-One", "x-one", "Empty", "Tabbed"])
        #expect(fields.map(\.value) == ["a", "1", "2", "", "a\tb"])
        #expect(request.head.headers.values("X-ONE") == ["1", "2"])
    }

    @Test func acceptsObsTextInValues() throws {
        let raw = b("GET / HTTP/1.1\r\nHost: a\r\nX: caf") + [0xC3, 0xA9] + b("\r\n\r\n")
        let request = try #require(expectAccepted(raw))
        #expect(request.head.headers["x"] == "café")
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tfolded\r\n\r\n",
        "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        "GET / HTTP/1.1\r\n\tX: 1\r\nHost: a\r\n\r\n",
    ])
    func rejectsObsFoldAndLeadingWhitespace(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n",
    ])
    func rejectsWhitespaceBeforeColon(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: 1\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\n",
        "GET / HTTP/1.1\r\nHost: a\rX: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r2\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\r: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n",
    ])
    func rejectsBareCRAndLFInHeaders(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{1}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{1B}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: \u{0B}\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\u{0}: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\u{1}Y: 1\r\n\r\n",
    ])
    func rejectsControlCharacters(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: a\r\nFo(o: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nFoo@bar: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX\"y: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nNäme: 1\r\n\r\n",
    ])
    func rejectsFieldNameThatIsNotAToken(raw: String) {
        expectRejected(raw)
    }

    @Test func hostRules() {
        expectRejected("GET / HTTP/1.1\r\n\r\n")
        expectRejected("GET / HTTP/1.1\r\nX: 1\r\n\r\n")
        expectRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")
        expectRejected("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n")
        expectRejected("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")
        expectRejected("GET / HTTP/1.1\r\nHost: a b\r\n\r\n")
        expectRejected("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n")
        expectRejected("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n")
        expectAccepted("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")
        expectAccepted("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n")
        expectAccepted("GET / HTTP/1.1\r\nHost:\r\n\r\n")  // empty Host is allowed (RFC 9110 7.2)
    }
}
