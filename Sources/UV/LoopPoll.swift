import CLibUV

/// Watches a socket that another library owns (e.g. libpq's connection) for readiness
/// (`uv_poll_t`): the callback says whether it is readable, writable, or failed. The
/// descriptor stays the other library's: closing the watcher never closes it. A descriptor
/// that changes (after a reconnect) needs a new watcher. Loop-confined.
public final class LoopPoll: LoopHandle {
    /// What the callback was told.
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: Int32(UV_READABLE.rawValue))
        public static let writable = Events(rawValue: Int32(UV_WRITABLE.rawValue))
    }

    private var callback: ((Result<Events, UVError>) -> Void)?

    /// Starts watching socket `fd` (nothing is watched until `watch`).
    public init(loop: EventLoop, socket fd: Int32) throws {
        super.init(loop: loop, storageFor: uv_poll_t.self)
        let rc = uv_poll_init_socket(loop.uvLoop, raw!.assumingMemoryBound(to: uv_poll_t.self), uv_os_sock_t(fd))
        guard rc == 0 else { discardUninitialised(); throw UVError(rc) }
        adopt()
    }

    private var poll: UnsafeMutablePointer<uv_poll_t>? { raw?.assumingMemoryBound(to: uv_poll_t.self) }

    /// Watches for `events` (replacing what was watched); `callback` runs on the loop each
    /// time one of them is ready, or once with the error libuv reports.
    public func watch(_ events: Events, _ callback: @escaping (Result<Events, UVError>) -> Void) {
        guard !isClosed, let poll else { return }
        self.callback = callback
        let rc = uv_poll_start(poll, events.rawValue, { p, status, events in
            guard let watcher = LoopHandle.object(UnsafeMutableRawPointer(p), as: LoopPoll.self) else { return }
            watcher.callback?(status < 0 ? .failure(UVError(status)) : .success(Events(rawValue: events)))
        })
        if rc != 0 { callback(.failure(UVError(rc))) }
    }

    /// Stops watching (it can watch again).
    public func stop() {
        guard !isClosed, let poll else { return }
        uv_poll_stop(poll)
    }

    override func willClose() { callback = nil }
}
