import CLibUV

/// Base class of every Swift object that owns one libuv handle.
///
/// Ownership contract: once the libuv handle is initialised, `adopt()` stores a
/// `passRetained` reference to `self` in `handle->data`, so the Swift object stays
/// alive for as long as libuv may call back into it, even if the caller drops its
/// reference. That single retain is released in the close callback (`closeCallback`),
/// which is also the only place the handle memory is freed (libuv rule: free a handle
/// only in its close callback). Loop-confined: call only on the loop thread.
public class LoopHandle {
    /// The loop this handle belongs to.
    public let loop: EventLoop
    /// Raw storage for the concrete `uv_*_t`; nil after the close callback ran.
    var raw: UnsafeMutableRawPointer?
    private var closing = false
    private var onClosed: (() -> Void)?

    /// Allocates zeroed storage for a handle of type `T` (not yet initialised by libuv).
    init<T>(loop: EventLoop, storageFor type: T.Type) {
        self.loop = loop
        let p = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size,
                                                 alignment: MemoryLayout<T>.alignment)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
        self.raw = p
    }

    /// Frees the storage of a handle whose `uv_*_init` failed: libuv never saw it,
    /// so there is no close callback to wait for.
    func discardUninitialised() {
        raw?.deallocate()
        raw = nil
        closing = true
    }

    /// Called right after a successful `uv_*_init`: takes the retain described above.
    func adopt() {
        // Retain #1 of the handle: released exactly once in `closeCallback`.
        uvHandle!.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// The handle as the generic `uv_handle_t*` (all libuv handle structs start with it).
    var uvHandle: UnsafeMutablePointer<uv_handle_t>? {
        raw?.assumingMemoryBound(to: uv_handle_t.self)
    }

    /// True once `close` was called (or initialisation failed).
    public var isClosed: Bool { closing }

    /// Stops keeping the loop alive because of this handle (`uv_unref`).
    public func unref() { if !closing, let h = uvHandle { uv_unref(h) } }

    /// Keeps the loop alive while this handle is active (`uv_ref`, the default).
    public func ref() { if !closing, let h = uvHandle { uv_ref(h) } }

    /// Hook for subclasses: drop stored closures (breaks retain cycles) when closing.
    func willClose() {}

    /// Closes the handle. Idempotent: only the first call's `completion` is kept.
    /// `completion` runs on the loop, after libuv is done with the handle; pending
    /// requests (writes, shutdowns) have completed with `UVError.cancelled` by then.
    public func close(_ completion: (() -> Void)? = nil) {
        guard !closing, let h = uvHandle else { return }
        closing = true
        onClosed = completion
        willClose()
        uv_close(h, LoopHandle.closeCallback)
    }

    private static let closeCallback: uv_close_cb = { h in
        guard let h, let data = h.pointee.data else { return }
        // Balances the passRetained in `adopt()` (the one and only release).
        let object = Unmanaged<LoopHandle>.fromOpaque(data).takeRetainedValue()
        h.pointee.data = nil
        object.raw?.deallocate()
        object.raw = nil
        let done = object.onClosed
        object.onClosed = nil
        done?()
    }

    /// Recovers the Swift object from a handle's `data` without touching its retain count.
    static func object<T: LoopHandle>(_ h: UnsafeMutableRawPointer?, as type: T.Type) -> T? {
        guard let h else { return nil }
        guard let data = h.assumingMemoryBound(to: uv_handle_t.self).pointee.data else { return nil }
        return unsafeDowncast(Unmanaged<LoopHandle>.fromOpaque(data).takeUnretainedValue(), to: T.self)
    }
}
