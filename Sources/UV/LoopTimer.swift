import CLibUV

/// A `uv_timer_t`: one-shot or repeating callbacks on the loop. Loop-confined.
public final class LoopTimer: LoopHandle {
    private var callback: (() -> Void)?

    public init(loop: EventLoop) {
        super.init(loop: loop, storageFor: uv_timer_t.self)
        // uv_timer_init cannot fail for a valid loop.
        precondition(uv_timer_init(loop.uvLoop, raw!.assumingMemoryBound(to: uv_timer_t.self)) == 0)
        adopt()
    }

    private var timer: UnsafeMutablePointer<uv_timer_t>? { raw?.assumingMemoryBound(to: uv_timer_t.self) }

    /// (Re)starts the timer: `callback` fires after `timeout` ms, then every `repeat`
    /// ms if `repeat > 0`. Replaces any earlier schedule and callback.
    public func start(timeout: UInt64, repeat: UInt64 = 0, _ callback: @escaping () -> Void) {
        guard !isClosed, let timer else { return }
        self.callback = callback
        uv_timer_start(timer, { t in
            LoopHandle.object(UnsafeMutableRawPointer(t), as: LoopTimer.self)?.callback?()
        }, timeout, `repeat`)
    }

    /// Stops the timer (it can be started again).
    public func stop() {
        guard !isClosed, let timer else { return }
        uv_timer_stop(timer)
    }

    /// Whether the timer is scheduled.
    public var isActive: Bool {
        guard !isClosed, let h = uvHandle else { return false }
        return uv_is_active(h) != 0
    }

    override func willClose() { callback = nil }
}

/// Runs `handler` on the loop when a signal arrives (`uv_signal_t`). Loop-confined.
public final class SignalWatcher: LoopHandle {
    private var handler: ((Int32) -> Void)?

    /// Starts watching `signal` (e.g. `SIGINT`, `SIGTERM`).
    public init(loop: EventLoop, signal: Int32, handler: @escaping (Int32) -> Void) throws {
        super.init(loop: loop, storageFor: uv_signal_t.self)
        let sig = raw!.assumingMemoryBound(to: uv_signal_t.self)
        let rc = uv_signal_init(loop.uvLoop, sig)
        guard rc == 0 else { discardUninitialised(); throw UVError(rc) }
        adopt()
        self.handler = handler
        let started = uv_signal_start(sig, { s, signum in
            LoopHandle.object(UnsafeMutableRawPointer(s), as: SignalWatcher.self)?.handler?(signum)
        }, signal)
        if started != 0 { close(); throw UVError(started) }
    }

    override func willClose() { handler = nil }
}

/// A `uv_async_t` wake-up: `send()` may be called from any thread; `handler` runs on
/// the loop (several sends may coalesce into one call). For general work hand-off
/// prefer `EventLoop.execute`.
public final class AsyncWakeup: LoopHandle, @unchecked Sendable {
    private var handler: (() -> Void)?
    private let mutex: UnsafeMutablePointer<uv_mutex_t>
    private var sendable = true // guarded by mutex

    public init(loop: EventLoop, handler: @escaping () -> Void) throws {
        mutex = .allocate(capacity: 1)
        uv_mutex_init(mutex)
        super.init(loop: loop, storageFor: uv_async_t.self)
        self.handler = handler
        let rc = uv_async_init(loop.uvLoop, raw!.assumingMemoryBound(to: uv_async_t.self), { a in
            LoopHandle.object(UnsafeMutableRawPointer(a), as: AsyncWakeup.self)?.handler?()
        })
        guard rc == 0 else { discardUninitialised(); throw UVError(rc) }
        adopt()
    }

    deinit {
        uv_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Thread-safe. Returns false once the handle is closing.
    @discardableResult
    public func send() -> Bool {
        uv_mutex_lock(mutex)
        defer { uv_mutex_unlock(mutex) }
        guard sendable, let raw else { return false }
        return uv_async_send(raw.assumingMemoryBound(to: uv_async_t.self)) == 0
    }

    override func willClose() {
        uv_mutex_lock(mutex)
        sendable = false
        uv_mutex_unlock(mutex)
        handler = nil
    }
}
