import Testing
import Glibc
@testable import HTTP
@testable import UV

/// Pipelining, timeouts, connection cap, backpressure, streams and shutdown over real sockets.
@Suite(.serialized) struct ServerConnectionTests {
    @Test func pipelinedResponsesStayInOrderWhenHandlersAnswerOutOfOrder() throws {
        let h = try ServerHarness { r in
            // Request n answers after (10 - n) * 5 ms: later requests finish first.
            r.get("/slow/{n}") { ctx, res in
                let n = Int(ctx.parameters["n"]!)!
                let timer = LoopTimer(loop: ctx.loop)
                timer.start(timeout: UInt64((10 - n) * 5)) {
                    timer.close()
                    res.respond(.text("r\(n)"))
                }
            }
        }
        let c = try TestClient(port: h.port)
        var batch = ""
        for n in 0..<10 { batch += "GET /slow/\(n) HTTP/1.1\r\nHost: x\r\n\r\n" }
        c.send(batch)
        var bodies: [String] = []
        for _ in 0..<10 { bodies.append(c.readResponse()?.bodyText ?? "timeout") }
        #expect(bodies == (0..<10).map { "r\($0)" })
        #expect(h.stop() == 0)
    }

    @Test func manyPipelinedRequestsBeyondTheInFlightLimitAllGetAnswers() throws {
        let h = try ServerHarness(configure: { $0.maxPipelinedRequests = 4 }) { r in
            r.get("/n/{n}") { ctx, res in res.respond(.text(ctx.parameters["n"]!)) }
        }
        let c = try TestClient(port: h.port)
        var batch = ""
        for n in 0..<200 { batch += "GET /n/\(n) HTTP/1.1\r\nHost: x\r\n\r\n" }
        c.send(batch)
        var ok = true
        for n in 0..<200 where c.readResponse()?.bodyText != "\(n)" { ok = false }
        #expect(ok)
        #expect(h.stop() == 0)
    }

    @Test func headerTimeoutAnswers408AndClosesASlowClient() throws {
        let h = try ServerHarness(configure: { $0.headerTimeout = 200 }) { r in
            r.get("/") { _, res in res.respond(.text("x")) }
        }
        let c = try TestClient(port: h.port)
        c.send("GET / HTTP/1.1\r\nHost: x\r\n") // never finishes the head
        let r = try #require(c.readResponse())
        #expect(r.status == 408)
        #expect(c.readUntilClosed())
        #expect(h.stop() == 0)
    }

    @Test func silentNewConnectionIsClosedByTheHeaderTimeout() throws {
        let h = try ServerHarness(configure: { $0.headerTimeout = 200 }) { _ in }
        let c = try TestClient(port: h.port)
        #expect(c.readUntilClosed())
        #expect(c.buffer.isEmpty)
        #expect(h.stop() == 0)
    }

    @Test func idleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws {
        let h = try ServerHarness(configure: { $0.idleTimeout = 300 }) { r in
            r.get("/") { _, res in res.respond(.text("x")) }
        }
        let c = try TestClient(port: h.port)
        c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.readResponse()?.status == 200)
        #expect(c.readUntilClosed())
        #expect(c.buffer.isEmpty)
        #expect(eventually { h.onLoop { h.server.openConnections } == 0 })
        #expect(h.stop() == 0)
    }

    @Test func connectionsOverTheCapGet503WithRetryAfter() throws {
        let h = try ServerHarness(configure: { $0.maxConnections = 2 }) { r in
            r.get("/") { _, res in res.respond(.text("x")) }
        }
        let a = try TestClient(port: h.port), b = try TestClient(port: h.port)
        for c in [a, b] {
            c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(c.readResponse()?.status == 200)
        }
        let third = try TestClient(port: h.port)
        let r = try #require(third.readResponse())
        #expect(r.status == 503)
        #expect(r.header("Retry-After") == "1")
        #expect(r.header("Connection") == "close")
        #expect(r.header("Content-Type") == "application/problem+json")
        #expect(third.readUntilClosed())
        #expect(h.onLoop { h.server.openConnections } == 2)
        #expect(h.stop() == 0)
    }

    @Test func aClientThatDoesNotReadDoesNotMakeTheServerBufferUnboundedly() throws {
        let big = [UInt8](repeating: 0x78, count: 64 << 10)
        let h = try ServerHarness(configure: { $0.writeHighWater = 256 << 10; $0.writeLowWater = 64 << 10; $0.maxPipelinedRequests = 8 }) { r in
            r.get("/big") { _, res in res.respond(HTTPResponse(status: 200, body: big)) }
        }
        let c = try TestClient(port: h.port)
        // Small kernel buffers so backpressure shows quickly.
        var small: Int32 = 64 << 10
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(4))
        setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(4))
        let flags = fcntl(c.fd, F_GETFL)
        _ = fcntl(c.fd, F_SETFL, flags | O_NONBLOCK)
        let request = Array("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        var sentRequests = 0
        // Send up to 500k requests (32 GB of responses) without reading anything.
        for _ in 0..<500_000 {
            let n = request.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n != request.count { break }
            sentRequests += 1
        }
        usleep(300_000)
        let pending = h.onLoop { h.server.pendingWriteBytes }
        // High-water mark plus at most one batch of in-flight responses.
        #expect(pending <= (256 << 10) + 8 * (64 << 10) + 4096)
        #expect(sentRequests < 500_000) // the server stopped reading, so the client's sends blocked
        _ = fcntl(c.fd, F_SETFL, flags)
        // Now read everything we asked for: all responses arrive, in full.
        var received = 0
        while received < sentRequests, let r = c.readResponse() {
            if r.body.count == big.count { received += 1 }
        }
        #expect(received == sentRequests)
        #expect(h.stop() == 0)
    }

    @Test func gracefulShutdownLetsInFlightRequestsFinishAndEndsWithZeroHandles() throws {
        let h = try ServerHarness { r in
            r.get("/slow") { ctx, res in
                let t = LoopTimer(loop: ctx.loop)
                t.start(timeout: 200) { t.close(); res.respond(.text("done")) }
            }
            r.get("/fast") { _, res in res.respond(.text("fast")) }
        }
        let busy = try TestClient(port: h.port)
        let idle = try TestClient(port: h.port)
        idle.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(idle.readResponse()?.bodyText == "fast")
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)
        let sem = Semaphore()
        h.thread.execute { h.server.shutdown { sem.signal() } }
        let r = try #require(busy.readResponse())
        #expect(r.bodyText == "done")
        #expect(r.header("Connection") == "close")
        #expect(busy.readUntilClosed())
        #expect(idle.readUntilClosed())
        sem.wait()
        #expect(h.thread.finish() == 0)
    }

    @Test func shutdownGraceForceClosesRequestsThatNeverAnswer() throws {
        let h = try ServerHarness(configure: { $0.shutdownGrace = 200 }) { r in
            r.get("/never") { _, _ in }
        }
        let c = try TestClient(port: h.port)
        c.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)
        #expect(h.stop() == 0)
        #expect(c.readUntilClosed())
    }
}

/// Polls `condition` for up to 10 s (generous: the box may be loaded).
func eventually(_ condition: () -> Bool) -> Bool {
    for _ in 0..<1000 {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
