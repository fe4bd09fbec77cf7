import CLibUV

/// Runs an `EventLoop` on a dedicated thread until `finish()`.
///
/// Other threads reach the loop with `execute` (fire and forget) or `sync` (wait for
/// a result). `finish()` lets the loop end once every handle is closed, joins the
/// thread and closes the loop, returning the number of handles that were still
/// open (0 after a graceful shutdown).
public final class EventLoopThread: @unchecked Sendable {
    /// The loop; touch it only from the loop thread (inside `execute`/`sync`).
    public let loop: EventLoop
    private var thread = uv_thread_t()
    private var joined = false
    private let started: UnsafeMutablePointer<uv_sem_t>

    public init() {
        loop = EventLoop()
        loop.keepsAliveForWork = true
        started = .allocate(capacity: 1)
        uv_sem_init(started, 0)
        // Retain for the thread entry: released exactly once by the thread itself.
        let arg = Unmanaged.passRetained(self).toOpaque()
        let rc = uv_thread_create(&thread, { arg in
            let me = Unmanaged<EventLoopThread>.fromOpaque(arg!).takeRetainedValue()
            uv_sem_post(me.started)
            me.loop.run()
        }, arg)
        precondition(rc == 0, "uv_thread_create failed")
        uv_sem_wait(started)
    }

    deinit {
        uv_sem_destroy(started)
        started.deallocate()
    }

    /// Thread-safe: runs `work` on the loop thread.
    @discardableResult
    public func execute(_ work: @escaping () -> Void) -> Bool { loop.execute(work) }

    /// Thread-safe (not from the loop thread): runs `work` on the loop and waits.
    public func sync<T>(_ work: @escaping () throws -> T) throws -> T {
        let sem = UnsafeMutablePointer<uv_sem_t>.allocate(capacity: 1)
        uv_sem_init(sem, 0)
        defer { uv_sem_destroy(sem); sem.deallocate() }
        let box = ResultBox<T>()
        let queued = loop.execute {
            box.result = Result { try work() }
            uv_sem_post(sem)
        }
        guard queued else { throw UVError.closed }
        uv_sem_wait(sem)
        return try box.result!.get()
    }

    /// Lets the loop end once no handle keeps it alive, waits for the thread, then
    /// closes the loop. Returns the number of handles still open at that point
    /// (they are force-closed). Call once, not from the loop thread.
    @discardableResult
    public func finish() -> Int {
        guard !joined else { return 0 }
        joined = true
        loop.execute { [loop] in loop.keepsAliveForWork = false }
        uv_thread_join(&thread)
        return loop.close()
    }

    /// Like `finish()`, but first stops the loop even if handles are still active.
    @discardableResult
    public func stopAndFinish() -> Int {
        guard !joined else { return 0 }
        loop.execute { [loop] in loop.keepsAliveForWork = false; loop.stop() }
        joined = true
        uv_thread_join(&thread)
        return loop.close()
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
