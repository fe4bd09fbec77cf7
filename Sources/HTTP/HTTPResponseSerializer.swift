import Glibc

/// Status codes and their reason phrases.
public enum HTTPStatus {
    /// The RFC 9110 reason phrase for `status` ("Unknown" for unregistered codes).
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 406: return "Not Acceptable"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 411: return "Length Required"
        case 412: return "Precondition Failed"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 422: return "Unprocessable Content"
        case 428: return "Precondition Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Unknown"
        }
    }

    /// Whether a response with this status never has a body (1xx, 204, 304).
    public static func forbidsBody(_ status: Int) -> Bool {
        (100..<200).contains(status) || status == 204 || status == 304
    }
}

/// The `Date` header value, formatted at most once per second (IMF-fixdate).
struct HTTPDateCache {
    private var second = Int.min
    private(set) var line: [UInt8] = []  // "Date: ...\r\n"
    /// Wall-clock seconds since the epoch; injectable for tests.
    let clock: () -> Int

    init(clock: @escaping () -> Int = { Int(time(nil)) }) { self.clock = clock }

    /// The cached `Date: ...\r\n` line for the current second.
    mutating func current() -> [UInt8] {
        let now = clock()
        if now != second {
            second = now
            line = Array("Date: \(HTTPDateCache.format(now))\r\n".utf8)
        }
        return line
    }

    /// Formats epoch seconds as an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
    static func format(_ epoch: Int) -> String {
        var t = time_t(epoch)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
    }
}

/// Serializes responses straight into bytes (no Foundation, precomputed common parts).
enum HTTPResponseSerializer {
    static let crlf: [UInt8] = [0x0D, 0x0A]
    static let serverLine: [UInt8] = Array("Server: tributary\r\n".utf8)
    static let contentLengthPrefix: [UInt8] = Array("Content-Length: ".utf8)
    static let connectionClose: [UInt8] = Array("Connection: close\r\n".utf8)
    static let connectionKeepAlive: [UInt8] = Array("Connection: keep-alive\r\n".utf8)
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// "HTTP/1.1 <code> <reason>\r\n", precomputed for the codes in use.
    static let statusLines: [Int: [UInt8]] = {
        var table: [Int: [UInt8]] = [:]
        for code in 100...599 where HTTPStatus.reasonPhrase(code) != "Unknown" {
            table[code] = Array("HTTP/1.1 \(code) \(HTTPStatus.reasonPhrase(code))\r\n".utf8)
        }
        return table
    }()

    static func statusLine(_ status: Int) -> [UInt8] {
        statusLines[status] ?? Array("HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n".utf8)
    }

    /// Appends a decimal number without allocating a String (negative values are clamped to 0).
    @inline(__always)
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 10 { out.append(UInt8(truncatingIfNeeded: 0x30 + max(0, value))); return }
        var width = 1, scale = 1
        while value / scale >= 10 { scale *= 10; width += 1 }
        var v = value
        for _ in 0..<width {
            out.append(UInt8(truncatingIfNeeded: 0x30 + v / scale))
            v %= scale
            scale /= 10
        }
    }

    /// What framing a response gets.
    enum Framing {
        /// `Content-Length` framing (the normal case).
        case contentLength
        /// Body delimited by connection close (streams): no `Content-Length`.
        case untilClose
    }

    /// Serializes `response`. `close` adds `Connection: close`; `keepAlive10` adds
    /// `Connection: keep-alive` (an HTTP/1.0 client that asked for it); `headRequest`
    /// keeps `Content-Length` but drops the body.
    static func serialize(_ response: HTTPResponse, into out: inout [UInt8], dateLine: [UInt8],
                          close: Bool, keepAlive10: Bool, headRequest: Bool, framing: Framing = .contentLength) {
        out.append(contentsOf: statusLine(response.status))
        var hasDate = false, hasServer = false
        for field in response.headers.fields {
            // The connection owns framing and persistence headers.
            if field.name.caseInsensitiveEquals("Content-Length") || field.name.caseInsensitiveEquals("Connection")
                || field.name.caseInsensitiveEquals("Transfer-Encoding") { continue }
            if !hasDate && field.name.caseInsensitiveEquals("Date") { hasDate = true }
            if !hasServer && field.name.caseInsensitiveEquals("Server") { hasServer = true }
            out.append(contentsOf: field.name.utf8)
            out.append(0x3A); out.append(0x20)
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: crlf)
        }
        if !hasDate { out.append(contentsOf: dateLine) }
        if !hasServer { out.append(contentsOf: serverLine) }
        let noBody = HTTPStatus.forbidsBody(response.status)
        if framing == .contentLength && !noBody {
            out.append(contentsOf: contentLengthPrefix)
            appendDecimal(response.body.count, to: &out)
            out.append(contentsOf: crlf)
        }
        if close { out.append(contentsOf: connectionClose) } else if keepAlive10 { out.append(contentsOf: connectionKeepAlive) }
        out.append(contentsOf: crlf)
        if !headRequest && !noBody { out.append(contentsOf: response.body) }
    }

    /// Whether a handler's response asks to close the connection (`Connection: close`).
    static func requestsClose(_ response: HTTPResponse) -> Bool {
        for field in response.headers.fields where field.name.caseInsensitiveEquals("Connection") {
            if field.value.lowercased().split(separator: ",").contains(where: { $0.trimmedSpaces() == "close" }) {
                return true
            }
        }
        return false
    }
}

private extension Substring {
    func trimmedSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
