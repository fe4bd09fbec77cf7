import CLibUV

/// A connected TCP stream. Loop-confined (the one exception: a `FanOutWrite` may write to
/// its socket from another thread while the loop thread waits in `SocketFanOut.write`).
///
/// Reads are delivered as `ReadChunk`s lent from the loop's shared buffer (no
/// per-connection read buffer). Writes first try `uv_try_write` and queue only the
/// unwritten remainder, so `writeQueueSize` is the backlog the kernel would not take.
public final class TCPConnection: LoopHandle {
    private var onData: ((ReadChunk) -> Void)?
    private var onEnd: ((UVError) -> Void)?
    public private(set) var isReading = false

    /// Creates an unconnected TCP handle (used by `TCPListener` and `connect`).
    init(loop: EventLoop) throws {
        super.init(loop: loop, storageFor: uv_tcp_t.self)
        let rc = uv_tcp_init(loop.uvLoop, raw!.assumingMemoryBound(to: uv_tcp_t.self))
        guard rc == 0 else { discardUninitialised(); throw UVError(rc) }
        adopt()
    }

    var stream: UnsafeMutablePointer<uv_stream_t>? { raw?.assumingMemoryBound(to: uv_stream_t.self) }
    private var tcp: UnsafeMutablePointer<uv_tcp_t>? { raw?.assumingMemoryBound(to: uv_tcp_t.self) }

    /// Connects to `address`; `completion` gets the connection or the error.
    /// On error the handle is already closed.
    public static func connect(loop: EventLoop, to address: SocketAddress,
                               completion: @escaping (Result<TCPConnection, UVError>) -> Void) {
        let connection: TCPConnection
        do { connection = try TCPConnection(loop: loop) } catch {
            completion(.failure(error as? UVError ?? .invalidArgument)); return
        }
        let box = ConnectRequest(connection: connection, completion: completion)
        let req = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        // Retain of the request box: released exactly once, in the connect callback,
        // or right below if uv_tcp_connect fails (then the callback never fires).
        req.pointee.data = Unmanaged.passRetained(box).toOpaque()
        let rc: Int32
        do {
            rc = try address.withSockAddr { sa in
                uv_tcp_connect(req, connection.tcp!, sa, { req, status in
                    let box = Unmanaged<ConnectRequest>.fromOpaque(req!.pointee.data).takeRetainedValue()
                    req!.deallocate()
                    if status == 0 { box.completion(.success(box.connection)) } else {
                        box.connection.close()
                        box.completion(.failure(UVError(status)))
                    }
                })
            }
        } catch { rc = (error as? UVError)?.code ?? UVError.invalidArgument.code }
        if rc != 0 {
            Unmanaged<ConnectRequest>.fromOpaque(req.pointee.data).release()
            req.deallocate()
            connection.close()
            completion(.failure(UVError(rc)))
        }
    }

    private final class ConnectRequest {
        let connection: TCPConnection
        let completion: (Result<TCPConnection, UVError>) -> Void
        init(connection: TCPConnection, completion: @escaping (Result<TCPConnection, UVError>) -> Void) {
            self.connection = connection
            self.completion = completion
        }
    }

    /// Enables or disables Nagle's algorithm being off (`TCP_NODELAY`).
    public func setNoDelay(_ enabled: Bool) {
        if let tcp, !isClosed { _ = uv_tcp_nodelay(tcp, enabled ? 1 : 0) }
    }

    /// The peer's address, if still connected.
    public var remoteAddress: SocketAddress? {
        guard let tcp, !isClosed else { return nil }
        var storage = sockaddr_storage()
        var len = Int32(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getpeername(tcp, $0, &len) == 0 }
        }
        return ok ? withUnsafePointer(to: &storage) { SocketAddress(storage: $0) } : nil
    }

    /// Starts (or resumes) reading. `onData` gets each chunk (valid only during the
    /// call); `onEnd` is called once with `UVError.eof` when the peer finished sending
    /// or with the read error; reading has stopped by then. The closures are kept
    /// until `close`, so later `startReading()` calls may omit them.
    public func startReading(onData: ((ReadChunk) -> Void)? = nil, onEnd: ((UVError) -> Void)? = nil) {
        if let onData { self.onData = onData }
        if let onEnd { self.onEnd = onEnd }
        guard !isReading, !isClosed, let stream else { return }
        let rc = uv_read_start(stream, TCPConnection.allocCallback, TCPConnection.readCallback)
        if rc == 0 { isReading = true } else { onEnd?(UVError(rc)) }
    }

    /// Stops reading (backpressure); `startReading()` resumes.
    public func stopReading() {
        guard isReading, !isClosed, let stream else { return }
        uv_read_stop(stream)
        isReading = false
    }

    private static let allocCallback: uv_alloc_cb = { handle, _, buf in
        // Every read on the loop shares one buffer: libuv consumes it before the
        // read callback returns, and an idle connection then costs no buffer memory.
        let loop = Unmanaged<EventLoop>.fromOpaque(handle!.pointee.loop.pointee.data).takeUnretainedValue()
        let rb = loop.readBuffer
        buf!.pointee = uv_buf_init(rb.base.assumingMemoryBound(to: CChar.self), UInt32(rb.capacity))
    }

    private static let readCallback: uv_read_cb = { stream, nread, _ in
        guard let connection = LoopHandle.object(UnsafeMutableRawPointer(stream), as: TCPConnection.self) else { return }
        if nread > 0 {
            let rb = connection.loop.readBuffer
            let chunk = ReadChunk(buffer: rb, count: nread)
            connection.onData?(chunk)
            rb.generation &+= 1 // invalidates `chunk` should it have escaped
        } else if nread < 0 {
            connection.stopReading()
            connection.onEnd?(UVError(Int32(nread)))
        }
    }

    /// Bytes accepted by `write` but not yet handed to the kernel.
    public var writeQueueSize: Int {
        guard let stream, !isClosed else { return 0 }
        return uv_stream_get_write_queue_size(stream)
    }

    /// Writes `bytes` in order after earlier writes. What the kernel takes right away
    /// is written synchronously; the rest is copied and queued. `completion` runs once:
    /// synchronously (before `write` returns) if everything was written at once or the
    /// write failed immediately, otherwise from the loop when the queued part is written
    /// (or with `UVError.cancelled` if the handle is closed first).
    public func write(_ bytes: [UInt8], completion: ((UVError?) -> Void)? = nil) {
        guard !isClosed, let stream else { completion?(UVError.closed); return }
        if bytes.isEmpty { completion?(nil); return }
        var offset = 0
        if uv_stream_get_write_queue_size(stream) == 0 {
            let n = bytes.withUnsafeBytes { raw -> Int32 in
                var buf = uv_buf_init(UnsafeMutableRawPointer(mutating: raw.baseAddress!).assumingMemoryBound(to: CChar.self),
                                      UInt32(raw.count))
                return uv_try_write(stream, &buf, 1)
            }
            if n >= 0 { offset = Int(n) } else if n != Int32(UV_EAGAIN.rawValue) && n != Int32(UV_ENOSYS.rawValue) {
                completion?(UVError(n)); return
            }
        }
        if offset == bytes.count { completion?(nil); return }
        let request = WriteRequest(bytes: bytes, from: offset, completion: completion)
        // Retain of the write request: released exactly once, in the write callback,
        // or right below if uv_write fails (then the callback never fires).
        let opaque = Unmanaged.passRetained(request).toOpaque()
        request.req.pointee.data = opaque
        var buf = uv_buf_init(request.storage.assumingMemoryBound(to: CChar.self), UInt32(request.count))
        let rc = uv_write(request.req, stream, &buf, 1, { req, status in
            let request = Unmanaged<WriteRequest>.fromOpaque(req!.pointee.data).takeRetainedValue()
            request.completion?(status == 0 ? nil : UVError(status))
        })
        if rc != 0 {
            Unmanaged<WriteRequest>.fromOpaque(opaque).release()
            completion?(UVError(rc))
        }
    }

    /// Finishes the write side after queued writes (`uv_shutdown`, FIN). `completion`
    /// runs once; synchronously if shutdown could not start.
    public func shutdown(_ completion: ((UVError?) -> Void)? = nil) {
        guard !isClosed, let stream else { completion?(UVError.closed); return }
        let box = ShutdownRequest(completion: completion)
        let req = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        // Retain of the shutdown box: released exactly once, in the shutdown callback,
        // or right below if uv_shutdown fails.
        req.pointee.data = Unmanaged.passRetained(box).toOpaque()
        let rc = uv_shutdown(req, stream, { req, status in
            let box = Unmanaged<ShutdownRequest>.fromOpaque(req!.pointee.data).takeRetainedValue()
            req!.deallocate()
            box.completion?(status == 0 ? nil : UVError(status))
        })
        if rc != 0 {
            Unmanaged<ShutdownRequest>.fromOpaque(req.pointee.data).release()
            req.deallocate()
            completion?(UVError(rc))
        }
    }

    override func willClose() {
        onData = nil
        onEnd = nil
        isReading = false
    }
}

/// One queued `uv_write`: owns a private copy of the unwritten bytes (Swift arrays
/// give no stable address beyond a closure) and the completion.
private final class WriteRequest {
    let req: UnsafeMutablePointer<uv_write_t>
    let storage: UnsafeMutableRawPointer
    let count: Int
    let completion: ((UVError?) -> Void)?

    init(bytes: [UInt8], from offset: Int, completion: ((UVError?) -> Void)?) {
        let n = bytes.count - offset
        let p = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 1)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        count = n
        storage = p
        req = .allocate(capacity: 1)
        self.completion = completion
    }

    deinit {
        storage.deallocate()
        req.deallocate()
    }
}

private final class ShutdownRequest {
    let completion: ((UVError?) -> Void)?
    init(completion: ((UVError?) -> Void)?) { self.completion = completion }
}
