/// A strict, incremental HTTP/1.1 request parser (RFC 9112) over raw bytes.
///
/// Feed it whatever the socket delivers with `append(_:)`, then drain `next()` until it returns
/// nil. The events are a pure function of the byte sequence: how the bytes are split across
/// `append` calls never changes them (fed whole, byte by byte or pipelined, a request yields the
/// same `.head`, `.request` or `.error`). The first `.error` is terminal.
///
/// Choices where RFC 9112 leaves room (each covered by a test):
/// - One empty line (CRLF) before a request line is ignored (RFC 9112 2.2 "SHOULD ignore at
///   least one"); a second one, or a bare LF, is a 400.
/// - Origin-form targets, absolute-form ones (`http://host/path`, which RFC 9112 3.2.2 says a
///   server MUST accept: kept as their origin-form part, the authority standing for Host) and
///   "*" for OPTIONS are accepted; authority-form (CONNECT) and userinfo in an authority are a
///   400. Targets are limited to RFC 3986 characters, "%" needs two hex digits.
/// - "HTTP/" DIGIT "." DIGIT other than 1.0 and 1.1 answers 505; any other version text is a 400.
/// - Transfer-Encoding must be exactly one field whose value is `chunked` (case-insensitive);
///   anything else is a 400 (not 501), as is any Transfer-Encoding on HTTP/1.0.
/// - Chunk extensions are accepted when well-formed (`;name[=token|quoted-string]`, BWS allowed
///   around ";" and "=") and ignored; malformed ones are a 400. Trailers are parsed with the
///   header rules and limits, then discarded.
/// - `Expect: 100-continue` sets `expectsContinue` (HTTP/1.1 only, ignored on 1.0 as RFC 9110
///   10.1.1 requires); any other Expect value answers 417.
/// - Field values may carry obs-text (0x80-0xFF); it is decoded as UTF-8 with replacement.
public struct HTTPRequestParser: Sendable {
    enum State: Sendable {
        case requestLine
        case headerLine
        case fixedBody(length: Int)
        case chunkHeader
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLine
        case failed
    }

    /// Longest chunk-size line (size + extensions, without CRLF) accepted.
    static let maxChunkHeaderBytes = 4096
    /// Largest buffer storage kept once every byte is consumed (an idle keep-alive connection
    /// must cost ≤ 4 KiB in total); larger storage is freed.
    static let idleBufferCapacity = 2048

    let limits: HTTPParserLimits
    /// Received bytes; `buffer[readIndex...]` is not yet consumed.
    var buffer: [UInt8] = []
    var readIndex = 0
    /// Where the search for the next LF resumes, so a line is never re-scanned per append.
    var scanIndex = 0
    var state: State = .requestLine
    /// The request being assembled.
    var current = RequestInProgress()

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Bytes held by the parser (buffered input not yet consumed plus the body assembled so far),
    /// for per-connection memory accounting.
    public var bufferedByteCount: Int { buffer.count - readIndex + current.body.count }

    /// Buffers more input. Bytes after a terminal `.error` are discarded.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if case .failed = state { return }
        if readIndex == buffer.count {
            // Everything consumed: O(1) reset, keeping the (small) storage.
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
            scanIndex = 0
        } else if readIndex >= 4096 && readIndex >= buffer.count - readIndex {
            // Compact rarely: only when the consumed prefix is large and at least half the buffer.
            buffer.removeSubrange(0..<readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed (or after an `.error`).
    public mutating func next() -> HTTPParserEvent? {
        while true {
            let step: Step
            switch state {
            case .failed:
                return nil
            case .requestLine:
                step = stepRequestLine()
            case .headerLine:
                step = stepHeaderLine()
            case .fixedBody(let length):
                step = stepFixedBody(length)
            case .chunkHeader:
                step = stepChunkHeader()
            case .chunkData(let remaining):
                step = stepChunkData(remaining)
            case .chunkDataEnd:
                step = stepChunkDataEnd()
            case .trailerLine:
                step = stepTrailerLine()
            }
            switch step {
            case .again:
                continue
            case .needMore:
                releaseIfDrained()
                return nil
            case .emit(let event):
                return event
            case .fail(let error):
                state = .failed
                buffer = []
                readIndex = 0
                scanIndex = 0
                current = RequestInProgress()
                return .error(error)
            }
        }
    }

    enum Step {
        case again
        case needMore
        case emit(HTTPParserEvent)
        case fail(HTTPParseError)
    }

    enum LineResult {
        /// A complete line; the range excludes its CRLF. `length` is what was charged to the budget.
        case line(Range<Int>, length: Int)
        case needMore
        case fail(HTTPParseError)
    }

    /// Takes the next CRLF-terminated line from the buffer.
    ///
    /// `budget` bounds the line: with `countsTerminator` the CRLF is charged too. The bound is
    /// checked on the incomplete line as well (a trailing CR is not charged when the terminator
    /// is free), and before any validation of a complete line, so the outcome does not depend on
    /// how input was split. A LF not preceded by CR is a 400; a CR elsewhere is left in the line
    /// for the validators to reject as a control character.
    mutating func takeLine(budget: Int, countsTerminator: Bool, overflow: HTTPParseError) -> LineResult {
        let start = readIndex
        let end = buffer.count
        var i = scanIndex
        while i < end && buffer[i] != HTTPByte.lf { i &+= 1 }
        if i == end {
            scanIndex = end
            var pending = end - start
            if !countsTerminator && pending > 0 && buffer[end - 1] == HTTPByte.cr { pending -= 1 }
            return pending > budget ? .fail(overflow) : .needMore
        }
        let hasCR = i > start && buffer[i - 1] == HTTPByte.cr
        let contentEnd = hasCR ? i - 1 : i
        let length = countsTerminator ? i + 1 - start : contentEnd - start
        if length > budget { return .fail(overflow) }
        if !hasCR { return .fail(.bad("bare LF line ending")) }
        readIndex = i + 1
        scanIndex = readIndex
        return .line(start..<contentEnd, length: length)
    }

    mutating func stepRequestLine() -> Step {
        let overflow = HTTPParseError(status: 414, detail: "request line too long")
        switch takeLine(budget: limits.maxRequestLineBytes, countsTerminator: false, overflow: overflow) {
        case .needMore: return .needMore
        case .fail(let error): return .fail(error)
        case .line(let range, _):
            if range.isEmpty {
                if current.skippedEmptyLine { return .fail(.bad("more than one empty line before the request line")) }
                current.skippedEmptyLine = true
                return .again
            }
            if let error = parseRequestLine(range) { return .fail(error) }
            state = .headerLine
            return .again
        }
    }

    mutating func stepHeaderLine() -> Step {
        let overflow = HTTPParseError(status: 431, detail: "header block too large")
        switch takeLine(budget: limits.maxHeaderBytes - current.sectionBytes, countsTerminator: true, overflow: overflow) {
        case .needMore: return .needMore
        case .fail(let error): return .fail(error)
        case .line(let range, let length):
            current.sectionBytes += length
            if range.isEmpty { return finishHead() }
            if current.fieldCount >= limits.maxHeaderCount {
                return .fail(HTTPParseError(status: 431, detail: "too many header fields"))
            }
            current.fieldCount += 1
            if let error = parseField(range, keep: true) { return .fail(error) }
            return .again
        }
    }

    /// Headers are complete: apply the cross-field rules and emit `.head`.
    mutating func finishHead() -> Step {
        let version = current.version
        if version == .http1_1 && current.hostCount == 0 { return .fail(.bad("missing Host header")) }
        if current.unsupportedExpect {
            return .fail(HTTPParseError(status: 417, detail: "only Expect: 100-continue is supported"))
        }
        if let length = current.contentLength, length > limits.maxBodyBytes {
            return .fail(HTTPParseError(status: 413, detail: "body larger than \(limits.maxBodyBytes) bytes"))
        }
        let keepAlive = version == .http1_1
            ? !current.connectionClose
            : current.connectionKeepAlive && !current.connectionClose
        // Built with an empty target, then path/query are set from the UTF-8 view: the init's
        // Character-based search for "?" was the single most expensive step of a small request.
        if let authority = current.authority {
            // RFC 9112 3.2.2: with an absolute-form target, Host is ignored for the target's
            // authority (it must still be there in HTTP/1.1, and valid).
            if let i = current.fields.firstIndex(where: { $0.name.utf8.count == 4 && $0.name.lowercased() == "host" }) {
                current.fields[i].value = authority
            } else {
                current.fields.append((name: "Host", value: authority))
            }
        }
        var head = HTTPRequestHead(method: current.method, target: "", version: version,
                                   headers: HTTPHeaders(current.fields), keepAlive: keepAlive,
                                   expectsContinue: current.expectContinue && version == .http1_1)
        let target = current.target
        head.target = target
        // "?"; the target is validated ASCII. Found in the contiguous bytes: the UTF-8 view's
        // own search steps an index per byte.
        let offset = target.utf8.withContiguousStorageIfAvailable { $0.firstIndex(of: 0x3F) }
            ?? target.utf8.firstIndex(of: 0x3F).map { target.utf8.distance(from: target.utf8.startIndex, to: $0) }
        if let offset {
            let q = target.utf8.index(target.utf8.startIndex, offsetBy: offset)
            head.path = target[..<q]
            head.query = target[target.utf8.index(after: q)...]
        } else {
            head.path = target[...]
            head.query = nil
        }
        current.fields = []
        current.head = head
        state = current.chunked ? .chunkHeader : .fixedBody(length: current.contentLength ?? 0)
        return .emit(.head(head))
    }

    mutating func stepFixedBody(_ length: Int) -> Step {
        guard buffer.count - readIndex >= length else { return .needMore }
        let body = length == 0 ? [] : Array(buffer[readIndex..<readIndex + length])
        readIndex += length
        scanIndex = readIndex
        return completeRequest(body: body)
    }

    mutating func stepChunkHeader() -> Step {
        let overflow = HTTPParseError.bad("chunk header too long")
        switch takeLine(budget: Self.maxChunkHeaderBytes, countsTerminator: false, overflow: overflow) {
        case .needMore: return .needMore
        case .fail(let error): return .fail(error)
        case .line(let range, _):
            switch parseChunkHeader(range) {
            case .failure(let error):
                return .fail(error)
            case .success(0):
                current.sectionBytes = 0
                current.fieldCount = 0
                state = .trailerLine
                return .again
            case .success(let size):
                if size > limits.maxBodyBytes - current.body.count {
                    return .fail(HTTPParseError(status: 413, detail: "body larger than \(limits.maxBodyBytes) bytes"))
                }
                state = .chunkData(remaining: size)
                return .again
            }
        }
    }

    mutating func stepChunkData(_ remaining: Int) -> Step {
        let take = min(remaining, buffer.count - readIndex)
        guard take > 0 else { return .needMore }
        current.body.append(contentsOf: buffer[readIndex..<readIndex + take])
        readIndex += take
        scanIndex = readIndex
        state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
        return .again
    }

    mutating func stepChunkDataEnd() -> Step {
        let available = buffer.count - readIndex
        guard available > 0 else { return .needMore }
        guard buffer[readIndex] == HTTPByte.cr else { return .fail(.bad("chunk data not followed by CRLF")) }
        guard available > 1 else { return .needMore }
        guard buffer[readIndex + 1] == HTTPByte.lf else { return .fail(.bad("chunk data not followed by CRLF")) }
        readIndex += 2
        scanIndex = readIndex
        state = .chunkHeader
        return .again
    }

    mutating func stepTrailerLine() -> Step {
        let overflow = HTTPParseError(status: 431, detail: "trailer section too large")
        switch takeLine(budget: limits.maxHeaderBytes - current.sectionBytes, countsTerminator: true, overflow: overflow) {
        case .needMore: return .needMore
        case .fail(let error): return .fail(error)
        case .line(let range, let length):
            current.sectionBytes += length
            if range.isEmpty {
                let body = current.body
                current.body = []
                return completeRequest(body: body)
            }
            if current.fieldCount >= limits.maxHeaderCount {
                return .fail(HTTPParseError(status: 431, detail: "too many trailer fields"))
            }
            current.fieldCount += 1
            if let error = parseField(range, keep: false) { return .fail(error) }
            return .again
        }
    }

    mutating func completeRequest(body: [UInt8]) -> Step {
        guard let head = current.head else { return .fail(.bad("internal: body without head")) }
        current = RequestInProgress()
        state = .requestLine
        return .emit(.request(HTTPRequest(head: head, body: body)))
    }

    /// When every buffered byte is consumed, drop large storage so an idle connection holds
    /// next to nothing; small storage is kept for the next request.
    mutating func releaseIfDrained() {
        guard readIndex == buffer.count, readIndex > 0 || buffer.capacity > 0 else { return }
        if buffer.capacity > Self.idleBufferCapacity {
            buffer = []
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
        readIndex = 0
        scanIndex = 0
    }
}

/// Per-request accumulators, reset after each `.request`.
struct RequestInProgress: Sendable {
    var skippedEmptyLine = false
    var method = ""
    var target = ""
    /// The authority of an absolute-form target, which stands for Host.
    var authority: String?
    var version = HTTPVersion.http1_1
    var fields: [(name: String, value: String)] = []
    /// Bytes charged to the header (then trailer) budget so far.
    var sectionBytes = 0
    var fieldCount = 0
    var contentLength: Int?
    var chunked = false
    var hostCount = 0
    var connectionClose = false
    var connectionKeepAlive = false
    var expectContinue = false
    var unsupportedExpect = false
    var head: HTTPRequestHead?
    var body: [UInt8] = []
}
