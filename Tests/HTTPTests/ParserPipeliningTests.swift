import Testing
@testable import HTTP

@Suite struct PipeliningParserTests {
    let batch = b("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        + "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
        + "\r\nGET /4?q HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        + "GET /5 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")

    @Test func manyRequestsInOneAppendComeOutInOrder() {
        let events = expectSameEventsInAllModes(batch)
        #expect(events.count == 10)
        let requests = parseRequests(batch)
        #expect(requests.map(\.head.target) == ["/1", "/2", "/3", "/4?q", "/5"])
        #expect(requests.map(\.body) == [[], b("abc"), b("de"), [], []])
        #expect(requests.map(\.head.keepAlive) == [true, true, true, true, false])
    }

    @Test func everySplitPointYieldsTheSameEvents() {
        let whole = parseEvents(batch)
        for cut in 0...batch.count {
            var parser = HTTPRequestParser()
            var events: [ParsedEvent] = []
            parser.append(batch[..<cut])
            while let e = parser.next() { events.append(digest(e)) }
            parser.append(batch[cut...])
            while let e = parser.next() { events.append(digest(e)) }
            #expect(events == whole, "cut at \(cut)")
        }
    }

    @Test func errorIsTerminal() {
        var parser = HTTPRequestParser()
        parser.append(b("GET / HTTP/1.1\r\nHost: a\r\n\r\nBAD\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        var events: [ParsedEvent] = []
        while let e = parser.next() { events.append(digest(e)) }
        #expect(events.count == 3)
        #expect(events.last == .error(400))
        parser.append(b("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(parser.next() == nil)
        #expect(parser.next() == nil)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func memoryStaysSmall() {
        var parser = HTTPRequestParser()
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.buffer.capacity == 0)
        let one = b("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        for _ in 0..<1000 {
            parser.append(one)
            while parser.next() != nil {}
            #expect(parser.bufferedByteCount == 0)
        }
        #expect(parser.buffer.capacity < 256)
        // A large body is released once consumed.
        parser.append(b("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n"))
        parser.append([UInt8](repeating: 0x61, count: 100000))
        #expect(parser.bufferedByteCount > 100000)
        var bodies = 0
        while let e = parser.next() { if case .request(let r) = e { bodies += r.body.count } }
        #expect(bodies == 100000)
        #expect(parser.buffer.capacity == 0)
    }

    @Test func partialRequestsAcrossAppendsCompactTheBuffer() {
        var parser = HTTPRequestParser()
        let one = b("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
        var stream: [UInt8] = []
        for _ in 0..<2000 { stream += one }
        var count = 0
        var offset = 0
        // Appends that always leave a partial request behind, so the buffer never drains.
        while offset < stream.count {
            let end = min(stream.count, offset + 1000)
            parser.append(stream[offset..<end])
            offset = end
            while let e = parser.next() { if case .request = e { count += 1 } }
            #expect(parser.buffer.count < 12000)
        }
        #expect(count == 2000)
    }

    @Test func largeContentLengthBodyInManyAppends() {
        var parser = HTTPRequestParser()
        parser.append(b("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n"))
        guard case .head? = parser.next() else { Issue.record("no head"); return }
        var body: [UInt8]?
        for i in 0..<256 {
            parser.append([UInt8](repeating: UInt8(i), count: 4096))
            if case .request(let r)? = parser.next() { body = r.body }
        }
        #expect(body?.count == 1 << 20)
        #expect(body?[4096] == 1)
    }
}
