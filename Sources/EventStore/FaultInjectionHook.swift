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
/// - `slow:MS` — a slow disk: every read and every sync of any file of the store takes MS
///   milliseconds more (writes still fail never).
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
        return fileIO(for: rule)
    }

    /// System I/O whose log-segment (and space-probe) writes fail as `rule` says.
    static func fileIO(for rule: Rule) -> FileIO {
        let io = FaultInjectingFileIO()
        let code = rule.errno
        switch rule.trigger {
        case .slow(let millis):
            io.setLatency(Double(millis) / 1000)
        case .whileFileExists(let flag):
            io.failWrites(while: { access(flag, F_OK) == 0 ? code : nil }, what: "write (injected by \(variable))")
        case .afterWrites(let n):
            io.failWrites(while: { takeWrite(limit: n) ? nil : code }, what: "write (injected by \(variable))")
        }
        return io
    }

    /// A parsed rule.
    struct Rule {
        enum Trigger { case whileFileExists(String), afterWrites(Int), slow(Int) }
        var errno: Int32
        var trigger: Trigger

        init?(_ spec: String) {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            if parts[0] == "slow" {
                guard let ms = Int(parts[1]), (0...60_000).contains(ms) else { return nil }
                errno = 0
                trigger = .slow(ms)
                return
            }
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
