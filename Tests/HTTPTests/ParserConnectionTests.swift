import Testing
@testable import HTTP

/// keepAlive and expectsContinue.
@Suite struct ConnectionParserTests {
    func head(_ raw: String) -> HTTPRequestHead? { expectAccepted(raw)?.head }

    @Test func keepAliveDefaultsByVersion() {
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.keepAlive == true)
        #expect(head("GET / HTTP/1.0\r\n\r\n")?.keepAlive == false)
    }

    @Test func connectionHeaderIsACaseInsensitiveList() {
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nConnection: close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n")?.keepAlive == true)
        #expect(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive == true)
        #expect(head("GET / HTTP/1.0\r\nConnection: ,, keep-alive ,\r\n\r\n")?.keepAlive == true)
        #expect(head("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n")?.keepAlive == false)
    }

    @Test func rejectsConnectionOptionThatIsNotAToken() {
        expectRejected("GET / HTTP/1.1\r\nHost: a\r\nConnection: clo se\r\n\r\n")
        expectRejected("GET / HTTP/1.1\r\nHost: a\r\nConnection: \"close\"\r\n\r\n")
    }

    @Test func expectContinue() {
        #expect(head("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")?.expectsContinue == true)
        #expect(head("POST / HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\n\r\n")?.expectsContinue == true)
        #expect(head("POST / HTTP/1.1\r\nHost: a\r\n\r\n")?.expectsContinue == false)
        // RFC 9110 10.1.1: ignored on HTTP/1.0.
        #expect(head("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")?.expectsContinue == false)
    }

    @Test func otherExpectationsAre417() {
        expectRejected("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", status: 417)
        expectRejected("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n", status: 417)
    }

    @Test func headArrivesBeforeTheBodySoTheServerCanSend100Continue() {
        var parser = HTTPRequestParser()
        parser.append(b("POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"))
        guard case .head(let head)? = parser.next() else { Issue.record("no head"); return }
        #expect(head.expectsContinue)
        #expect(parser.next() == nil)
        parser.append(b("ab"))
        #expect(parser.next() == nil)
        parser.append(b("c"))
        guard case .request(let request)? = parser.next() else { Issue.record("no request"); return }
        #expect(request.body == b("abc"))
        #expect(request.head.expectsContinue)
    }
}
