import Testing
import Glibc
@testable import HTTP
@testable import UV

@Suite(.serialized) struct ServerBasicsTests {
    static func routes(_ r: Router) {
        r.get("/hello") { _, res in res.respond(.text("hi")) }
        r.get("/items/{id}") { ctx, res in res.respond(.text("item=\(ctx.parameters["id"] ?? "?")")) }
        r.post("/items") { ctx, res in res.respond(.text("got \(ctx.request.body.count)", status: 201)) }
        r.get("/query") { ctx, res in res.respond(.text("q=\(ctx.query.all("q").joined(separator: "|"))")) }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        for _ in 0..<3 {
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = try #require(c.readResponse())
            #expect(r.status == 200)
            #expect(r.bodyText == "hi")
            #expect(r.header("Content-Length") == "2")
            #expect(r.header("Server") == "tributary")
            #expect(r.header("Date")?.hasSuffix("GMT") == true)
            #expect(r.header("Connection") == nil)
        }
        #expect(h.stop() == 0)
    }

    @Test func notFoundAndMethodNotAllowedWithAllow() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let a = try #require(c.readResponse())
        #expect(a.status == 404)
        #expect(a.header("Content-Type") == "application/problem+json")
        #expect(a.bodyText.contains("\"status\":404"))
        let b = try #require(c.readResponse())
        #expect(b.status == 405)
        #expect(b.header("Allow") == "GET, HEAD")
        #expect(h.stop() == 0)
    }

    @Test func percentDecodedParametersDoNotSplitOnEncodedSlash() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("GET /items/a%2Fb%20c HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.readResponse()?.bodyText == "item=a/b c")
        c.send("GET /query?q=a+b&q=%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.readResponse()?.bodyText == "q=a b|é")
        #expect(h.stop() == 0)
    }

    @Test func headGetsHeadersButNoBody() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try #require(c.readResponse(headRequest: true))
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "2")
        #expect(c.readResponse()?.bodyText == "hi") // the next response starts right after the head
        #expect(h.stop() == 0)
    }

    @Test func connectionCloseIsHonoured() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.header("Connection") == "close")
        #expect(c.readUntilClosed())
        #expect(c.buffer.isEmpty) // the pipelined second request was not answered
        #expect(h.stop() == 0)
    }

    @Test func http10ClosesByDefaultAndKeepsAliveWhenAsked() throws {
        let h = try ServerHarness(routes: Self.routes)
        let a = try TestClient(port: h.port)
        a.send("GET /hello HTTP/1.0\r\n\r\n")
        let r = try #require(a.readResponse())
        #expect(r.status == 200)
        #expect(r.header("Connection") == "close")
        #expect(a.readUntilClosed())
        let b = try TestClient(port: h.port)
        b.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(b.readResponse()?.header("Connection") == "keep-alive")
        b.send("GET /hello HTTP/1.0\r\n\r\n")
        #expect(b.readResponse()?.header("Connection") == "close")
        #expect(h.stop() == 0)
    }

    @Test func expectContinueGets100BeforeTheBody() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = try #require(c.readResponse())
        #expect(interim.status == 100)
        c.send("hello")
        let r = try #require(c.readResponse())
        #expect(r.status == 201)
        #expect(r.bodyText == "got 5")
        #expect(h.stop() == 0)
    }

    @Test func parseErrorAnswersProblemAndCloses() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 400)
        #expect(r.header("Connection") == "close")
        #expect(r.header("Content-Type") == "application/problem+json")
        #expect(c.readUntilClosed())
        #expect(h.stop() == 0)
    }

    @Test func tooLargeBodyIs413BeforeReadingIt() throws {
        let h = try ServerHarness(configure: { $0.limits.maxBodyBytes = 10 }, routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
        let r = try #require(c.readResponse())
        #expect(r.status == 413)
        #expect(c.readUntilClosed())
        #expect(h.stop() == 0)
    }

    @Test func metricsCountRequestsByRouteAndStatus() throws {
        let h = try ServerHarness(routes: Self.routes)
        let c = try TestClient(port: h.port)
        c.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        for _ in 0..<3 { _ = c.readResponse() }
        let (ok, missing, open) = h.onLoop {
            (h.metrics.requests.value(["/items/{id}", "GET", "200"]), h.metrics.requests.value(["unmatched", "GET", "404"]),
             h.metrics.openConnections.value())
        }
        #expect(ok == 2)
        #expect(missing == 1)
        #expect(open == 1)
        #expect(h.stop() == 0)
    }
}

@Suite(.serialized) struct ServerListenTests {
    @Test func listensOnIPv4AndIPv6AtOnceAndReportsBoundPorts() throws {
        let thread = EventLoopThread()
        var config = HTTPServerConfiguration(listen: [SocketAddress(host: "127.0.0.1", port: 0), SocketAddress(host: "::1", port: 0)])
        config.maxConnections = 10
        let cfg = config
        let loop = thread.loop
        let (server, bound) = try thread.sync { () -> (HTTPServer, [SocketAddress]) in
            let router = Router()
            router.get("/") { _, res in res.respond(.text("v")) }
            let s = HTTPServer(loop: loop, configuration: cfg, router: router)
            return (s, try s.start())
        }
        #expect(bound.count == 2)
        #expect(bound.allSatisfy { $0.port != 0 })
        #expect(bound[1].isIPv6)
        // IPv6 client.
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = in_port_t(UInt16(bound[1].port).bigEndian)
        inet_pton(AF_INET6, "::1", &sin6.sin6_addr)
        let rc = withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        #expect(rc == 0)
        let req = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = req.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buf = [UInt8](repeating: 0, count: 1024)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(n > 0 && String(decoding: buf[0..<max(0, n)], as: UTF8.self).hasSuffix("\r\n\r\nv"))
        let sem = Semaphore()
        thread.execute { server.shutdown { sem.signal() } }
        sem.wait()
        #expect(thread.finish() == 0)
    }

    @Test func startFailsCleanlyWhenThePortIsTaken() throws {
        let h = try ServerHarness { _ in }
        let thread = EventLoopThread()
        let loop = thread.loop
        let port = h.port
        let failed = try thread.sync { () -> Bool in
            let s = HTTPServer(loop: loop, configuration: HTTPServerConfiguration(listen: [SocketAddress(host: "127.0.0.1", port: port)]),
                               router: Router())
            do { _ = try s.start(); return false } catch { return true }
        }
        #expect(failed)
        #expect(thread.finish() == 0)
        #expect(h.stop() == 0)
    }
}
