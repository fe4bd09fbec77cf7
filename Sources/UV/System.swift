#if canImport(Glibc)
import Glibc
#endif

/// The one place UV makes system calls itself (libuv makes the others), as SwiftNIO's
/// `System.swift` is for NIO: each call retried on EINTR, failures returned as `errno`, so no
/// caller repeats that loop or reads `errno` after something else may have changed it.
public enum System {
    /// A failed call's `errno`.
    public struct Errno: Error, Hashable, Sendable {
        public let code: Int32
    }

    /// Runs `call` until it returns something other than -1 with EINTR.
    @inline(__always)
    static func retryingOnEINTR<T: BinaryInteger>(_ call: () -> T) -> Result<T, Errno> {
        while true {
            let result = call()
            if result != -1 { return .success(result) }
            let code = errno
            if code != EINTR { return .failure(Errno(code: code)) }
        }
    }

    /// `send(2)` without SIGPIPE and without blocking: the bytes the kernel took (0 when its
    /// buffer is full), or the error.
    static func sendNonBlocking(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .success(0) }
        switch retryingOnEINTR({ Glibc.send(fd, base, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }) {
        case .success(let n): return .success(n)
        case .failure(let e) where e.code == EAGAIN || e.code == EWOULDBLOCK: return .success(0)
        case .failure(let e): return .failure(e)
        }
    }

    /// `write(2)` of all of `bytes` to `fd`, continuing after partial writes: one call for a
    /// short line, so lines written by several threads to one pipe do not interleave (up to
    /// PIPE_BUF bytes). Blocking: for log lines on standard output or error.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Errno? {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                switch retryingOnEINTR({ Glibc.write(fd, raw.baseAddress! + done, raw.count - done) }) {
                case .success(let n): done += n
                case .failure(let e): return e
                }
            }
            return nil
        }
    }

    /// A write to a peer that already closed (routine for event streams) must fail with EPIPE,
    /// not raise SIGPIPE and kill the process. Process-wide.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Idle keep-alive connections and SSE subscribers each hold a descriptor: lifts the soft
    /// limit of open files to the hard one, so the connection cap, not the OS, is what limits
    /// them. Best effort.
    public static func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
