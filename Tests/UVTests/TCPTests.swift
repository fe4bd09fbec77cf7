import Testing
import Glibc
@testable import UV

@Suite struct TCPTests {
    /// Echo server on port 0; a libuv client sends bytes and reads them back.
    @Test(arguments: ["127.0.0.1:0", "[::1]:0"])
    func echoOverLoopback(address: String) throws {
        let loop = EventLoop()
        let listener = try TCPListener(loop: loop, address: SocketAddress(parsing: address)!)
        let bound = try #require(listener.localAddress)
        #expect(bound.port != 0)
        var serverSide: TCPConnection?
        try listener.listen { conn in
            serverSide = conn
            conn.startReading(onData: { chunk in conn.write(Array(chunk)) },
                              onEnd: { _ in conn.close() })
        }
        var received: [UInt8] = []
        let payload = Array("hello, libuv".utf8)
        TCPConnection.connect(loop: loop, to: bound) { result in
            guard case .success(let client) = result else { Issue.record("connect failed"); listener.close(); return }
            client.write(payload)
            client.startReading(onData: { chunk in
                received.append(contentsOf: chunk)
                if received.count >= payload.count {
                    client.close()
                    listener.close()
                }
            }, onEnd: { _ in client.close(); listener.close() })
        }
        loop.run()
        #expect(received == payload)
        #expect(serverSide != nil)
        #expect(loop.close() == 0)
    }

    @Test func bindingAnInvalidAddressThrows() {
        let loop = EventLoop()
        #expect(throws: UVError.self) { _ = try TCPListener(loop: loop, address: SocketAddress(host: "not-an-ip", port: 1)) }
        #expect(loop.close() == 0)
    }

    @Test func bindingAPortInUseThrows() throws {
        let loop = EventLoop()
        let a = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0))
        try a.listen { $0.close() }
        let port = try #require(a.localAddress).port
        #expect(throws: UVError.self) {
            let b = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: port))
            try b.listen { $0.close() }
        }
        a.close()
        loop.run()
        #expect(loop.close() == 0)
    }

    /// A peer that does not read makes `write` queue bytes; the queue size is reported.
    @Test func writeQueueGrowsWhenPeerDoesNotRead() throws {
        let loop = EventLoop()
        let listener = try TCPListener(loop: loop, address: SocketAddress(host: "127.0.0.1", port: 0))
        var queued = 0
        var completions = 0
        try listener.listen { conn in
            let block = [UInt8](repeating: 0x61, count: 1 << 20)
            for _ in 0..<16 { conn.write(block) { _ in completions += 1 } }
            queued = conn.writeQueueSize
            conn.close()
            listener.close()
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(listener.localAddress!.port).bigEndian)
        sin.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(rc == 0)
        loop.run()
        Glibc.close(fd)
        #expect(queued > 1 << 20)
        #expect(completions == 16) // queued writes complete (cancelled) on close
        #expect(loop.close() == 0)
    }
}

@Suite struct ReadChunkTests {
    @Test func chunkCopiesAndSlicesTheLentBytes() {
        let rb = ReadBuffer(capacity: 16)
        for i in 0..<16 { rb.base.storeBytes(of: UInt8(i), toByteOffset: i, as: UInt8.self) }
        let chunk = ReadChunk(buffer: rb, count: 10)
        #expect(Array(chunk) == Array(0..<10))
        var a: [UInt8] = [99]
        a.append(contentsOf: chunk[3..<6])
        #expect(a == [99, 3, 4, 5])
        #expect(chunk.withContiguousStorageIfAvailable { Array($0) } == Array(0..<10))
        #expect(chunk.count == 10)
    }
}
