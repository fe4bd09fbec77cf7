import Testing
@testable import HTTP

/// A comparable digest of a parser event.
enum ParsedEvent: Equatable, CustomStringConvertible {
    case head(String)
    case request(String, body: [UInt8])
    case error(Int)

    var description: String {
        switch self {
        case .head(let s): return "head(\(s))"
        case .request(let s, let body): return "request(\(s), body: \(String(decoding: body, as: UTF8.self).debugDescription))"
        case .error(let status): return "error(\(status))"
        }
    }

    var isRequest: Bool { if case .request = self { return true } else { return false } }
}

func digest(_ head: HTTPRequestHead) -> String {
    let fields = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: "|")
    return "\(head.method) \(head.target) \(head.version) ka=\(head.keepAlive) c=\(head.expectsContinue) [\(fields)]"
}

func digest(_ event: HTTPParserEvent) -> ParsedEvent {
    switch event {
    case .head(let head): return .head(digest(head))
    case .request(let request): return .request(digest(request.head), body: request.body)
    case .error(let error): return .error(error.status)
    }
}

/// Bytes of a string literal, exactly as written (use explicit \r\n).
func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Feeds `bytes` in pieces of `chunkSize`, draining `next()` after every append.
func parseEvents(_ bytes: [UInt8], chunkSize: Int = Int.max,
                 limits: HTTPParserLimits = HTTPParserLimits()) -> [ParsedEvent] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [ParsedEvent] = []
    var offset = 0
    repeat {
        let end = min(bytes.count, offset + min(chunkSize, bytes.count - offset + 1))
        parser.append(bytes[offset..<end])
        offset = end
        while let event = parser.next() { events.append(digest(event)) }
    } while offset < bytes.count
    return events
}

/// Full parsed requests for inspection (fed whole).
func parseRequests(_ bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits()) -> [HTTPRequest] {
    var parser = HTTPRequestParser(limits: limits)
    parser.append(bytes)
    var requests: [HTTPRequest] = []
    while let event = parser.next() {
        if case .request(let r) = event { requests.append(r) }
    }
    return requests
}

let validPrefix = b("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")

/// The events `validPrefix` produces.
let validPrefixEvents: [ParsedEvent] = parseEvents(validPrefix)

/// Asserts that `bytes` yields the same events fed whole, one byte at a time, in 3- and 7-byte
/// pieces, and pipelined after a valid request; returns the events (fed whole).
@discardableResult
func expectSameEventsInAllModes(_ bytes: [UInt8], limits: HTTPParserLimits = HTTPParserLimits(),
                                sourceLocation: SourceLocation = #_sourceLocation) -> [ParsedEvent] {
    let whole = parseEvents(bytes, limits: limits)
    for size in [1, 3, 7] {
        let split = parseEvents(bytes, chunkSize: size, limits: limits)
        #expect(split == whole, "fed in \(size)-byte pieces", sourceLocation: sourceLocation)
    }
    for size in [Int.max, 1] {
        let pipelined = parseEvents(validPrefix + bytes, chunkSize: size, limits: limits)
        #expect(pipelined == validPrefixEvents + whole, "pipelined after a valid request (\(size))",
                sourceLocation: sourceLocation)
    }
    return whole
}

/// Asserts that `bytes` is refused with `status` in every feeding mode, with no request delivered.
func expectRejected(_ bytes: [UInt8], status: Int = 400, limits: HTTPParserLimits = HTTPParserLimits(),
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let events = expectSameEventsInAllModes(bytes, limits: limits, sourceLocation: sourceLocation)
    let expected = ParsedEvent.error(status)
    #expect(events.last == expected, "events: \(events)", sourceLocation: sourceLocation)
    #expect(events.allSatisfy { !$0.isRequest }, "events: \(events)", sourceLocation: sourceLocation)
}

func expectRejected(_ raw: String, status: Int = 400, limits: HTTPParserLimits = HTTPParserLimits(),
                    sourceLocation: SourceLocation = #_sourceLocation) {
    expectRejected(b(raw), status: status, limits: limits, sourceLocation: sourceLocation)
}

/// Asserts that `raw` is one accepted request in every feeding mode and returns it.
@discardableResult
func expectAccepted(_ raw: [UInt8], limits: HTTPParserLimits = HTTPParserLimits(),
                    sourceLocation: SourceLocation = #_sourceLocation) -> HTTPRequest? {
    let events = expectSameEventsInAllModes(raw, limits: limits, sourceLocation: sourceLocation)
    #expect(events.count == 2 && events.last?.isRequest == true, "events: \(events)", sourceLocation: sourceLocation)
    return parseRequests(raw, limits: limits).first
}

@discardableResult
func expectAccepted(_ raw: String, limits: HTTPParserLimits = HTTPParserLimits(),
                    sourceLocation: SourceLocation = #_sourceLocation) -> HTTPRequest? {
    expectAccepted(b(raw), limits: limits, sourceLocation: sourceLocation)
}
