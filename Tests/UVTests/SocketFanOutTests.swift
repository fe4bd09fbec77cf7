import Testing
import Glibc
@testable import UV

@Suite struct SocketFanOutTests {
    /// A blocking client socket connected to 127.0.0.1:`port`.
    private func connectClient(port: Int, receiveBuffer: Int32? = nil) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(4)) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(port).bigEndian)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        precondition(rc == 0, "connect failed")
        return fd
    }

    /// Everything the peer sends until it closes.
    private func readToEnd(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    private func payload(_ i: Int) -> [UInt8] { (0..<(1000 + i * 7)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) } }

    @Test(arguments: [1, 2, 4])
    func everySocketGetsItsOwnBytesOnAnyNumberOfThreads(threads: Int) throws {
        // Above the parallel threshold, odd (chunks of unequal size), and under the smallest
        // accept queue (somaxconn 128 on older kernels): every connect completes before accept.
        let count = 101
        let loop = EventLoop()
        let listener = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0))
        var accepted: [TCPConnection] = []
        var results: [Int] = []
        var writeCounts: [Int] = []
        try listener.listen { conn in
            accepted.append(conn)
            guard accepted.count == count else { return }
            // Peer order is accept order; payloads are told apart by their first bytes below.
            let writes = accepted.enumerated().compactMap { i, c in c.fanOutWriter(for: self.payload(i)) }
            writeCounts = writes.map(\.bytes.count)
            results = SocketFanOut.write(writes, threads: threads)
            for c in accepted { c.close() }
            listener.close()
        }
        let port = try #require(listener.localAddress).port
        let clients = (0..<count).map { _ in connectClient(port: port) }
        loop.run()
        #expect(results.count == count)
        #expect(results == writeCounts, "every write was taken whole by an idle socket")
        // Each client holds exactly one of the payloads, each payload reached one client.
        var seen = Set<[UInt8]>()
        for fd in clients {
            let got = readToEnd(fd)
            close(fd)
            seen.insert(got)
        }
        #expect(seen == Set((0..<count).map(payload)))
        #expect(loop.close() == 0)
    }

    @Test func aFullSocketTakesPartOfTheBytesAndAQueuedOneGetsNoWriter() throws {
        let loop = EventLoop()
        let listener = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0))
        var taken = -2
        var queuedGotWriter: Bool?
        let big = [UInt8](repeating: 0x62, count: 8 << 20)
        try listener.listen { conn in
            let w = try! #require(conn.fanOutWriter(for: big))
            taken = SocketFanOut.write([w], threads: 2)[0]
            // The rest would be queued the ordinary way; once something is queued, no writer.
            conn.write(Array(big[max(0, taken)...]))
            queuedGotWriter = conn.fanOutWriter(for: [1, 2, 3]) != nil
            conn.close()
            listener.close()
        }
        let port = try #require(listener.localAddress).port
        let client = connectClient(port: port, receiveBuffer: 4096)
        loop.run()
        close(client)
        #expect(taken > 0 && taken < big.count, "a peer that does not read takes only what fits its buffers (\(taken))")
        #expect(queuedGotWriter == false)
        #expect(loop.close() == 0)
    }
}
