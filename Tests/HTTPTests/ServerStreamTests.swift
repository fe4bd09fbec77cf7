import Testing
import Glibc
@testable import HTTP
@testable import UV

@Suite(.serialized) struct ServerStreamTests {
    final class Box: @unchecked Sendable { var writer: SSEWriter?; var reasons: [ResponseStream.CloseReason] = [] }

    @Test func sseStreamSendsHeadersInitialCommentAndFrames() throws {
        let box = Box()
        let h = try ServerHarness { r in
            r.get("/events") { ctx, res in
                box.writer = SSEWriter(responder: res, loop: ctx.loop, heartbeatMilliseconds: 50) { box.reasons.append($0) }
                box.writer?.send(SSEEvent(id: "1", event: "greeting", data: "hello\nworld"))
            }
        }
        let c = try TestClient(port: h.port)
        c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = try #require(c.readUntil("data: world\n\n"))
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("Content-Type: text/event-stream; charset=utf-8\r\n"))
        #expect(text.contains("Cache-Control: no-cache, no-store\r\n"))
        #expect(text.contains("X-Accel-Buffering: no\r\n"))
        #expect(!text.contains("Content-Length"))
        #expect(text.contains("\r\n\r\n:ok\n\nid: 1\nevent: greeting\ndata: hello\ndata: world\n\n"))
        // Heartbeat comments follow.
        #expect(c.readUntil("data: world\n\n:\n\n") != nil)
        h.onLoop { box.writer?.send(SSEEvent(data: "later")) }
        #expect(c.readUntil("data: later\n\n") != nil)
        // Shutdown ends the stream cleanly and reports it.
        #expect(h.stop() == 0)
        #expect(c.readUntilClosed())
        #expect(box.reasons == [.serverShutdown])
    }

    @Test func sseReportsWhenTheClientGoesAway() throws {
        let box = Box()
        let h = try ServerHarness { r in
            r.get("/events") { ctx, res in
                box.writer = SSEWriter(responder: res, loop: ctx.loop, heartbeatMilliseconds: 0) { box.reasons.append($0) }
            }
        }
        do {
            let c = try TestClient(port: h.port)
            c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(c.readUntil(":ok\n\n") != nil)
        } // client closes here
        var reasons: [ResponseStream.CloseReason] = []
        for _ in 0..<500 {
            reasons = h.onLoop { box.reasons }
            if !reasons.isEmpty { break }
            usleep(10_000)
        }
        #expect(reasons == [.clientGone])
        #expect(eventually { h.onLoop { h.server.openConnections } == 0 })
        #expect(h.stop() == 0)
    }

    @Test func finishingAStreamClosesTheConnection() throws {
        let h = try ServerHarness { r in
            r.get("/once") { ctx, res in
                let w = SSEWriter(responder: res, loop: ctx.loop, heartbeatMilliseconds: 0)
                w?.send(SSEEvent(data: "only"))
                w?.finish()
            }
        }
        let c = try TestClient(port: h.port)
        c.send("GET /once HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.readUntilClosed())
        #expect(String(decoding: c.buffer, as: UTF8.self).hasSuffix(":ok\n\ndata: only\n\n"))
        #expect(h.stop() == 0)
    }
}

@Suite(.serialized) struct SlowStreamConsumerTests {
    final class Box: @unchecked Sendable { var stream: ResponseStream?; var reasons: [ResponseStream.CloseReason] = [] }

    @Test func aStreamClientThatStopsReadingIsCutOffAsTooSlow() throws {
        let box = Box()
        let h = try ServerHarness { r in
            r.get("/firehose") { _, res in
                box.stream = res.startStream(SSE.responseHead()) { box.reasons.append($0) }
                box.stream?.maxPendingBytes = 1 << 20
            }
        }
        let c = try TestClient(port: h.port)
        var small: Int32 = 16 << 10
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(4))
        c.send("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { h.onLoop { box.stream != nil } })
        let frame = SSEEvent(data: String(repeating: "x", count: 64 << 10)).encoded
        // Write up to 64 MiB without the client reading.
        let reasons = h.onLoop { () -> [ResponseStream.CloseReason] in
            for _ in 0..<1024 where box.stream?.isOpen == true { box.stream?.write(frame) }
            return box.reasons
        }
        #expect(reasons == [.tooSlow])
        #expect(eventually { h.onLoop { h.server.openConnections } == 0 })
        #expect(h.stop() == 0)
    }
}

@Suite(.serialized) struct StreamFanOutTests {
    final class Box: @unchecked Sendable { var streams: [ResponseStream] = [] }

    /// Fan-out writes go straight to the sockets, after what the streams already sent and
    /// before what they send next; a stream with bytes queued gets no writer.
    @Test func fanOutWritesKeepTheStreamsInOrder() throws {
        let box = Box()
        let h = try ServerHarness { r in
            r.get("/s") { _, res in
                if let s = res.startStream(SSE.responseHead()) { box.streams.append(s) }
            }
        }
        let clients = try (0..<3).map { _ in try TestClient(port: h.port) }
        for c in clients { c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n") }
        #expect(eventually { h.onLoop { box.streams.count } == 3 })
        // The heads are out once each client has read them.
        for c in clients { #expect(c.readUntil("\r\n\r\n") != nil) }
        let written = h.onLoop { () -> [Int] in
            for s in box.streams { s.write(Array("data: first\n\n".utf8)) }
            let batch = Array("data: batch\n\n".utf8)
            let writes = box.streams.compactMap { $0.fanOutWriter(for: batch) }
            let results = SocketFanOut.write(writes, threads: 2)
            for (s, (w, n)) in zip(box.streams, zip(writes, results)) { s.fanOutWritten(w, result: n) }
            for s in box.streams { s.write(Array("data: next\n\n".utf8)) }
            return results
        }
        #expect(written == [13, 13, 13])
        for c in clients {
            let text = try #require(c.readUntil("data: next\n\n"))
            #expect(text.hasSuffix("\r\n\r\ndata: first\n\ndata: batch\n\ndata: next\n\n"))
        }
        // A finished stream gives no writer.
        let afterFinish = h.onLoop { () -> Bool in
            box.streams[0].finish()
            return box.streams[0].fanOutWriter(for: [1]) == nil
        }
        #expect(afterFinish)
        #expect(h.stop() == 0)
    }

    /// Behind an earlier pipelined request still unanswered, a stream gets no fan-out writer:
    /// its bytes must not overtake that answer or its own head.
    @Test func aStreamBehindAPipelinedAnswerGetsNoWriter() throws {
        final class Slots: @unchecked Sendable { var slow: Responder?; var stream: ResponseStream? }
        let box = Slots()
        let h = try ServerHarness { r in
            r.get("/slow") { _, res in box.slow = res }
            r.get("/s") { _, res in box.stream = res.startStream(SSE.responseHead()) }
        }
        let c = try TestClient(port: h.port)
        c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /s HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(eventually { h.onLoop { box.stream != nil } })
        let before = h.onLoop { box.stream?.fanOutWriter(for: Array("data: early\n\n".utf8)) == nil }
        #expect(before)
        h.onLoop {
            box.slow?.respond(.text("slow"))
            box.stream?.write(Array("data: queued\n\n".utf8))
        }
        let text = try #require(c.readUntil("data: queued\n\n"))
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        let slowAt = try #require(text.range(of: "slow"))
        let streamHeadAt = try #require(text.range(of: "text/event-stream"))
        #expect(slowAt.lowerBound < streamHeadAt.lowerBound)
        // Everything is out now: the stream takes fan-out writes.
        #expect(eventually { h.onLoop { box.stream?.fanOutWriter(for: [1]) != nil } })
        #expect(h.stop() == 0)
    }

    /// One SSE stream at `/s` whose client reads nothing (16 KiB receive buffer); the head is read.
    final class SlowStream: @unchecked Sendable {
        var stream: ResponseStream?
        var reasons: [ResponseStream.CloseReason] = []
        let harness: ServerHarness
        let client: TestClient

        init(maxPendingBytes: Int) throws {
            final class Box: @unchecked Sendable { weak var owner: SlowStream? }
            let box = Box()
            harness = try ServerHarness { r in
                r.get("/s") { _, res in
                    guard let owner = box.owner else { return }
                    owner.stream = res.startStream(SSE.responseHead()) { owner.reasons.append($0) }
                    owner.stream?.maxPendingBytes = maxPendingBytes
                }
            }
            client = try TestClient(port: harness.port)
            box.owner = self
            var small: Int32 = 16 << 10
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(4))
            client.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(eventually { self.harness.onLoop { self.stream != nil } })
            #expect(client.readUntil("\r\n\r\n") != nil)
        }
    }

    /// What the kernel does not take is queued and delivered in order, and a stream whose
    /// unsent bytes pass its bound is cut off as too slow, as with `write`.
    @Test func theRestOfAPartialFanOutWriteIsQueuedWithTheSameBound() throws {
        let slow = try SlowStream(maxPendingBytes: 16 << 20)
        let block = [UInt8](repeating: 0x78, count: 8 << 20)
        let first = slow.harness.onLoop { () -> (taken: Int, pending: Int) in
            guard let s = slow.stream, let w = s.fanOutWriter(for: block) else { return (-2, 0) }
            let n = SocketFanOut.write([w], threads: 1)[0]
            s.fanOutWritten(w, result: n)
            return (n, s.pendingBytes)
        }
        #expect(first.taken >= 0 && first.taken < block.count)
        // The rest is queued (the ordinary write may get a little more in first).
        #expect(first.pending > 0 && first.pending <= block.count - first.taken, "the rest is queued")
        // Over the bound: the same cut-off as `write`.
        let reasons = slow.harness.onLoop { () -> [ResponseStream.CloseReason] in
            for _ in 0..<4 where slow.stream?.isOpen == true { slow.stream?.write(block) }
            return slow.reasons
        }
        #expect(reasons == [.tooSlow])
        #expect(slow.harness.stop() == 0)
    }

    /// The slow-consumer bound applies to what a fan-out write leaves queued, at once.
    @Test func aFanOutWriteThatLeavesTooMuchQueuedCutsTheStreamOff() throws {
        let slow = try SlowStream(maxPendingBytes: 1 << 20)
        let block = [UInt8](repeating: 0x79, count: 16 << 20)
        let reasons = slow.harness.onLoop { () -> [ResponseStream.CloseReason] in
            guard let s = slow.stream, let w = s.fanOutWriter(for: block) else { return [] }
            s.fanOutWritten(w, result: SocketFanOut.write([w], threads: 1)[0])
            return slow.reasons
        }
        #expect(reasons == [.tooSlow])
        #expect(slow.harness.stop() == 0)
    }
}
