import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import UV
import API
import EventStore
@testable import App

/// The real server (stores + HTTP) on its own loop thread, on a free loopback port,
/// talked to by an independent HTTP client (URLSession).
final class RunningServer: @unchecked Sendable {
    let thread = EventLoopThread()
    let server: TributaryServer
    let base: URL
    let dataDirectory: String
    private let ownsDirectory: Bool

    init(durability: Durability = .none, dataDirectory: String? = nil) throws {
        let dir = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-app-\(UUID().uuidString)").path
        self.dataDirectory = dir
        ownsDirectory = dataDirectory == nil
        var config = AppConfiguration()
        config.listen = ["127.0.0.1:0"]
        config.dataDirectory = dir
        config.durability = durability
        let loop = thread.loop
        let server = TributaryServer(configuration: config, loop: loop)
        let bound = try thread.sync { try server.start() }
        self.server = server
        base = URL(string: "http://127.0.0.1:\(bound[0].port)")!
    }

    /// Graceful shutdown; returns the number of libuv handles still open when the loop closed.
    func stop() -> Int {
        let done = DispatchSemaphore(value: 0)
        thread.execute { self.server.shutdown { done.signal() } }
        done.wait()
        let open = thread.finish()
        if ownsDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
        return open
    }

    func get(_ path: String, method: String = "GET") async throws -> (Int, [String: String], Data) {
        var request = URLRequest(url: base.appendingPathComponent(path))
        request.httpMethod = method
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
        return (http.statusCode, headers, data)
    }
}

@Suite("Server lifecycle")
struct ServerLifecycleTests {
    @Test("once serving, the loop thread is marked non-blocking (file I/O on it traps in debug builds); not after shutdown")
    func servingLoopIsMarkedNonBlocking() throws {
        let server = try RunningServer()
        #expect(try server.thread.sync { NonBlockingThread.isCurrent })
        #expect(!NonBlockingThread.isCurrent)   // this thread is not the loop
        let done = DispatchSemaphore(value: 0)
        server.thread.execute { server.server.shutdown { done.signal() } }
        done.wait()
        #expect(try server.thread.sync { NonBlockingThread.isCurrent } == false)
        #expect(server.thread.finish() == 0)
        try? FileManager.default.removeItem(atPath: server.dataDirectory)
    }

    @Test("health reports every store healthy, then shutdown leaves zero open handles")
    func healthAndCleanShutdown() async throws {
        let server = try RunningServer()
        let (status, headers, body) = try await server.get("/health")
        #expect(status == 200)
        #expect(headers["content-type"] == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(json["status"] as? String == "ok")
        let stores = try #require(json["stores"] as? [String: [String: Any]])
        #expect(Set(stores.keys) == ["customers", "orders", "public"])
        #expect(stores.values.allSatisfy { $0["status"] as? String == "healthy" })
        #expect(server.stop() == 0)
    }

    @Test("metrics count the requests already answered, by route and status")
    func metricsCountRequests() async throws {
        let server = try RunningServer()
        _ = try await server.get("/health")
        _ = try await server.get("/no-such-thing")
        let (status, headers, body) = try await server.get("/metrics")
        #expect(status == 200)
        #expect(headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains(#"http_requests_total{route="/health",method="GET",status="200"} 1"#))
        #expect(text.contains(#"http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
        #expect(text.contains("http_open_connections"))
        #expect(text.contains(#"tributary_store_healthy{store="public"} 1"#))
        // Totals kept by the stores are counters, read at scrape time.
        #expect(text.contains("# TYPE tributary_store_appends_total counter\n"))
        #expect(text.contains(#"tributary_store_appends_total{store="public"} 0"#))
        #expect(server.stop() == 0)
    }

    @Test("unknown paths and wrong methods answer problem+json 404 and 405 with Allow")
    func problemsForRoutingErrors() async throws {
        let server = try RunningServer()
        let (s404, h404, b404) = try await server.get("/nope")
        #expect(s404 == 404)
        #expect(h404["content-type"] == "application/problem+json")
        let p404 = try #require(try JSONSerialization.jsonObject(with: b404) as? [String: Any])
        #expect(p404["status"] as? Int == 404)
        let (s405, h405, _) = try await server.get("/health", method: "DELETE")
        #expect(s405 == 405)
        #expect(h405["allow"]?.contains("GET") == true)
        #expect(server.stop() == 0)
    }

    @Test("a second server on the same data directory is refused while the first holds it")
    func dataDirectoryIsLocked() throws {
        let first = try RunningServer()
        #expect(throws: (any Error).self) { _ = try RunningServer(dataDirectory: first.dataDirectory) }
        #expect(first.stop() == 0)
    }

    @Test("a listen address that does not parse is a configuration error, not a crash")
    func badListenAddress() throws {
        var config = AppConfiguration()
        config.listen = ["localhost"]
        let thread = EventLoopThread()
        let server = TributaryServer(configuration: config, loop: thread.loop)
        #expect(throws: ConfigurationError.self) { try thread.sync { try server.start() } }
        #expect(thread.finish() == 0)
    }
}
