import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TEST HOOK, ignored unless the environment variable `TRIBUTARY_FAULT_INJECT` is set: lets
/// end-to-end tests and `scripts/` make a running server's log writes fail like a full disk or
/// a failing device, without touching the HTTP or App layers. `FileEventStoreOptions.fileIO`
/// defaults to `FaultInjectionHook.defaultFileIO()`, which is the plain `SystemFileIO` when the
/// variable is absent (production: zero cost, no behaviour change).
///
/// Rules (only log segment files, `*.seg`, and the store's space probe are affected; reads
/// always work):
/// - `enospc-while:PATH` / `eio-while:PATH` — while the file PATH exists, every segment write
///   writes half its buffer and then fails with ENOSPC / EIO (a realistic torn write). Removing
///   PATH is "space returns": a store that saw ENOSPC turns healthy again by itself at its next
///   space probe; one that saw EIO stays unhealthy (refuses appends) until the process restarts.
/// - `enospc-after:N` / `eio-after:N` — after N successful segment writes in this process
///   (counted over all stores), every further segment write fails the same way.
public enum FaultInjectionHook {
    /// The environment variable read once per store open.
    public static let variable = "TRIBUTARY_FAULT_INJECT"

    /// `SystemFileIO`, or the fault-injecting wrapper described by `TRIBUTARY_FAULT_INJECT`.
    public static func defaultFileIO() -> FileIO {
        guard let spec = ProcessInfo.processInfo.environment[variable], !spec.isEmpty else { return SystemFileIO() }
        guard let rule = Rule(spec) else {
            FileHandle.standardError.write(Data("eventstore: ignoring malformed \(variable)=\(spec)\n".utf8))
            return SystemFileIO()
        }
        FileHandle.standardError.write(Data("eventstore: TEST HOOK \(variable)=\(spec) active\n".utf8))
        return EnvFaultFileIO(rule: rule)
    }

    /// A parsed rule.
    struct Rule {
        enum Trigger { case whileFileExists(String), afterWrites(Int) }
        var errno: Int32
        var trigger: Trigger

        init?(_ spec: String) {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            let head = parts[0].split(separator: "-", maxSplits: 1).map(String.init)
            guard head.count == 2 else { return nil }
            switch head[0] {
            case "enospc": errno = ENOSPC
            case "eio": errno = EIO
            default: return nil
            }
            switch head[1] {
            case "while": guard !parts[1].isEmpty else { return nil }; trigger = .whileFileExists(parts[1])
            case "after": guard let n = Int(parts[1]), n >= 0 else { return nil }; trigger = .afterWrites(n)
            default: return nil
            }
        }
    }

    /// Successful segment writes in this process (for `-after:N`), shared by all stores.
    private static let writes = WriteCounter()

    /// Counts one more segment write unless `limit` were already done; false: this one fails.
    static func takeWrite(limit: Int) -> Bool { writes.take(limit: limit) }

    private final class WriteCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var done = 0
        func take(limit: Int) -> Bool {
            lock.lock(); defer { lock.unlock() }
            guard done < limit else { return false }
            done += 1
            return true
        }
    }
}

/// `SystemFileIO` whose segment writes fail according to a `FaultInjectionHook.Rule`.
final class EnvFaultFileIO: FileIO, @unchecked Sendable {
    private let base = SystemFileIO()
    private let rule: FaultInjectionHook.Rule
    private let lock = NSLock()
    private var paths: [Int32: String] = [:]

    init(rule: FaultInjectionHook.Rule) { self.rule = rule }

    private func shouldFail(_ fd: Int32) -> Bool {
        lock.lock(); let path = paths[fd]; lock.unlock()
        // The store's space probe sees the same full disk as the log.
        guard let path, path.hasSuffix(".seg") || path.hasSuffix("space-probe.tmp") else { return false }
        switch rule.trigger {
        case .whileFileExists(let flag):
            return access(flag, F_OK) == 0
        case .afterWrites(let n):
            return !FaultInjectionHook.takeWrite(limit: n)
        }
    }

    func open(_ path: String, flags: Int32, mode: UInt32) throws -> Int32 {
        let fd = try base.open(path, flags: flags, mode: mode)
        lock.lock(); paths[fd] = path; lock.unlock()
        return fd
    }
    func pwrite(_ fd: Int32, _ bytes: [UInt8], offset: Int64) throws {
        if shouldFail(fd) {
            let half = bytes.count / 2
            if half > 0 { try base.pwrite(fd, Array(bytes[0..<half]), offset: offset) }
            throw EventStoreError.io(errno: rule.errno, what: "write (injected by \(FaultInjectionHook.variable))")
        }
        try base.pwrite(fd, bytes, offset: offset)
    }
    func pread(_ fd: Int32, into buffer: inout [UInt8], count: Int, offset: Int64) throws -> Int {
        try base.pread(fd, into: &buffer, count: count, offset: offset)
    }
    func fdatasync(_ fd: Int32) throws { try base.fdatasync(fd) }
    func fsync(_ fd: Int32) throws { try base.fsync(fd) }
    func ftruncate(_ fd: Int32, length: Int64) throws { try base.ftruncate(fd, length: length) }
    func fileSize(_ fd: Int32) throws -> Int64 { try base.fileSize(fd) }
    func close(_ fd: Int32) {
        lock.lock(); paths[fd] = nil; lock.unlock()
        base.close(fd)
    }
    func rename(_ from: String, _ to: String) throws { try base.rename(from, to) }
    func unlink(_ path: String) throws { try base.unlink(path) }
    func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    func makeDirectory(_ path: String) throws { try base.makeDirectory(path) }
    func lockExclusive(_ fd: Int32) throws { try base.lockExclusive(fd) }
}
