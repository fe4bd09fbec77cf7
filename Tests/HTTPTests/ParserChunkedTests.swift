import Testing
@testable import HTTP

@Suite struct ChunkedParserTests {
    func chunked(_ body: String) -> String {
        "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    }

    @Test func concatenatesChunks() throws {
        let request = try #require(expectAccepted(chunked("5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\n")))
        #expect(request.body == b("hello 0123456789"))
        let upper = try #require(expectAccepted(chunked("000a\r\n0123456789\r\n00\r\n\r\n")))
        #expect(upper.body.count == 10)
    }

    @Test func emptyChunkedBody() throws {
        let request = try #require(expectAccepted(chunked("0\r\n\r\n")))
        #expect(request.body.isEmpty)
    }

    @Test(arguments: [
        "5;foo\r\nhello\r\n0\r\n\r\n",
        "5;foo=bar\r\nhello\r\n0\r\n\r\n",
        "5 ; foo = bar ;baz\r\nhello\r\n0;last=\"yes\"\r\n\r\n",
        "5;foo=\"a \\\" b;c=d\"\r\nhello\r\n0\r\n\r\n",
        "5\t;\tfoo\r\nhello\r\n0\r\n\r\n",
    ])
    func acceptsWellFormedChunkExtensions(body: String) throws {
        let request = try #require(expectAccepted(chunked(body)))
        #expect(request.body == b("hello"))
    }

    @Test(arguments: [
        "5;\r\nhello\r\n0\r\n\r\n",
        "5;=x\r\nhello\r\n0\r\n\r\n",
        "5;foo=\r\nhello\r\n0\r\n\r\n",
        "5;foo=\"open\r\nhello\r\n0\r\n\r\n",
        "5;foo=a b\r\nhello\r\n0\r\n\r\n",
        "5;foo=@\r\nhello\r\n0\r\n\r\n",
        "5 \r\nhello\r\n0\r\n\r\n",
        "5;fo\u{0}o\r\nhello\r\n0\r\n\r\n",
        "5 x\r\nhello\r\n0\r\n\r\n",
    ])
    func rejectsMalformedChunkExtensions(body: String) {
        expectRejected(chunked(body))
    }

    @Test(arguments: [
        "10000000000000000\r\nx\r\n0\r\n\r\n",          // 2^64
        "FFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n",
        "8000000000000000\r\nx\r\n",                  // Int.max + 1
    ])
    func rejectsChunkSizeOverflow(body: String) {
        expectRejected(chunked(body))
    }

    @Test(arguments: [
        "g\r\nx\r\n0\r\n\r\n",
        "-1\r\nx\r\n0\r\n\r\n",
        "+1\r\nx\r\n0\r\n\r\n",
        "0x1\r\nx\r\n0\r\n\r\n",
        "\r\nx\r\n0\r\n\r\n",
        " 1\r\nx\r\n0\r\n\r\n",
        "1\nx\r\n0\r\n\r\n",                          // bare LF in chunk framing
        "1\rx\r\n0\r\n\r\n",                           // bare CR
        "1\r\nxy\r\n0\r\n\r\n",                         // data longer than declared
        "1\r\nx\n0\r\n\r\n",                            // data followed by bare LF
        "1\r\nx\rz0\r\n\r\n",                           // data followed by bare CR
        "1\r\nx0\r\n\r\n",                              // data not followed by CRLF
        "1\r\nx\r\n0\n\r\n",
        "1\r\nx\r\n0\r\n\n",                            // bare LF ends trailers
    ])
    func rejectsMalformedChunkFraming(body: String) {
        expectRejected(chunked(body))
    }

    @Test func parsesAndDiscardsTrailers() throws {
        let request = try #require(expectAccepted(chunked("1\r\nx\r\n0\r\nX-Trailer: 1\r\nChecksum: abc\r\n\r\n")))
        #expect(request.body == b("x"))
        #expect(request.head.headers["X-Trailer"] == nil)
    }

    @Test(arguments: [
        "0\r\nX-Trailer: 1\r\n folded\r\n\r\n",
        "0\r\nX-Trailer : 1\r\n\r\n",
        "0\r\nX-Trailer: a\u{0}b\r\n\r\n",
        "0\r\nNoColon\r\n\r\n",
        "0\r\nBad(Name: 1\r\n\r\n",
        "0\r\nX: 1\rY\r\n\r\n",
    ])
    func rejectsMalformedTrailers(body: String) {
        expectRejected(chunked(body))
    }

    @Test func chunkedBodyLimitIsCheckedFromTheChunkSizeLine() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        expectAccepted(chunked("5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n"), limits: limits)
        expectRejected(chunked("5\r\n12345\r\n6\r\n"), status: 413, limits: limits)
        expectRejected(chunked("B\r\n"), status: 413, limits: limits)
        expectRejected(chunked("7FFFFFFFFFFFFFFF\r\n"), status: 413, limits: limits)
    }

    @Test func trailerSectionHasTheHeaderLimits() {
        let limits = HTTPParserLimits(maxHeaderBytes: 64, maxHeaderCount: 2)
        expectAccepted(chunked("0\r\nA: 1\r\nB: 2\r\n\r\n"), limits: limits)
        expectRejected(chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), status: 431, limits: limits)
        expectRejected(chunked("0\r\nA: " + String(repeating: "x", count: 70) + "\r\n\r\n"), status: 431, limits: limits)
    }

    @Test func chunkHeaderLineIsBounded() {
        let longExtension = "1;" + String(repeating: "a", count: HTTPRequestParser.maxChunkHeaderBytes)
        expectRejected(chunked(longExtension + "\r\nx\r\n0\r\n\r\n"))
    }
}
