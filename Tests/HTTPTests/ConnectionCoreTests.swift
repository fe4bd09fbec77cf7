import Testing
@testable import HTTP

/// The connection state machine, driven without sockets.
@Suite struct ConnectionCoreTests {
    static let date = Array("Date: X\r\n".utf8)

    func core(_ tweak: (inout HTTPConnectionSettings) -> Void = { _ in }) -> HTTPConnectionCore {
        var s = HTTPConnectionSettings()
        s.headerTimeout = 1_000
        s.idleTimeout = 5_000
        tweak(&s)
        return HTTPConnectionCore(settings: s, now: 0)
    }

    func drain(_ c: inout HTTPConnectionCore, now: UInt64 = 0) -> [(Int, HTTPRequest)] {
        var out: [(Int, HTTPRequest)] = []
        while let r = c.nextRequest(now: now) { out.append(r) }
        return out
    }

    func text(_ c: inout HTTPConnectionCore) -> String {
        c.flush(dateLine: Self.date, now: 0)
        defer { c.output = [] }
        return String(decoding: c.output, as: UTF8.self)
    }

    @Test func outOfOrderAnswersAreWrittenInRequestOrder() {
        var c = core()
        c.receive(Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        let reqs = drain(&c)
        #expect(reqs.map(\.0) == [0, 1, 2])
        c.respond(sequence: 2, response: .text("c"))
        c.respond(sequence: 1, response: .text("b"))
        #expect(text(&c) == "") // request 0 still unanswered
        c.respond(sequence: 0, response: .text("a"))
        let out = text(&c)
        let bodies = out.components(separatedBy: "\r\n\r\n").dropFirst().map { String($0.prefix(1)) }
        #expect(bodies == ["a", "b", "c"])
        #expect(c.phase == .open)
        #expect(c.slots.isEmpty)
    }

    @Test func duplicateAndUnknownAnswersAreIgnored() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        c.respond(sequence: 0, response: .text("first"))
        c.respond(sequence: 0, response: .text("second"))
        c.respond(sequence: 7, response: .text("nobody"))
        let out = text(&c)
        #expect(out.hasSuffix("first"))
        #expect(!out.contains("second"))
    }

    @Test func responseHeadersAreCompleteAndFramed() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        var h = HTTPHeaders()
        h.add(name: "Content-Length", value: "999") // ignored: the connection frames
        c.respond(sequence: 0, response: HTTPResponse(status: 200, headers: h, body: Array("hello".utf8)))
        #expect(text(&c) == "HTTP/1.1 200 OK\r\nDate: X\r\nServer: tributary\r\nContent-Length: 5\r\n\r\nhello")
    }

    @Test func connectionCloseStopsParsingAndClosesAfterTheAnswer() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        #expect(drain(&c).count == 1)
        #expect(!c.wantsRead)
        c.respond(sequence: 0, response: .text("x"))
        #expect(text(&c).contains("Connection: close\r\n"))
        #expect(c.phase == .closing)
    }

    @Test func handlerAskingForCloseClosesTheConnection() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        var h = HTTPHeaders()
        h.add(name: "Connection", value: "close")
        c.respond(sequence: 0, response: HTTPResponse(status: 200, headers: h))
        #expect(text(&c).contains("Connection: close\r\n"))
        #expect(c.phase == .closing)
    }

    @Test func http10KeepAliveIsEchoedAndDefaultCloses() {
        var c = core()
        c.receive(Array("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        c.respond(sequence: 0, response: .text("x"))
        #expect(text(&c).contains("Connection: keep-alive\r\n"))
        #expect(c.phase == .open)
        c.receive(Array("GET / HTTP/1.0\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        c.respond(sequence: 1, response: .text("x"))
        #expect(text(&c).contains("Connection: close\r\n"))
        #expect(c.phase == .closing)
    }

    @Test func expectContinueIsSentOnlyWhenTheRequestIsNextInLine() {
        var c = core()
        c.receive(Array("GET /first HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n".utf8), now: 0)
        #expect(drain(&c).count == 1)
        #expect(text(&c) == "") // first request unanswered: no 100 yet
        c.respond(sequence: 0, response: .text("1"))
        let out = text(&c)
        #expect(out.hasSuffix("\r\n\r\n1HTTP/1.1 100 Continue\r\n\r\n"))
        #expect(text(&c) == "") // only once
        c.receive(Array("ok".utf8), now: 0)
        #expect(drain(&c).first?.1.body == Array("ok".utf8))
    }

    @Test func parseErrorIsAnsweredInOrderAsProblemAndCloses() {
        var c = core()
        c.receive(Array("GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\n\r\n".utf8), now: 0) // no Host
        #expect(drain(&c).count == 1)
        #expect(!c.wantsRead)
        #expect(text(&c) == "")
        c.respond(sequence: 0, response: .text("ok"))
        let out = text(&c)
        #expect(out.contains("HTTP/1.1 400 Bad Request\r\n"))
        #expect(out.contains("Content-Type: application/problem+json\r\n"))
        #expect(out.contains("Connection: close\r\n"))
        #expect(out.hasSuffix("}"))
        #expect(c.phase == .closing)
    }

    @Test func headRequestKeepsContentLengthButNoBody() {
        var c = core()
        c.receive(Array("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        c.respond(sequence: 0, response: .text("hello"))
        let out = text(&c)
        #expect(out.hasSuffix("Content-Length: 5\r\n\r\n"))
    }

    @Test func pipeliningLimitPausesReadingUntilAnswersLeave() {
        var c = core { $0.maxPipelined = 2 }
        var batch = ""
        for _ in 0..<5 { batch += "GET / HTTP/1.1\r\nHost: x\r\n\r\n" }
        c.receive(Array(batch.utf8), now: 0)
        #expect(drain(&c).map(\.0) == [0, 1])
        #expect(!c.wantsRead)
        c.respond(sequence: 0, response: .text("a"))
        _ = text(&c)
        #expect(drain(&c).map(\.0) == [2])
    }

    @Test func backpressureHasHysteresis() {
        var c = core { $0.writeHighWater = 100; $0.writeLowWater = 10 }
        c.writeQueueChanged(50)
        #expect(c.wantsRead)
        c.writeQueueChanged(101)
        #expect(!c.wantsRead)
        c.writeQueueChanged(50)
        #expect(!c.wantsRead) // still above the low-water mark
        c.writeQueueChanged(10)
        #expect(c.wantsRead)
    }

    @Test func backpressureStopsDispatchingRequests() {
        var c = core { $0.writeHighWater = 100; $0.writeLowWater = 10 }
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        c.writeQueueChanged(1_000)
        #expect(drain(&c).isEmpty)
        c.writeQueueChanged(0)
        #expect(drain(&c).count == 1)
    }

    @Test func partialHeadTimesOutWith408() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost:".utf8), now: 100)
        #expect(drain(&c, now: 100).isEmpty)
        #expect(c.tick(now: 999) == .none)
        #expect(c.tick(now: 1_000) == .flushAndClose)
        #expect(String(decoding: c.output, as: UTF8.self).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(c.phase == .closing)
    }

    @Test func headerTimeoutRunsFromTheFirstByteOfTheNextRequest() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        c.respond(sequence: 0, response: .text("x"))
        _ = text(&c)
        #expect(c.deadlineKind == .idle)
        c.receive(Array("GET / HT".utf8), now: 3_000)
        #expect(drain(&c, now: 3_000).isEmpty)
        #expect(c.deadlineKind == .header)
        #expect(c.tick(now: 3_999) == .none)
        #expect(c.tick(now: 4_000) == .flushAndClose)
    }

    @Test func aTricklingBodyIsCutByTheBodyDeadlineWith408() {
        var c = core { $0.bodyTimeout = 2_000 }
        c.receive(Array("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{".utf8), now: 0)
        #expect(drain(&c).isEmpty)
        // A byte every 100 ms does not move the deadline.
        for t in stride(from: UInt64(100), to: 2_000, by: 100) {
            c.receive(Array(" ".utf8), now: t)
            #expect(drain(&c, now: t).isEmpty)
            #expect(c.tick(now: t) == .none)
        }
        #expect(c.tick(now: 2_000) == .flushAndClose)
        let out = String(decoding: c.output, as: UTF8.self)
        #expect(out.hasPrefix("HTTP/1.1 408 "))
        #expect(out.contains("request body did not arrive in time"))
        #expect(c.phase == .closing)
    }

    @Test func aBodyBehindUnansweredRequestsTimesOutWithoutAnOutOfOrderAnswer() {
        var c = core { $0.bodyTimeout = 1_000 }
        c.receive(Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab".utf8), now: 0)
        #expect(drain(&c).map(\.0) == [0])
        #expect(c.tick(now: 1_000) == .close)
        #expect(c.output.isEmpty)
    }

    @Test func idleConnectionClosesSilentlyAfterTheIdleTimeout() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        #expect(c.tick(now: 100_000) == .none) // a request in flight has no deadline
        c.respond(sequence: 0, response: .text("x"))
        c.flush(dateLine: [], now: 10)
        c.output = []
        #expect(c.tick(now: 5_009) == .none)
        #expect(c.tick(now: 5_010) == .close)
        #expect(c.output.isEmpty)
    }

    @Test func drainClosesAfterInFlightAnswersWithConnectionClose() {
        var c = core()
        c.receive(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        c.beginDrain()
        c.respond(sequence: 0, response: .text("a"))
        #expect(!text(&c).contains("Connection: close"))
        c.respond(sequence: 1, response: .text("b"))
        #expect(text(&c).contains("Connection: close"))
        #expect(c.phase == .closing)
    }

    @Test func streamHeadHasNoContentLengthAndFramesFollowInOrder() {
        var c = core()
        c.receive(Array("GET /s HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        _ = drain(&c)
        let started = c.startStream(sequence: 0, head: SSE.responseHead())
        #expect(started)
        c.streamWrite(Array("a".utf8))
        let out = text(&c)
        #expect(!out.contains("Content-Length"))
        #expect(out.contains("Connection: close\r\n"))
        #expect(out.hasSuffix("\r\n\r\na"))
        #expect(c.wantsRead) // to notice the client leaving
        c.streamWrite(Array("b".utf8))
        #expect(text(&c) == "b")
        c.streamFinish()
        _ = text(&c)
        #expect(c.phase == .closing)
    }

    /// Fan-out writes bypass `output`, so they may only start once everything before them on
    /// the connection is out: an earlier pipelined answer, the stream's head, earlier bytes.
    @Test func streamTakesDirectWritesOnlyWhenNothingIsAheadOfThem() {
        var c = core()
        c.receive(Array("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /s HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        #expect(drain(&c).map(\.0) == [0, 1])
        let started = c.startStream(sequence: 1, head: SSE.responseHead())
        #expect(started)
        #expect(!c.streamTakesDirectWrites)              // /slow unanswered, head not out
        c.respond(sequence: 0, response: .text("slow"))
        c.flush(dateLine: Self.date, now: 0)
        #expect(!c.streamTakesDirectWrites)              // both answers' bytes still in `output`
        c.output = []                                    // the driver wrote them
        #expect(c.streamTakesDirectWrites)
        c.streamWrite(Array("a".utf8))
        #expect(!c.streamTakesDirectWrites)              // "a" waits in `output`
        c.output = []
        #expect(c.streamTakesDirectWrites)
        c.streamFinish()
        #expect(!c.streamTakesDirectWrites)
    }
}

@Suite struct ConnectionCoreDrainTests {
    @Test func drainStillReadsTheBodyOfTheRequestUnderWay() {
        var c = HTTPConnectionCore(settings: HTTPConnectionSettings(), now: 0)
        c.receive(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab".utf8), now: 0)
        #expect(c.nextRequest(now: 0) == nil)
        c.beginDrain()
        #expect(c.wantsRead)
        c.receive(Array("cdGET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), now: 0)
        let r = c.nextRequest(now: 0)
        #expect(r?.request.body == Array("abcd".utf8))
        #expect(c.nextRequest(now: 0) == nil) // the pipelined GET is not started
        c.respond(sequence: 0, response: .text("ok"))
        c.flush(dateLine: [], now: 0)
        #expect(String(decoding: c.output, as: UTF8.self).contains("Connection: close\r\n"))
        #expect(c.phase == .closing)
    }

    @Test func peerEOFMidBodyDropsTheIncompleteRequestAndCloses() {
        var c = HTTPConnectionCore(settings: HTTPConnectionSettings(), now: 0)
        c.receive(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab".utf8), now: 0)
        #expect(c.nextRequest(now: 0) == nil)
        c.peerFinished()
        c.flush(dateLine: [], now: 0)
        #expect(c.phase == .closing)
        #expect(c.output.isEmpty)
    }
}
