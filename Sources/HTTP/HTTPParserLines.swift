/// Validation of single lines (request line, field line, chunk header) for `HTTPRequestParser`.
/// Each function sees one complete line without its CRLF and either records what it found in
/// `current` or returns the error to answer.
extension HTTPRequestParser {
    /// request-line = method SP request-target SP HTTP-version, exactly one SP between parts.
    mutating func parseRequestLine(_ line: Range<Int>) -> HTTPParseError? {
        let start = line.lowerBound, end = line.upperBound
        var firstSP = start
        while firstSP < end && buffer[firstSP] != HTTPByte.sp { firstSP &+= 1 }
        var secondSP = firstSP &+ 1
        while secondSP < end && buffer[secondSP] != HTTPByte.sp { secondSP &+= 1 }
        guard secondSP < end else { return .bad("malformed request line") }
        var i = secondSP &+ 1
        while i < end {
            if buffer[i] == HTTPByte.sp { return .bad("malformed request line: extra space") }
            i &+= 1
        }
        if firstSP == start || secondSP == firstSP &+ 1 { return .bad("malformed request line: empty part or extra space") }

        // Version first, so "PRI * HTTP/2.0" gets 505 rather than a method/target complaint.
        switch parseVersion(secondSP &+ 1..<end) {
        case .success(let version): current.version = version
        case .failure(let error): return error
        }
        for j in start..<firstSP where !HTTPByte.isTokenChar(buffer[j]) {
            return .bad("invalid method")
        }
        if let error = parseTarget(firstSP &+ 1..<secondSP, methodRange: start..<firstSP) { return error }
        current.method = String(decoding: buffer[start..<firstSP], as: UTF8.self)
        return nil
    }

    func parseVersion(_ r: Range<Int>) -> Result<HTTPVersion, HTTPParseError> {
        // "HTTP/" DIGIT "." DIGIT, case-sensitive.
        guard r.count == 8,
              buffer[r.lowerBound] == 0x48, buffer[r.lowerBound + 1] == 0x54,
              buffer[r.lowerBound + 2] == 0x54, buffer[r.lowerBound + 3] == 0x50,
              buffer[r.lowerBound + 4] == 0x2F, buffer[r.lowerBound + 6] == 0x2E else {
            return .failure(.bad("invalid HTTP version"))
        }
        let major = buffer[r.lowerBound + 5], minor = buffer[r.lowerBound + 7]
        guard (0x30...0x39).contains(major), (0x30...0x39).contains(minor) else {
            return .failure(.bad("invalid HTTP version"))
        }
        if major == 0x31 && minor == 0x31 { return .success(.http1_1) }
        if major == 0x31 && minor == 0x30 { return .success(.http1_0) }
        return .failure(HTTPParseError(status: 505, detail: "HTTP version not supported"))
    }

    /// Reads the request-target into `current.target` in origin-form. Accepted: origin-form
    /// (absolute-path [ "?" query ]); absolute-form (`http://authority/path?query`, which
    /// RFC 9112 3.2.2 says a server MUST accept: the path and query are kept, an empty path is
    /// "/", and the authority goes to `current.authority` to stand for Host); "*" for OPTIONS
    /// (asterisk-form).
    mutating func parseTarget(_ r: Range<Int>, methodRange: Range<Int>) -> HTTPParseError? {
        current.authority = nil
        let first = buffer[r.lowerBound]
        if first == 0x2A && r.count == 1 {  // "*"
            let isOptions = methodRange.count == 7 && zip(buffer[methodRange], "OPTIONS".utf8).allSatisfy { $0 == $1 }
            guard isOptions else { return .bad("asterisk-form target is only allowed for OPTIONS") }
            current.target = "*"
            return nil
        }
        var pathStart = r.lowerBound
        if first != 0x2F {
            guard let afterScheme = afterHTTPScheme(r) else {
                return .bad("request target must be origin-form (start with \"/\") or absolute-form (http://host/...)")
            }
            var end = afterScheme
            while end < r.upperBound && buffer[end] != 0x2F && buffer[end] != 0x3F { end &+= 1 }
            guard end > afterScheme else { return .bad("absolute-form request target without a host") }
            // isHostChar has no "@": userinfo in a target is refused (RFC 9110 4.2.4).
            for i in afterScheme..<end where !HTTPByte.isHostChar(buffer[i]) { return .bad("invalid authority in request target") }
            current.authority = String(decoding: buffer[afterScheme..<end], as: UTF8.self)
            pathStart = end
        }
        var i = pathStart
        while i < r.upperBound {
            let b = buffer[i]
            if b == 0x25 {  // "%" HEXDIG HEXDIG
                guard i + 2 < r.upperBound,
                      HTTPByte.hexValue(buffer[i + 1]) != nil, HTTPByte.hexValue(buffer[i + 2]) != nil else {
                    return .bad("invalid percent-encoding in request target")
                }
                i &+= 3
                continue
            }
            guard HTTPByte.isTargetChar(b) else { return .bad("invalid character in request target") }
            i &+= 1
        }
        let rest = String(decoding: buffer[pathStart..<r.upperBound], as: UTF8.self)
        current.target = pathStart < r.upperBound && buffer[pathStart] == 0x2F ? rest : "/" + rest
        return nil
    }

    /// The index after "http://" or "https://" (scheme case-insensitive) at the start of `r`.
    func afterHTTPScheme(_ r: Range<Int>) -> Int? {
        for scheme in ["http://", "https://"] where r.count > scheme.utf8.count {
            var i = r.lowerBound
            var matches = true
            for c in scheme.utf8 {
                if HTTPByte.lower(buffer[i]) != c { matches = false; break }
                i &+= 1
            }
            if matches { return i }
        }
        return nil
    }

    /// field-line = field-name ":" OWS field-value OWS. Records the field when `keep` (headers),
    /// only validates it otherwise (trailers).
    mutating func parseField(_ line: Range<Int>, keep: Bool) -> HTTPParseError? {
        let start = line.lowerBound, end = line.upperBound
        if HTTPByte.isWhitespace(buffer[start]) { return .bad("obsolete line folding or leading whitespace in field line") }
        var colon = start
        while colon < end && HTTPByte.isTokenChar(buffer[colon]) { colon &+= 1 }
        guard colon < end else { return .bad("field line without colon") }
        let stop = buffer[colon]
        if stop != HTTPByte.colon {
            if HTTPByte.isWhitespace(stop) { return .bad("whitespace between field name and colon") }
            if stop == HTTPByte.cr { return .bad("bare CR in field name") }
            return .bad("invalid character in field name")
        }
        if colon == start { return .bad("empty field name") }
        var valueStart = colon &+ 1
        while valueStart < end && HTTPByte.isWhitespace(buffer[valueStart]) { valueStart &+= 1 }
        var valueEnd = end
        while valueEnd > valueStart && HTTPByte.isWhitespace(buffer[valueEnd &- 1]) { valueEnd &-= 1 }
        for i in valueStart..<valueEnd where !HTTPByte.isFieldValueChar(buffer[i]) {
            return buffer[i] == HTTPByte.cr ? .bad("bare CR in field value") : .bad("control character in field value")
        }
        guard keep else { return nil }
        if let error = applyFramingField(name: start..<colon, value: valueStart..<valueEnd) { return error }
        if current.fields.capacity == 0 { current.fields.reserveCapacity(8) }  // one allocation for typical requests
        current.fields.append((name: String(decoding: buffer[start..<colon], as: UTF8.self),
                               value: String(decoding: buffer[valueStart..<valueEnd], as: UTF8.self)))
        return nil
    }

    /// ASCII case-insensitive comparison of buffer bytes with a lower-case literal.
    @inline(__always)
    func bytes(_ r: Range<Int>, equalLowercased literal: String) -> Bool {
        guard r.count == literal.utf8.count else { return false }
        var i = r.lowerBound
        for c in literal.utf8 {
            if HTTPByte.lower(buffer[i]) != c { return false }
            i &+= 1
        }
        return true
    }

    /// Rules for the fields that decide framing and connection handling.
    mutating func applyFramingField(name: Range<Int>, value: Range<Int>) -> HTTPParseError? {
        switch name.count {
        case 4 where bytes(name, equalLowercased: "host"):
            current.hostCount += 1
            if current.hostCount > 1 { return .bad("duplicate Host header") }
            for i in value where !HTTPByte.isHostChar(buffer[i]) { return .bad("invalid Host header") }
        case 14 where bytes(name, equalLowercased: "content-length"):
            if current.contentLength != nil { return .bad("duplicate Content-Length") }
            if current.chunked { return .bad("both Content-Length and Transfer-Encoding") }
            guard !value.isEmpty else { return .bad("empty Content-Length") }
            var length = 0
            for i in value {
                let b = buffer[i]
                guard b >= 0x30 && b <= 0x39 else { return .bad("invalid Content-Length") }
                let (times10, o1) = length.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(b &- 0x30))
                if o1 || o2 { return .bad("Content-Length overflow") }
                length = sum
            }
            current.contentLength = length
        case 17 where bytes(name, equalLowercased: "transfer-encoding"):
            if current.version == .http1_0 { return .bad("Transfer-Encoding on HTTP/1.0") }
            if current.chunked { return .bad("duplicate Transfer-Encoding") }
            if current.contentLength != nil { return .bad("both Content-Length and Transfer-Encoding") }
            guard bytes(value, equalLowercased: "chunked") else {
                return .bad("unsupported Transfer-Encoding (only \"chunked\" is accepted)")
            }
            current.chunked = true
        case 10 where bytes(name, equalLowercased: "connection"):
            // #connection-option: comma-separated tokens, empty elements allowed.
            var i = value.lowerBound
            while i <= value.upperBound {
                var j = i
                while j < value.upperBound && buffer[j] != 0x2C { j &+= 1 }
                var a = i, b = j
                while a < b && HTTPByte.isWhitespace(buffer[a]) { a &+= 1 }
                while b > a && HTTPByte.isWhitespace(buffer[b &- 1]) { b &-= 1 }
                for k in a..<b where !HTTPByte.isTokenChar(buffer[k]) { return .bad("invalid Connection option") }
                if bytes(a..<b, equalLowercased: "close") { current.connectionClose = true }
                if bytes(a..<b, equalLowercased: "keep-alive") { current.connectionKeepAlive = true }
                i = j &+ 1
            }
        case 6 where bytes(name, equalLowercased: "expect"):
            if bytes(value, equalLowercased: "100-continue") {
                current.expectContinue = true
            } else {
                current.unsupportedExpect = true
            }
        default:
            break
        }
        return nil
    }

    /// chunk-size [ chunk-ext ]; returns the size. Extensions are validated and ignored.
    func parseChunkHeader(_ line: Range<Int>) -> Result<Int, HTTPParseError> {
        let end = line.upperBound
        var i = line.lowerBound
        var size = 0
        while i < end, let digit = HTTPByte.hexValue(buffer[i]) {
            let (times16, o1) = size.multipliedReportingOverflow(by: 16)
            let (sum, o2) = times16.addingReportingOverflow(digit)
            if o1 || o2 { return .failure(.bad("chunk size overflow")) }
            size = sum
            i &+= 1
        }
        if i == line.lowerBound { return .failure(.bad("invalid chunk size")) }
        // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
        while i < end {
            i = skipWhitespace(i, end)
            guard i < end, buffer[i] == 0x3B else { return .failure(.bad("invalid chunk size or extension")) }
            i = skipWhitespace(i &+ 1, end)
            let nameStart = i
            while i < end && HTTPByte.isTokenChar(buffer[i]) { i &+= 1 }
            if i == nameStart { return .failure(.bad("invalid chunk extension name")) }
            let afterName = skipWhitespace(i, end)
            guard afterName < end, buffer[afterName] == 0x3D else { i = afterName; continue }  // "="
            i = skipWhitespace(afterName &+ 1, end)
            guard i < end else { return .failure(.bad("missing chunk extension value")) }
            if buffer[i] == 0x22 {
                guard let after = skipQuotedString(i, end) else { return .failure(.bad("invalid quoted chunk extension value")) }
                i = after
            } else {
                let valueStart = i
                while i < end && HTTPByte.isTokenChar(buffer[i]) { i &+= 1 }
                if i == valueStart { return .failure(.bad("invalid chunk extension value")) }
            }
        }
        return .success(size)
    }

    @inline(__always)
    func skipWhitespace(_ from: Int, _ end: Int) -> Int {
        var i = from
        while i < end && HTTPByte.isWhitespace(buffer[i]) { i &+= 1 }
        return i
    }

    /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE; returns the index after it.
    func skipQuotedString(_ from: Int, _ end: Int) -> Int? {
        var i = from &+ 1
        while i < end {
            let b = buffer[i]
            if b == 0x22 { return i &+ 1 }
            if b == 0x5C {  // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                guard i &+ 1 < end, HTTPByte.isFieldValueChar(buffer[i &+ 1]) else { return nil }
                i &+= 2
                continue
            }
            guard HTTPByte.isFieldValueChar(b) else { return nil }
            i &+= 1
        }
        return nil
    }
}
