import Testing
@testable import HTTP

@Suite struct LimitsParserTests {
    /// A request line of exactly `length` bytes (without CRLF).
    func requestLine(length: Int) -> String {
        let fixed = "GET / HTTP/1.1".utf8.count
        return "GET /" + String(repeating: "a", count: length - fixed) + " HTTP/1.1"
    }

    @Test func requestLineLimitIs414() {
        expectAccepted(requestLine(length: 8192) + "\r\nHost: a\r\n\r\n")
        expectRejected(requestLine(length: 8193) + "\r\nHost: a\r\n\r\n", status: 414)
        // Without any line end the parser stops buffering as soon as the limit is passed.
        expectRejected(requestLine(length: 9000), status: 414)
        expectRejected(String(repeating: "G", count: 8193), status: 414)
    }

    @Test func requestLineLimitIsNotFooledByATrailingCR() {
        let limits = HTTPParserLimits(maxRequestLineBytes: 16)
        expectAccepted("GET /aa HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits)   // exactly 16
        expectRejected("GET /aaa HTTP/1.1\r\nHost: a\r\n\r\n", status: 414, limits: limits)
        expectRejected("GET /aa HTTP/1.1\n", status: 400, limits: limits)
    }

    /// Header block = field lines with CRLF plus the final CRLF.
    func headers(blockSize: Int) -> String {
        let host = "Host: a\r\n"
        let overhead = host.utf8.count + "X: \r\n".utf8.count + 2
        return "GET / HTTP/1.1\r\n" + host + "X: " + String(repeating: "v", count: blockSize - overhead) + "\r\n\r\n"
    }

    @Test func headerBlockLimitIs431() {
        expectAccepted(headers(blockSize: 16384))
        expectRejected(headers(blockSize: 16385), status: 431)
        expectRejected("GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 20000), status: 431)
    }

    @Test func headerCountLimitIs431() {
        let ninetyNine = (1...99).map { "X-\($0): v\r\n" }.joined()
        expectAccepted("GET / HTTP/1.1\r\nHost: a\r\n" + ninetyNine + "\r\n")
        expectRejected("GET / HTTP/1.1\r\nHost: a\r\n" + ninetyNine + "X-100: v\r\n\r\n", status: 431)
    }

    @Test func contentLengthOverLimitIs413BeforeTheBody() {
        let limits = HTTPParserLimits(maxBodyBytes: 10)
        expectAccepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits)
        // No body bytes sent at all: the 413 comes from the header alone.
        expectRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", status: 413, limits: limits)
        expectRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", status: 413)
        expectRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", status: 413)
    }

    @Test func customLimitsApply() {
        let limits = HTTPParserLimits(maxRequestLineBytes: 20, maxHeaderBytes: 30, maxHeaderCount: 1, maxBodyBytes: 0)
        expectAccepted("GET / HTTP/1.1\r\nHost: a\r\n\r\n", limits: limits)
        expectRejected("GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n", status: 414, limits: limits)
        expectRejected("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n", status: 431, limits: limits)
        expectRejected("GET / HTTP/1.1\r\nHost: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", status: 431, limits: limits)
        expectRejected("GET / HTTP/1.0\r\nContent-Length: 1\r\n\r\nx", status: 413, limits: limits)
    }

    @Test func defaultLimits() {
        let limits = HTTPParserLimits()
        #expect(limits.maxRequestLineBytes == 8192)
        #expect(limits.maxHeaderBytes == 16384)
        #expect(limits.maxHeaderCount == 100)
        #expect(limits.maxBodyBytes == 1 << 20)
    }
}
