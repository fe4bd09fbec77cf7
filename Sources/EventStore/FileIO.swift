import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file operations the file engine needs, injectable so tests can simulate full disks
/// and failing devices. Every failure throws `EventStoreError.io(errno:what:)`.
public protocol FileIO: AnyObject, Sendable {
    /// `open(2)`; returns the descriptor.
    func open(_ path: String, flags: Int32, mode: UInt32) throws -> Int32
    /// Writes all of `bytes` at `offset` (looping over short writes) or throws.
    func pwrite(_ fd: Int32, _ bytes: [UInt8], offset: Int64) throws
    /// Reads up to `count` bytes at `offset` into the start of `buffer` (which must be large
    /// enough); returns the number read, fewer only at end of file.
    func pread(_ fd: Int32, into buffer: inout [UInt8], count: Int, offset: Int64) throws -> Int
    /// `fdatasync(2)`: data (and the size) reach the device.
    func fdatasync(_ fd: Int32) throws
    /// `fsync(2)`, used on directories after creating or renaming entries.
    func fsync(_ fd: Int32) throws
    func ftruncate(_ fd: Int32, length: Int64) throws
    /// Current size of the open file.
    func fileSize(_ fd: Int32) throws -> Int64
    func close(_ fd: Int32)
    func rename(_ from: String, _ to: String) throws
    func unlink(_ path: String) throws
    /// Names (not paths) of the entries of a directory.
    func listDirectory(_ path: String) throws -> [String]
    /// Creates the directory and its parents if missing.
    func makeDirectory(_ path: String) throws
    /// Takes an exclusive, non-blocking `flock` (one process per data directory).
    func lockExclusive(_ fd: Int32) throws
}

/// Threads that must never wait on the disk: the app marks its loop thread once it serves, and
/// in debug builds every file system call of `SystemFileIO` traps on a marked thread. The whole
/// test suite runs that way, so "no file I/O on the loop" is checked, not just claimed.
public enum NonBlockingThread {
    private static let key = "tributary.non-blocking-thread"

    /// Marks the calling thread (the loop, once it serves requests).
    public static func markCurrent() { Thread.current.threadDictionary[key] = true }

    /// Clears the mark (the loop, when it shuts down and closes the stores).
    public static func unmarkCurrent() { Thread.current.threadDictionary.removeObject(forKey: key) }

    private static let queueKey = DispatchSpecificKey<Bool>()

    /// Marks a dispatch queue that stands in for the loop (the tests' `TestLoop`): work running
    /// on it counts as the loop's, so the same check guards the unit tests.
    public static func mark(_ queue: DispatchQueue) { queue.setSpecific(key: queueKey, value: true) }

    /// Clears a queue's mark.
    public static func unmark(_ queue: DispatchQueue) { queue.setSpecific(key: queueKey, value: nil) }

    /// Whether the calling thread is marked, or runs a marked queue's work.
    public static var isCurrent: Bool {
        Thread.current.threadDictionary[key] as? Bool == true || DispatchQueue.getSpecific(key: queueKey) == true
    }

    /// Debug builds: traps when called on a marked thread; nothing in release builds.
    @inline(__always)
    static func check(_ call: StaticString) {
        assert(!isCurrent, "file I/O (\(call)) on a non-blocking thread (the loop): move it to the store's threads")
    }
}

/// The real thing: thin wrappers over Glibc system calls.
public final class SystemFileIO: FileIO, @unchecked Sendable {
    public init() {}

    private func fail(_ what: String) -> EventStoreError { .io(errno: errno, what: what) }

    public func open(_ path: String, flags: Int32, mode: UInt32) throws -> Int32 {
        NonBlockingThread.check("open")
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode_t(mode))
            if fd >= 0 { return fd }
            if errno != EINTR { throw fail("open \(path)") }
        }
    }

    public func pwrite(_ fd: Int32, _ bytes: [UInt8], offset: Int64) throws {
        NonBlockingThread.check("pwrite")
        var done = 0
        var rest = bytes
        while done < bytes.count {
            // Array-to-pointer bridging passes `rest`'s storage directly; a short write (rare)
            // copies the remainder into a fresh array instead of doing pointer arithmetic.
            let n = Glibc.pwrite(fd, rest, rest.count, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write")
            }
            done += n
            if done < bytes.count { rest = Array(bytes[done...]) }
        }
    }

    public func pread(_ fd: Int32, into buffer: inout [UInt8], count: Int, offset: Int64) throws -> Int {
        NonBlockingThread.check("pread")
        precondition(buffer.count >= count)
        var total = 0
        var chunk = [UInt8]()
        while total < count {
            let n: Int
            if total == 0 {
                n = Glibc.pread(fd, &buffer, count, off_t(offset))
            } else {
                // A short read before EOF (rare): read the rest into a side buffer and copy.
                if chunk.count < count - total { chunk = [UInt8](repeating: 0, count: count - total) }
                n = Glibc.pread(fd, &chunk, count - total, off_t(offset + Int64(total)))
                if n > 0 { for i in 0..<n { buffer[total + i] = chunk[i] } }
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("read")
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    public func fdatasync(_ fd: Int32) throws {
        NonBlockingThread.check("fdatasync")
        if Glibc.fdatasync(fd) != 0 { throw fail("fdatasync") }
    }

    public func fsync(_ fd: Int32) throws {
        NonBlockingThread.check("fsync")
        if Glibc.fsync(fd) != 0 { throw fail("fsync") }
    }

    public func ftruncate(_ fd: Int32, length: Int64) throws {
        NonBlockingThread.check("ftruncate")
        if Glibc.ftruncate(fd, off_t(length)) != 0 { throw fail("ftruncate") }
    }

    public func fileSize(_ fd: Int32) throws -> Int64 {
        NonBlockingThread.check("fileSize")
        let end = lseek(fd, 0, SEEK_END)
        if end < 0 { throw fail("lseek") }
        return Int64(end)
    }

    public func close(_ fd: Int32) { _ = Glibc.close(fd) }

    public func rename(_ from: String, _ to: String) throws {
        NonBlockingThread.check("rename")
        if Glibc.rename(from, to) != 0 { throw fail("rename \(from)") }
    }

    public func unlink(_ path: String) throws {
        NonBlockingThread.check("unlink")
        if Glibc.unlink(path) != 0 { throw fail("unlink \(path)") }
    }

    public func listDirectory(_ path: String) throws -> [String] {
        NonBlockingThread.check("listDirectory")
        do { return try FileManager.default.contentsOfDirectory(atPath: path) } catch { throw EventStoreError.io(errno: ENOENT, what: "list \(path)") }
    }

    public func makeDirectory(_ path: String) throws {
        NonBlockingThread.check("makeDirectory")
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch { throw EventStoreError.io(errno: EACCES, what: "mkdir \(path)") }
    }

    public func lockExclusive(_ fd: Int32) throws {
        NonBlockingThread.check("lockExclusive")
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { throw fail("lock data directory (is another process using it?)") }
    }
}

/// Wraps a `FileIO` and injects failures, for tests and the `TRIBUTARY_FAULT_INJECT` hook:
/// ENOSPC/EIO on write (optionally after writing part of the buffer, like a real full disk) or
/// on fdatasync, once or for as long as a condition holds. Only files whose path contains
/// `pathFilter` (default: log segments) are affected, and the store's space probe by the
/// lasting write failures (it must see the same full disk as the log).
public final class FaultInjectingFileIO: FileIO, @unchecked Sendable {
    private let base: FileIO
    private let lock = NSLock()
    private var paths: [Int32: String] = [:]
    private var writeFaults: [(errno: Int32, afterBytes: Int)] = []
    private var syncFaults: [Int32] = []
    private var lastingWriteFault: (errno: () -> Int32?, what: String)?
    /// Seconds every read and every sync of any file takes first (a slow disk); 0: none.
    private var latency: Double = 0
    public let pathFilter: String

    public init(wrapping base: FileIO = SystemFileIO(), pathFilter: String = ".seg") {
        self.base = base
        self.pathFilter = pathFilter
    }

    /// The next write fails with `code` after writing `afterBytes` bytes of its buffer.
    public func failNextWrite(errno code: Int32, afterBytes: Int = 0) {
        lock.lock(); writeFaults.append((code, afterBytes)); lock.unlock()
    }

    /// The next fdatasync fails with `code`.
    public func failNextSync(errno code: Int32) {
        lock.lock(); syncFaults.append(code); lock.unlock()
    }

    /// From now on, whenever `errno` returns a code, a write to an affected file (or to the
    /// store's space probe) writes half its buffer and fails with that code (`what` names the
    /// injection in the error); nil: writes work again.
    public func failWrites(while errno: (() -> Int32?)?, what: String = "write (injected)") {
        lock.lock(); lastingWriteFault = errno.map { ($0, what) }; lock.unlock()
    }

    /// While set, every write to an affected file (and to the store's space probe) writes half
    /// its buffer and fails with ENOSPC, like a full disk; clearing it is "space returns".
    public func setDiskFull(_ full: Bool) {
        failWrites(while: full ? { ENOSPC } : nil, what: "write (injected: disk full)")
    }

    /// Every read (`pread`) and sync (`fdatasync`, `fsync`) of any file waits `seconds` first,
    /// like a slow or overloaded disk; 0 removes the delay.
    public func setLatency(_ seconds: Double) {
        lock.lock(); latency = max(0, seconds); lock.unlock()
    }

    private func delay() {
        lock.lock(); let seconds = latency; lock.unlock()
        if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
    }

    private func targeted(_ fd: Int32) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return paths[fd]?.contains(pathFilter) ?? false
    }

    public func open(_ path: String, flags: Int32, mode: UInt32) throws -> Int32 {
        let fd = try base.open(path, flags: flags, mode: mode)
        lock.lock(); paths[fd] = path; lock.unlock()
        return fd
    }

    public func pwrite(_ fd: Int32, _ bytes: [UInt8], offset: Int64) throws {
        lock.lock()
        let lasting = lastingWriteFault, path = paths[fd]
        lock.unlock()
        if let lasting, let path, path.contains(pathFilter) || path.hasSuffix(FileEventStore.spaceProbeFile),
           let code = lasting.errno() {
            if bytes.count > 1 { try base.pwrite(fd, Array(bytes[0..<bytes.count / 2]), offset: offset) }
            throw EventStoreError.io(errno: code, what: lasting.what)
        }
        if targeted(fd) {
            lock.lock()
            let fault = writeFaults.isEmpty ? nil : writeFaults.removeFirst()
            lock.unlock()
            if let fault {
                let n = min(fault.afterBytes, bytes.count)
                if n > 0 { try base.pwrite(fd, Array(bytes[0..<n]), offset: offset) }
                throw EventStoreError.io(errno: fault.errno, what: "write (injected)")
            }
        }
        try base.pwrite(fd, bytes, offset: offset)
    }

    public func pread(_ fd: Int32, into buffer: inout [UInt8], count: Int, offset: Int64) throws -> Int {
        delay()
        return try base.pread(fd, into: &buffer, count: count, offset: offset)
    }

    public func fdatasync(_ fd: Int32) throws {
        delay()
        if targeted(fd) {
            lock.lock()
            let fault = syncFaults.isEmpty ? nil : syncFaults.removeFirst()
            lock.unlock()
            if let fault { throw EventStoreError.io(errno: fault, what: "fdatasync (injected)") }
        }
        try base.fdatasync(fd)
    }

    public func fsync(_ fd: Int32) throws { delay(); try base.fsync(fd) }
    public func ftruncate(_ fd: Int32, length: Int64) throws { try base.ftruncate(fd, length: length) }
    public func fileSize(_ fd: Int32) throws -> Int64 { try base.fileSize(fd) }
    public func close(_ fd: Int32) {
        lock.lock(); paths[fd] = nil; lock.unlock()
        base.close(fd)
    }
    public func rename(_ from: String, _ to: String) throws { try base.rename(from, to) }
    public func unlink(_ path: String) throws { try base.unlink(path) }
    public func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    public func makeDirectory(_ path: String) throws { try base.makeDirectory(path) }
    public func lockExclusive(_ fd: Int32) throws { try base.lockExclusive(fd) }
}
