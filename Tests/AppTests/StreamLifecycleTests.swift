import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import API
import HTTP
@testable import LiveFeeds
@testable import App

/// A blocking loopback socket that sends one request and reads what comes back.
private final class RawClient {
    let fd: Int32

    init(port: UInt16, request: String) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Reads until `marker` shows up, EOF or the 5 s timeout; returns everything read.
    func read(until marker: String?) -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
            if let marker, String(decoding: out, as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    deinit { close(fd) }
}

@Suite("SSE streams: lifecycle and framing")
struct StreamLifecycleTests {
    @Test("open event streams end cleanly on shutdown and leave zero open handles")
    func shutdownWithOpenStreams() throws {
        let server = try RunningServer()
        let port = UInt16(server.base.port!)
        var clients: [RawClient] = []
        for path in ["/streams/public", "/streams/queries/stats", "/streams/queries/orders", "/streams/queries/customers/c1"] {
            let c = try RawClient(port: port, request: "GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = c.read(until: "retry: ")
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.contains("text/event-stream"))
            #expect(head.contains(":ok\n\n"))
            clients.append(c)
        }
        #expect(server.stop() == 0)
        for c in clients { _ = c.read(until: nil) } // EOF, not a timeout
    }

    @Test("multi-line data is framed as several data: lines; ids and events stay single-line")
    func multiLineFraming() {
        let frame = ViewFeeds.frame(id: "orders:1\r\n", event: "stats", json: Array("{\"a\":1,\r\n\"b\":\"é\"\n}".utf8))
        #expect(String(decoding: frame, as: UTF8.self) == "id: orders:1\nevent: stats\ndata: {\"a\":1,\ndata: \"b\":\"é\"\ndata: }\n\n")
    }

    @Test("CORS: listed origins are echoed with Vary, others get nothing, * allows any")
    func corsPolicy() {
        let listed = CORSPolicy(origins: ["https://app.example/"])
        #expect(listed.headers(origin: "https://app.example")["Access-Control-Allow-Origin"] == "https://app.example")
        #expect(listed.headers(origin: "https://app.example")["Vary"] == "Origin")
        #expect(listed.headers(origin: "https://evil.example")["Access-Control-Allow-Origin"] == nil)
        #expect(listed.preflight(origin: "https://evil.example", methods: ["GET"], requestHeaders: nil).status == 403)
        #expect(CORSPolicy(origins: ["*"]).headers(origin: nil)["Access-Control-Allow-Origin"] == "*")
        #expect(CORSPolicy(origins: []).headers(origin: "https://app.example").count == 0)
    }

    @Test("live feed settings refuse impossible limits")
    func settingsValidation() {
        var s = LiveFeedSettings()
        #expect(throws: Never.self) { try s.validate() }
        s.maxSubscribers = 0
        #expect(throws: ConfigurationError.self) { try s.validate() }
        var threads = LiveFeedSettings()
        #expect((1...8).contains(threads.fanOutThreads))
        threads.fanOutThreads = 0
        #expect(throws: ConfigurationError.self) { try threads.validate() }
    }
}
