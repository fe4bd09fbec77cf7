import CLibUV
import Dispatch

/// One non-blocking write to a connection's socket, made while its loop thread waits: the
/// fan-out of one buffer to many subscribers (`SocketFanOut.write`).
///
/// Only valid while the connection is open and has nothing queued (so the bytes cannot
/// overtake earlier ones), and only while the loop thread waits for the write: get one
/// with `TCPConnection.fanOutWriter(for:)`, use it in `SocketFanOut.write` at once, drop it
/// (kept, it would hold a descriptor number the loop may close and reuse).
public struct FanOutWrite: @unchecked Sendable {
    /// The socket, which never leaves this module.
    let fd: Int32
    public let bytes: [UInt8]

    /// Bytes the kernel took (0 when its buffer is full), or -1 on an error (the caller writes
    /// the whole buffer the ordinary way, which meets the same error and closes).
    func perform() -> Int {
        bytes.withUnsafeBytes { raw -> Int in
            switch System.sendNonBlocking(fd, raw) {
            case .success(let n): return n
            case .failure: return -1
            }
        }
    }
}

extension TCPConnection {
    /// A writer for `bytes` usable off the loop thread while it waits, or nil when the
    /// connection is closed or has bytes queued (write the ordinary way then).
    public func fanOutWriter(for bytes: [UInt8]) -> FanOutWrite? {
        guard !isClosed, let stream, uv_stream_get_write_queue_size(stream) == 0 else { return nil }
        var fd = uv_os_fd_t(-1)
        guard uv_fileno(UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_handle_t.self), &fd) == 0 else { return nil }
        return FanOutWrite(fd: Int32(fd), bytes: bytes)
    }
}

/// Writes buffers to many sockets on several threads at once, the caller's among them, and
/// returns when all are done. On loopback most of a write's cost is the kernel's TCP work
/// (receive side included), so fanning one event out to 1,000 subscribers is ~1,000
/// syscalls that only more cores make faster. Call on the loop thread: it waits here, so
/// nothing else touches the connections meanwhile.
public enum SocketFanOut {
    /// Below this many writes one thread does them all (handing work over costs more).
    public static let parallelThreshold = 64

    /// Performs every write; result `i` is what `writes[i]` wrote (see `FanOutWrite`).
    public static func write(_ writes: [FanOutWrite], threads: Int) -> [Int] {
        var results = [Int](repeating: 0, count: writes.count)
        let chunks = writes.count < parallelThreshold ? 1 : max(1, min(threads, writes.count / (parallelThreshold / 2)))
        results.withUnsafeMutableBufferPointer { out in
            if chunks == 1 {
                for i in writes.indices { out[i] = writes[i].perform() }
                return
            }
            let slots = SendableSlots(out)
            // Interleaved (i, i + chunks, ...): the subscribers of each chunk are spread over
            // the list, so no chunk is all slow ones.
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                var i = chunk
                while i < writes.count {
                    slots.base[i] = writes[i].perform()
                    i += chunks
                }
            }
        }
        return results
    }

    /// The result buffer, shared by the chunks; each writes disjoint indices, and
    /// `concurrentPerform` returns only after all of them finished.
    private struct SendableSlots: @unchecked Sendable {
        let base: UnsafeMutableBufferPointer<Int>
        init(_ base: UnsafeMutableBufferPointer<Int>) { self.base = base }
    }
}
