import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// One libuv event loop (`uv_loop_t`).
///
/// Loop-confined: every method except `execute(_:)` and `stop()` from inside a
/// callback must be called on the thread that runs the loop (or before it runs).
/// `execute(_:)` is the one thread-safe entry point: other threads (e.g. a store's
/// writer thread) use it to hand completions to the loop.
public final class EventLoop {
    let uvLoop: UnsafeMutablePointer<uv_loop_t>
    /// The `uv_async_t` behind `execute`; not a `LoopHandle` (the loop owns it).
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    /// The `uv_prepare_t` behind `turn`; like `wakeup`, the loop's own (unref'd, closed in `close()`).
    private let turnCounter: UnsafeMutablePointer<uv_prepare_t>
    private let mutex: UnsafeMutablePointer<uv_mutex_t>
    /// Guarded by `mutex`.
    private var queue: [() -> Void] = []
    /// Guarded by `mutex`: once true, `execute` refuses work (the async handle is gone).
    private var acceptsWork = true
    private var closed = false
    /// The shared read buffer every TCP read on this loop uses (see `ReadBuffer`).
    let readBuffer = ReadBuffer(capacity: 64 * 1024)

    /// Creates and initialises a loop. Traps if libuv cannot (out of memory / fds).
    public init() {
        // libuv writes with write(2): see `System.ignoreBrokenPipes`.
        System.ignoreBrokenPipes()
        uvLoop = .allocate(capacity: 1)
        precondition(uv_loop_init(uvLoop) == 0, "uv_loop_init failed")
        mutex = .allocate(capacity: 1)
        precondition(uv_mutex_init(mutex) == 0, "uv_mutex_init failed")
        wakeup = .allocate(capacity: 1)
        turnCounter = .allocate(capacity: 1)
        precondition(uv_async_init(uvLoop, wakeup, EventLoop.wakeupCallback) == 0)
        // Unowned back-pointer: the loop outlives its own async handle (closed in `close()`).
        wakeup.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        // The wake-up handle must not keep `run()` alive on its own.
        uv_unref(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self))
        precondition(uv_prepare_init(uvLoop, turnCounter) == 0)
        turnCounter.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_prepare_start(turnCounter, EventLoop.turnCallback)
        uv_unref(UnsafeMutableRawPointer(turnCounter).assumingMemoryBound(to: uv_handle_t.self))
        uvLoop.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        if !closed { _ = close() }
        uvLoop.deallocate()
        wakeup.deallocate()
        turnCounter.deallocate()
        uv_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs the loop on the calling thread until no active, referenced handles are
    /// left or `stop()` is called. Returns true if `stop()` ended it with handles alive.
    @discardableResult
    public func run() -> Bool {
        uv_run(uvLoop, UV_RUN_DEFAULT) != 0
    }

    /// Runs one iteration without blocking (`UV_RUN_NOWAIT`); used by tests and `close()`.
    @discardableResult
    public func runOnce() -> Bool { uv_run(uvLoop, UV_RUN_NOWAIT) != 0 }

    /// Makes `run()` return after the current iteration. Loop thread only.
    public func stop() { uv_stop(uvLoop) }

    /// Loop time in milliseconds (cached at the start of each iteration; monotonic).
    public var now: UInt64 { uv_now(uvLoop) }

    /// The loop's turn: counts its iterations, bumped just before each poll for I/O. Every I/O
    /// callback of one iteration (reads, writes, `execute` work) sees the same value, and a
    /// request read after a response was written is read in a later turn. For answers that
    /// may be built once per turn (`/health` under a flood of probes). Loop thread only.
    public private(set) var turn: UInt64 = 0

    private static let turnCallback: uv_prepare_cb = { handle in
        guard let data = handle?.pointee.data else { return }
        Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue().turn &+= 1
    }

    /// Refreshes the cached loop time (`now`) — useful after long synchronous work.
    public func updateTime() { uv_update_time(uvLoop) }

    /// A monotonic high-resolution clock in nanoseconds (for latency measurements).
    public static var hrtime: UInt64 { uv_hrtime() }

    /// Whether the internal wake-up handle keeps `run()` alive. Default false, so
    /// `run()` ends when the last user handle closes; `EventLoopThread` sets it true
    /// while it wants the loop to wait for `execute` work.
    public var keepsAliveForWork: Bool = false {
        didSet {
            guard !closed else { return }
            let h = UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self)
            if keepsAliveForWork { uv_ref(h) } else { uv_unref(h) }
        }
    }

    /// Thread-safe: queues `work` to run on the loop thread in FIFO order and wakes the
    /// loop. Returns false (and drops `work`) once the loop is closing.
    @discardableResult
    public func execute(_ work: @escaping () -> Void) -> Bool {
        uv_mutex_lock(mutex)
        defer { uv_mutex_unlock(mutex) }
        guard acceptsWork else { return false }
        queue.append(work)
        // Sent under the lock so it cannot race with `close()` closing the handle.
        uv_async_send(wakeup)
        return true
    }

    private static let wakeupCallback: uv_async_cb = { handle in
        guard let data = handle?.pointee.data else { return }
        Unmanaged<EventLoop>.fromOpaque(data).takeUnretainedValue().drainQueue()
    }

    private func drainQueue() {
        // Several sends may coalesce into one callback, so take everything queued.
        while true {
            uv_mutex_lock(mutex)
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            uv_mutex_unlock(mutex)
            if batch.isEmpty { return }
            for work in batch { work() }
        }
    }

    /// The number of user handles currently open and not closing.
    public var openHandleCount: Int {
        var context = WalkContext(skip: UnsafeMutableRawPointer(wakeup), alsoSkip: UnsafeMutableRawPointer(turnCounter))
        withUnsafeMutablePointer(to: &context) { ctx in
            uv_walk(uvLoop, { h, arg in
                let ctx = arg!.assumingMemoryBound(to: WalkContext.self)
                if let h, !ctx.pointee.skips(h), uv_is_closing(h) == 0 {
                    ctx.pointee.count += 1
                }
            }, ctx)
        }
        return context.count
    }

    /// A walk over the user's handles: the loop's own two (`wakeup`, `turnCounter`) are skipped.
    private struct WalkContext {
        var skip: UnsafeMutableRawPointer
        var alsoSkip: UnsafeMutableRawPointer
        var count = 0
        var handles: [LoopHandle] = []

        func skips(_ h: UnsafeMutablePointer<uv_handle_t>) -> Bool {
            let raw = UnsafeMutableRawPointer(h)
            return raw == skip || raw == alsoSkip
        }
    }

    /// Closes the loop: runs queued `execute` work, closes every handle still open
    /// (through its Swift owner, so retains are balanced), runs the loop until all
    /// close callbacks ran, then `uv_loop_close`. Returns how many user handles were
    /// still open — a graceful shutdown must return 0. Loop thread only, not from
    /// inside a callback. Idempotent (later calls return 0).
    @discardableResult
    public func close() -> Int {
        guard !closed else { return 0 }
        drainQueue()
        var context = WalkContext(skip: UnsafeMutableRawPointer(wakeup), alsoSkip: UnsafeMutableRawPointer(turnCounter))
        withUnsafeMutablePointer(to: &context) { ctx in
            uv_walk(uvLoop, { h, arg in
                let ctx = arg!.assumingMemoryBound(to: WalkContext.self)
                guard let h, !ctx.pointee.skips(h), uv_is_closing(h) == 0 else { return }
                ctx.pointee.count += 1
                if let data = h.pointee.data {
                    ctx.pointee.handles.append(Unmanaged<LoopHandle>.fromOpaque(data).takeUnretainedValue())
                }
            }, ctx)
        }
        let leaked = context.count
        for handle in context.handles { handle.close() }
        context.handles = []
        uv_mutex_lock(mutex)
        acceptsWork = false
        let late = queue
        queue = []
        uv_mutex_unlock(mutex)
        for work in late { work() }
        uv_close(UnsafeMutableRawPointer(wakeup).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(turnCounter).assumingMemoryBound(to: uv_handle_t.self), nil)
        // Let every pending close callback run (they free handle memory).
        while uv_run(uvLoop, UV_RUN_NOWAIT) != 0 {}
        _ = uv_run(uvLoop, UV_RUN_NOWAIT)
        let rc = uv_loop_close(uvLoop)
        assert(rc == 0, "uv_loop_close: \(UVError(rc))")
        closed = true
        return leaked
    }
}

/// The loop-wide read buffer handed to libuv by every TCP read on a loop.
///
/// libuv calls alloc → read → read callback synchronously for one read, so a single
/// buffer per loop is enough and an idle connection costs no buffer memory at all.
/// Bytes are lent to Swift as `ReadChunk`s valid only during the read callback; the
/// generation counter turns any use after that into a trap instead of a stale read.
final class ReadBuffer {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    var generation: UInt64 = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 16)
        base.bindMemory(to: UInt8.self, capacity: capacity)
    }

    deinit { base.deallocate() }
}

/// Bytes received by one read, lent without copying from the loop's shared buffer.
///
/// Valid only inside the read callback that delivered it: copy what you keep
/// (`Array(chunk)` or `append(contentsOf:)`, which uses one `memcpy`). Using it later
/// traps (checked with a generation counter), it never shows other reads' bytes.
public struct ReadChunk: RandomAccessCollection {
    // The buffer is only touched on the loop thread, inside the read callback.
    let buffer: ReadBuffer
    let generation: UInt64
    public let startIndex: Int
    public let endIndex: Int

    init(buffer: ReadBuffer, count: Int) {
        self.buffer = buffer
        self.generation = buffer.generation
        self.startIndex = 0
        self.endIndex = count
    }

    private init(buffer: ReadBuffer, generation: UInt64, range: Range<Int>) {
        self.buffer = buffer
        self.generation = generation
        self.startIndex = range.lowerBound
        self.endIndex = range.upperBound
    }

    @inline(__always) private func checkValid() {
        precondition(generation == buffer.generation, "ReadChunk used after its read callback returned")
    }

    public subscript(position: Int) -> UInt8 {
        checkValid()
        precondition(position >= startIndex && position < endIndex, "ReadChunk index out of range")
        return buffer.base.load(fromByteOffset: position, as: UInt8.self)
    }

    public subscript(bounds: Range<Int>) -> ReadChunk {
        precondition(bounds.lowerBound >= startIndex && bounds.upperBound <= endIndex)
        return ReadChunk(buffer: buffer, generation: generation, range: bounds)
    }

    /// Bulk copy used by `Array.append(contentsOf:)` and friends: one `memcpy`.
    public func _copyContents(initializing target: UnsafeMutableBufferPointer<UInt8>) -> (IndexingIterator<ReadChunk>, Int) {
        checkValid()
        let n = Swift.min(target.count, endIndex - startIndex)
        if n > 0, let dst = target.baseAddress {
            dst.initialize(from: buffer.base.assumingMemoryBound(to: UInt8.self) + startIndex, count: n)
        }
        return (self[(startIndex + n)..<endIndex].makeIterator(), n)
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        checkValid()
        let typed = buffer.base.assumingMemoryBound(to: UInt8.self)
        return try body(UnsafeBufferPointer(start: typed + startIndex, count: endIndex - startIndex))
    }
}
