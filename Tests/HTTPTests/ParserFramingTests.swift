import Testing
@testable import HTTP

/// Content-Length / Transfer-Encoding rules, including the request-smuggling classics.
@Suite struct FramingParserTests {
    @Test func contentLengthBody() throws {
        let request = try #require(expectAccepted("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"))
        #expect(request.body == b("hello"))
        let zero = try #require(expectAccepted("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"))
        #expect(zero.body.isEmpty)
        let padded = try #require(expectAccepted("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc"))
        #expect(padded.body == b("abc"))
    }

    @Test func noFramingHeaderMeansEmptyBody() {
        let events = parseEvents(b("POST /p HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(events.filter(\.isRequest).count == 2)
    }

    @Test(arguments: [
        // CL.TE and TE.CL: both framing headers, either order.
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ])
    func rejectsContentLengthWithTransferEncoding(raw: String) {
        expectRejected(raw)
    }

    @Test(arguments: [
        "Content-Length: 2\r\nContent-Length: 2",
        "Content-Length: 2\r\nContent-Length: 3",
        "Content-Length: 2\r\ncontent-length: 2",
        "Content-Length: 2, 2",
        "Content-Length: 2,2",
        "Content-Length: +2",
        "Content-Length: -1",
        "Content-Length:  ",
        "Content-Length:",
        "Content-Length: 1a",
        "Content-Length: 0x10",
        "Content-Length: 2 2",
        "Content-Length: 1.0",
        "Content-Length: 99999999999999999999",
        "Content-Length: 9223372036854775808",
    ])
    func rejectsBadContentLength(field: String) {
        expectRejected("POST / HTTP/1.1\r\nHost: a\r\n\(field)\r\n\r\nxx")
    }

    @Test(arguments: [
        "Transfer-Encoding: xchunked",
        "Transfer-Encoding: chunkedx",
        "Transfer-Encoding: chunked, identity",
        "Transfer-Encoding: identity",
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: chunked, chunked",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: \"chunked\"",
        "Transfer-Encoding: chunked;q=1",
        "Transfer-Encoding:",
        "Transfer-Encoding: ch unked",
        "Transfer-Encoding: \u{0B}chunked",
        "Transfer_Encoding: chunked\r\nTransfer-Encoding: x",
    ])
    func rejectsTransferEncodingOtherThanChunked(field: String) {
        expectRejected("POST / HTTP/1.1\r\nHost: a\r\n\(field)\r\n\r\n0\r\n\r\n")
    }

    @Test(arguments: [
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: Chunked",
        "Transfer-Encoding: CHUNKED",
        "Transfer-Encoding:\tchunked",
        "Transfer-Encoding:chunked",
        "Transfer-Encoding: chunked \t",
        "transfer-encoding: chunked",
    ])
    func acceptsChunkedSpelledWithOWSAndAnyCase(field: String) throws {
        let request = try #require(expectAccepted("POST / HTTP/1.1\r\nHost: a\r\n\(field)\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
        #expect(request.body == b("abc"))
    }

    @Test func rejectsAnyTransferEncodingOnHTTP10() {
        expectRejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        expectRejected("POST / HTTP/1.0\r\nTransfer-Encoding: identity\r\n\r\n")
    }

    @Test func unknownFieldsThatLookLikeFramingAreIgnored() throws {
        let request = try #require(expectAccepted(
            "POST / HTTP/1.1\r\nHost: a\r\nX-Content-Length: 5\r\nTransfer-Encodings: gzip\r\n\r\n"))
        #expect(request.body.isEmpty)
    }
}
