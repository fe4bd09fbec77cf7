/// Size limits enforced by `HTTPRequestParser`. Every limit is checked on every prefix of the
/// input, so a client cannot make the parser buffer more than a limit by withholding a line end.
public struct HTTPParserLimits: Sendable {
    /// Longest request line, in bytes, excluding its CRLF. Exceeding it answers 414.
    public var maxRequestLineBytes = 8192
    /// Largest header block, in bytes: every field line with its CRLF plus the final empty line.
    /// Exceeding it answers 431. Trailers of a chunked body get the same budget of their own.
    public var maxHeaderBytes = 16384
    /// Most header fields in one request (and, separately, trailer fields). Exceeding it answers 431.
    public var maxHeaderCount = 100
    /// Largest (de-chunked) body. Decided from Content-Length before any body byte is read; for a
    /// chunked body, as soon as a chunk-size line would take the running total over it. Answers 413.
    public var maxBodyBytes = 1 << 20

    public init(maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 16384,
                maxHeaderCount: Int = 100, maxBodyBytes: Int = 1 << 20) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}

/// What `HTTPRequestParser.next()` produces, in input order.
public enum HTTPParserEvent: Sendable {
    /// The request line and headers are complete and valid. Emitted exactly once per request,
    /// before its `.request`, so the connection can answer `Expect: 100-continue`.
    case head(HTTPRequestHead)
    /// One complete request with its whole de-chunked body.
    case request(HTTPRequest)
    /// Terminal: after it `next()` keeps returning nil and further input is discarded.
    /// The connection answers `error.status` and closes.
    case error(HTTPParseError)
}

extension HTTPParseError {
    static func bad(_ detail: String) -> HTTPParseError { HTTPParseError(status: 400, detail: detail) }
}

/// Byte classes of RFC 9110/9112/3986, as plain switches (no tables, no Foundation).
enum HTTPByte {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    @inline(__always)
    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true  // DIGIT ALPHA
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E:
            return true
        default: return false
        }
    }

    /// field-vchar / SP / HTAB: VCHAR, obs-text (0x80-0xFF), SP and HTAB. Excludes NUL, CR, LF,
    /// every other control character and DEL.
    @inline(__always)
    static func isFieldValueChar(_ b: UInt8) -> Bool {
        b == htab || (b >= 0x20 && b != 0x7F)
    }

    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool { b == sp || b == htab }

    /// Bytes allowed literally in an origin-form target (RFC 3986 pchar, "/", "?"); "%" is
    /// checked separately for two hex digits.
    @inline(__always)
    static func isTargetChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true       // DIGIT ALPHA
        case 0x2D, 0x2E, 0x5F, 0x7E: return true                      // - . _ ~
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: return true  // sub-delims
        case 0x3A, 0x40, 0x2F, 0x3F: return true                      // : @ / ?
        default: return false
        }
    }

    /// Bytes allowed in a Host value: reg-name / IP-literal / IPv4 plus ":" port.
    @inline(__always)
    static func isHostChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x2D, 0x2E, 0x5F, 0x7E, 0x25: return true                // - . _ ~ %
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D: return true
        case 0x3A, 0x5B, 0x5D: return true                            // : [ ]
        default: return false
        }
    }

    /// The value of a hex digit, or nil.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b &- 0x30)
        case 0x41...0x46: return Int(b &- 0x41 &+ 10)
        case 0x61...0x66: return Int(b &- 0x61 &+ 10)
        default: return nil
        }
    }

    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }
}
