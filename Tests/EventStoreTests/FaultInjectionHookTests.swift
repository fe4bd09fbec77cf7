import Foundation
import Testing
import TributaryTesting
@testable import EventStore

/// The `TRIBUTARY_FAULT_INJECT` test hook: its rule syntax, and that its absence means the plain
/// system I/O (the e2e test test_chaos_diskfull.py drives it in a running server).
@Suite struct FaultInjectionHookTests {
    @Test func parsesWhileAndAfterRules() throws {
        let a = try #require(FaultInjectionHook.Rule("enospc-while:/tmp/flag"))
        #expect(a.errno == ENOSPC)
        guard case .whileFileExists(let path) = a.trigger else { Issue.record("trigger \(a.trigger)"); return }
        #expect(path == "/tmp/flag")
        let b = try #require(FaultInjectionHook.Rule("eio-after:12"))
        #expect(b.errno == EIO)
        guard case .afterWrites(let n) = b.trigger else { Issue.record("trigger \(b.trigger)"); return }
        #expect(n == 12)
    }

    @Test(arguments: ["", "enospc", "enospc-while:", "eperm-while:/x", "eio-after:-1", "eio-after:x", "eio-sometimes:1"])
    func rejectsMalformedRules(_ spec: String) {
        #expect(FaultInjectionHook.Rule(spec) == nil)
    }

    @Test func withoutTheVariableTheDefaultIsSystemIO() {
        guard ProcessInfo.processInfo.environment[FaultInjectionHook.variable] == nil else { return }
        #expect(FaultInjectionHook.defaultFileIO() is SystemFileIO)
        #expect(FileEventStoreOptions().fileIO is SystemFileIO)
    }

    @Test func whileRuleTearsTheWriteAndFailsOnlySegmentsWhileTheFlagExists() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fih-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let flag = dir + "/flag"
        let io = FaultInjectionHook.fileIO(for: try #require(FaultInjectionHook.Rule("enospc-while:\(flag)")))
        let seg = try io.open(dir + "/log-00000000.seg", flags: O_RDWR | O_CREAT, mode: 0o644)
        let other = try io.open(dir + "/checkpoint", flags: O_RDWR | O_CREAT, mode: 0o644)
        defer { io.close(seg); io.close(other) }
        try io.pwrite(seg, [1, 2, 3, 4], offset: 0)
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
        #expect(throws: EventStoreError.self) { try io.pwrite(seg, [5, 6, 7, 8], offset: 4) }
        #expect(try io.fileSize(seg) == 6)   // half of the failed buffer landed: a torn write
        try io.pwrite(other, [9], offset: 0)  // not a segment: unaffected
        try FileManager.default.removeItem(atPath: flag)
        try io.pwrite(seg, [5, 6, 7, 8], offset: 4)
        #expect(try io.fileSize(seg) == 8)
    }
}
