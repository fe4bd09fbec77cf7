import Foundation
import Testing
import TributaryTesting
@testable import EventStore

enum InjectedFault: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case writeENOSPC, partialWriteENOSPC, writeEIO, syncEIO, syncENOSPC
    var testDescription: String { rawValue }
    var code: Int32 {
        switch self {
        case .writeENOSPC, .partialWriteENOSPC, .syncENOSPC: return ENOSPC
        case .writeEIO, .syncEIO: return EIO
        }
    }
    func inject(_ io: FaultInjectingFileIO) {
        switch self {
        case .writeENOSPC, .writeEIO: io.failNextWrite(errno: code)
        case .partialWriteENOSPC: io.failNextWrite(errno: code, afterBytes: 100)
        case .syncEIO, .syncENOSPC: io.failNextSync(errno: code)
        }
    }
}

@Suite struct FileEventStoreFaultTests {
    @Test(arguments: InjectedFault.allCases)
    func anIOFailureFailsTheAppendMarksTheStoreUnhealthyAndLosesNoAcknowledgedEvent(fault: InjectedFault) async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = FaultInjectingFileIO()
        let logs = LogCapture()
        var options = fileOptions(io: io, logs: logs)
        options.spaceProbeInterval = 0   // no self-healing here (the fault is one-shot): see aFullDiskHeals…
        let store = try FileEventStore(directory: dir.path, options: options)
        _ = try await store.append(to: "f-1", expected: .any, events: events(3))
        let acknowledged = try store.readAll(from: .start, maxCount: 100, filter: nil)
        let goodSize = segmentBytes(dir.path).count

        fault.inject(io)
        let failed = await appendError(store, "f-1", .any, events(2))
        guard case .io(let code, _)? = failed else { Issue.record("expected an I/O error, got \(String(describing: failed))"); return }
        #expect(code == fault.code)
        #expect(segmentBytes(dir.path).count == goodSize, "no half record is left behind")
        guard case .unhealthy(let reason) = store.health else { Issue.record("store should be unhealthy"); return }
        #expect(reason.contains(String(cString: strerror(fault.code))))
        #expect(logs.all.contains { $0.contains("unhealthy") })
        // Fails fast from now on; reads still serve committed data.
        let refused = await appendError(store, "f-2", .any, events(1))
        if case .storeUnhealthy? = refused {} else { Issue.record("expected storeUnhealthy, got \(String(describing: refused))") }
        #expect(try store.readAll(from: .start, maxCount: 100, filter: nil) == acknowledged)
        #expect(store.lastPosition == LogPosition(3))
        store.close()

        try await withFileStore(dir.path, fileOptions(useCheckpoint: false)) { reopened async throws in
            #expect(try reopened.readAll(from: .start, maxCount: 100, filter: nil) == acknowledged)
            #expect(reopened.health == .healthy)
            let next = try await reopened.append(to: "f-1", expected: .exact(StreamVersion(2)), events: events(1))
            #expect(next.firstPosition == LogPosition(4))
        }
        #expect(try EventStoreVerifier.verify(directory: dir.path).isIntact)
    }

    @Test func everyAppendOfAFailingBatchFailsAndNoneSurvivesARestart() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = FaultInjectingFileIO()
        var options = fileOptions(io: io)
        options.syncPipelineMinBatch = 1   // several batches in flight: later ones fail too
        let store = try FileEventStore(directory: dir.path, options: options)
        _ = try await store.append(to: "g-1", expected: .any, events: events(1))
        io.failNextSync(errno: EIO)
        let outcomes = await withTaskGroup(of: EventStoreError?.self, returning: [EventStoreError?].self) { group in
            for i in 0..<40 { group.addTask { await appendError(store, StreamName("g-\(i)"), .any, events(1)) } }
            var all: [EventStoreError?] = []
            for await o in group { all.append(o) }
            return all
        }
        #expect(outcomes.allSatisfy { $0 != nil }, "nothing is acknowledged after or in the failing batch")
        store.close()
        try await withFileStore(dir.path, fileOptions(useCheckpoint: false)) { reopened async throws in
            #expect(reopened.lastPosition == LogPosition(1))
        }
    }

    @Test func aFullDiskHealsWhenSpaceReturnsWithoutAReopen() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = FaultInjectingFileIO()
        let logs = LogCapture()
        var options = fileOptions(io: io, logs: logs)
        options.spaceProbeInterval = 0.05
        let store = try FileEventStore(directory: dir.path, options: options)
        defer { store.close() }
        _ = try await store.append(to: "h-1", expected: .any, events: events(2))
        let goodSize = segmentBytes(dir.path).count

        io.setDiskFull(true)
        let failed = await appendError(store, "h-1", .any, events(1))
        guard case .io(ENOSPC, _)? = failed else { Issue.record("expected ENOSPC, got \(String(describing: failed))"); return }
        // Still full: probes keep failing, appends keep being refused, nothing torn stays behind.
        try await Task.sleep(for: .milliseconds(300))
        guard case .unhealthy(let reason) = store.health else { Issue.record("store should be unhealthy"); return }
        #expect(reason.contains("resume when space returns"))
        if case .storeUnhealthy? = await appendError(store, "h-2", .any, events(1)) {} else { Issue.record("expected a fast refusal") }
        #expect(segmentBytes(dir.path).count == goodSize)

        io.setDiskFull(false)
        let deadline = Date().addingTimeInterval(5)
        while !store.health.isHealthy && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.health == .healthy)
        #expect(logs.all.contains { $0.contains("healthy again") })
        let next = try await store.append(to: "h-1", expected: .exact(StreamVersion(1)), events: events(1))
        #expect(next.firstPosition == LogPosition(3))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/" + FileEventStore.spaceProbeFile))
        store.close()
        #expect(try EventStoreVerifier.verify(directory: dir.path).isIntact)
    }

    @Test func anIOErrorDoesNotHealByItself() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = FaultInjectingFileIO()
        var options = fileOptions(io: io)
        options.spaceProbeInterval = 0.05
        let store = try FileEventStore(directory: dir.path, options: options)
        defer { store.close() }
        _ = try await store.append(to: "e-1", expected: .any, events: events(1))
        io.failNextSync(errno: EIO)
        #expect(await appendError(store, "e-1", .any, events(1)) != nil)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!store.health.isHealthy)
        if case .storeUnhealthy? = await appendError(store, "e-2", .any, events(1)) {} else { Issue.record("expected a fast refusal") }
    }
}

@Suite("Non-blocking threads")
struct NonBlockingThreadTests {
    #if DEBUG
    @Test("a file system call on a thread marked non-blocking (the loop) traps in debug builds")
    func fileIOOnAMarkedThreadTraps() async {
        await #expect(processExitsWith: .failure) {
            NonBlockingThread.markCurrent()
            _ = try? SystemFileIO().listDirectory("/")
        }
    }
    #endif

    @Test("the mark is per thread and can be cleared")
    func markIsPerThread() {
        // On a queue of its own, so no other test runs on the marked thread meanwhile.
        let (marked, elsewhere, cleared, ioWorks) = DispatchQueue(label: "marked").sync { () -> (Bool, Bool, Bool, Bool) in
            NonBlockingThread.markCurrent()
            let marked = NonBlockingThread.isCurrent
            // Written by the other thread before it signals, read here after the wait.
            final class Flag: @unchecked Sendable { var value = true }
            let elsewhere = Flag()
            let done = DispatchSemaphore(value: 0)
            Thread { elsewhere.value = NonBlockingThread.isCurrent; done.signal() }.start()
            done.wait()
            NonBlockingThread.unmarkCurrent()
            return (marked, elsewhere.value, !NonBlockingThread.isCurrent, (try? SystemFileIO().listDirectory("/")) != nil)
        }
        #expect(marked)
        #expect(!elsewhere)
        #expect(cleared)
        #expect(ioWorks)
    }
}
