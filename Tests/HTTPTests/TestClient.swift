import Glibc
import Foundation
import Testing
@testable import HTTP
import Metrics
@testable import UV

/// A running server on its own loop thread, for socket tests.
final class ServerHarness: @unchecked Sendable {
    let thread: EventLoopThread
    let server: HTTPServer
    let port: Int
    let metrics: HTTPMetrics

    init(configure: (inout HTTPServerConfiguration) -> Void = { _ in }, routes: @escaping (Router) -> Void) throws {
        thread = EventLoopThread()
        var config = HTTPServerConfiguration(listen: [SocketAddress(host: "127.0.0.1", port: 0)])
        configure(&config)
        let finalConfig = config
        let registry = MetricsRegistry()
        let metrics = HTTPMetrics(registry: registry)
        self.metrics = metrics
        let loop = thread.loop
        let (server, port) = try thread.sync { () -> (HTTPServer, Int) in
            let router = Router()
            routes(router)
            let server = HTTPServer(loop: loop, configuration: finalConfig, router: router, metrics: metrics)
            let bound = try server.start()
            return (server, bound[0].port)
        }
        self.server = server
        self.port = port
    }

    /// Graceful shutdown; returns the loop's open-handle count at close (must be 0).
    func stop() -> Int {
        let sem = Semaphore()
        thread.execute { self.server.shutdown { sem.signal() } }
        sem.wait()
        return thread.finish()
    }

    func onLoop<T>(_ body: @escaping () -> T) -> T { try! thread.sync(body) }
}

final class Semaphore: @unchecked Sendable {
    private var sem = sem_t()
    init() { sem_init(&sem, 0, 0) }
    deinit { sem_destroy(&sem) }
    func signal() { sem_post(&sem) }
    func wait() { while sem_wait(&sem) != 0 {} }
}

/// A blocking POSIX TCP client with a receive timeout (generous: tests run on a loaded box).
final class TestClient {
    let fd: Int32
    private(set) var buffer: [UInt8] = []
    private(set) var closedByPeer = false

    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(port).bigEndian)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 { Glibc.close(fd); throw TestError.connectFailed }
    }

    deinit { Glibc.close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads once into the buffer; false on EOF, error or timeout.
    @discardableResult
    func readSome() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { buffer.append(contentsOf: chunk[0..<n]); return true }
        if n == 0 { closedByPeer = true }
        return false
    }

    /// Reads one complete Content-Length-framed response (or nil on timeout/EOF).
    func readResponse(headRequest: Bool = false) -> TestResponse? {
        while true {
            if let (response, used) = TestResponse.parse(buffer, headRequest: headRequest) {
                buffer.removeFirst(used)
                return response
            }
            if !readSome() { return nil }
        }
    }

    /// Reads until `text` appears in the buffer (or timeout/EOF). Returns the whole buffer as text.
    func readUntil(_ text: String) -> String? {
        while true {
            let s = String(decoding: buffer, as: UTF8.self)
            if s.contains(text) { return s }
            if !readSome() { return nil }
        }
    }

    /// Reads until the peer closes; true if it did (false on timeout).
    func readUntilClosed() -> Bool {
        while true {
            if !readSome() { return closedByPeer }
        }
    }
}

enum TestError: Error { case connectFailed }

struct TestResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var bodyText: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    static func parse(_ bytes: [UInt8], headRequest: Bool) -> (TestResponse, Int)? {
        let crlfcrlf: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == crlfcrlf }) else { return nil }
        let headText = String(decoding: bytes[0..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let c = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<c]), String(line[line.index(after: c)...]).trimmingCharacters(in: .whitespaces))
        }
        let length = headRequest || status == 100 ? 0 : Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        let start = end + 4
        guard bytes.count >= start + length else { return nil }
        return (TestResponse(status: status, headers: headers, body: Array(bytes[start..<start + length])), start + length)
    }
}

