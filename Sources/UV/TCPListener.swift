import CLibUV

/// A listening TCP socket (`uv_tcp_t` + `uv_listen`). Loop-confined.
public final class TCPListener: LoopHandle {
    private var onAccept: ((TCPConnection) -> Void)?
    private var onAcceptError: ((UVError) -> Void)?
    /// Whether accepted sockets get `TCP_NODELAY` (default true: responses are
    /// written whole, so Nagle only adds latency).
    public var noDelay = true

    /// Creates the socket and binds it to `address` (port 0 picks a free port;
    /// read it back from `localAddress`). IPv6 listeners are IPv6-only.
    public init(loop: EventLoop, address: SocketAddress) throws {
        super.init(loop: loop, storageFor: uv_tcp_t.self)
        let tcp = raw!.assumingMemoryBound(to: uv_tcp_t.self)
        let rc = uv_tcp_init(loop.uvLoop, tcp)
        guard rc == 0 else { discardUninitialised(); throw UVError(rc) }
        adopt()
        do {
            _ = try address.withSockAddr { sa in
                try UVError.check(uv_tcp_bind(tcp, sa, address.isIPv6 ? UInt32(UV_TCP_IPV6ONLY.rawValue) : 0))
            }
        } catch {
            close()
            throw error
        }
    }

    /// The bound address (useful after binding port 0).
    public var localAddress: SocketAddress? {
        guard !isClosed, let raw else { return nil }
        var storage = sockaddr_storage()
        var len = Int32(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                uv_tcp_getsockname(raw.assumingMemoryBound(to: uv_tcp_t.self), $0, &len) == 0
            }
        }
        guard ok else { return nil }
        return withUnsafePointer(to: &storage) { SocketAddress(storage: $0) }
    }

    /// Starts listening. `onAccept` receives each accepted connection (not yet
    /// reading); `onError` is told about accept failures (e.g. EMFILE), which do not
    /// stop the listener. If listening fails (e.g. `EADDRINUSE`, which libuv may only
    /// report here rather than at bind), the listener is closed and the error thrown.
    public func listen(backlog: Int32 = 1024, onError: ((UVError) -> Void)? = nil,
                       onAccept: @escaping (TCPConnection) -> Void) throws {
        guard !isClosed, let raw else { throw UVError.closed }
        self.onAccept = onAccept
        self.onAcceptError = onError
        let stream = raw.assumingMemoryBound(to: uv_stream_t.self)
        let rc = uv_listen(stream, backlog, { server, status in
            guard let listener = LoopHandle.object(UnsafeMutableRawPointer(server), as: TCPListener.self) else { return }
            listener.acceptOne(status: status)
        })
        if rc != 0 {
            close()
            throw UVError(rc)
        }
    }

    private func acceptOne(status: Int32) {
        guard status == 0 else { onAcceptError?(UVError(status)); return }
        guard let raw else { return }
        let connection: TCPConnection
        do { connection = try TCPConnection(loop: loop) } catch {
            onAcceptError?(error as? UVError ?? UVError.invalidArgument)
            return
        }
        let rc = uv_accept(raw.assumingMemoryBound(to: uv_stream_t.self), connection.stream!)
        guard rc == 0 else {
            connection.close()
            onAcceptError?(UVError(rc))
            return
        }
        if noDelay { connection.setNoDelay(true) }
        onAccept?(connection)
    }

    override func willClose() {
        onAccept = nil
        onAcceptError = nil
    }
}
