import Foundation
import Testing
import TributaryTesting
@testable import EventStore

@Suite struct FileEventStoreGroupCommitTests {
    private func waitArrived(_ io: GatedFileIO) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { io.arrived.wait(); c.resume() }
        }
    }

    private func queued(_ store: FileEventStore) -> Int {
        store.queueCond.lock(); defer { store.queueCond.unlock() }
        return store.queue.count
    }

    private func oneSyncAtATime(_ io: FileIO) -> FileEventStoreOptions {
        var o = fileOptions(io: io)
        o.syncPipelineDepth = 1
        return o
    }

    @Test func appendsQueuedDuringAnFsyncShareTheNextWriteAndFsync() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = GatedFileIO()
        let store = try FileEventStore(directory: dir.path, options: oneSyncAtATime(io))
        defer { store.close() }
        let got = Collected()
        let sub = store.subscribe(from: .start, filter: nil, executor: DispatchQueueExecutor()) { got.add($0) }
        #expect(await eventually { sub.isLive })
        io.hold()
        let first = Task { try await store.append(to: "gc-0", expected: .any, events: events(1)) }
        await waitArrived(io)
        let rest = Task {
            try await withThrowingTaskGroup(of: AppendResult.self, returning: [AppendResult].self) { group in
                for i in 1..<100 { group.addTask { try await store.append(to: StreamName("gc-\(i % 10)"), expected: .any, events: events(1)) } }
                var all: [AppendResult] = []
                for try await r in group { all.append(r) }
                return all
            }
        }
        #expect(await eventually { queued(store) == 99 })
        // Written but not yet synced: invisible to readers and subscribers.
        #expect(store.lastPosition == .start)
        #expect(try store.readAll(from: .start, maxCount: 10, filter: nil).isEmpty)
        #expect(got.count == 0)
        io.release()
        _ = try await first.value
        let results = try await rest.value
        #expect(results.count == 99)
        let stats = store.stats
        #expect(stats.appends == 100)
        #expect(stats.fsyncs == 2, "one fsync for the first append, one for the 99 queued behind it")
        #expect(stats.batches == 2)
        #expect(stats.fsyncs < stats.appends)
        #expect(stats.bytesWritten == UInt64(segmentBytes(dir.path).count))
        // The distributions /metrics renders: one duration per fsync, one size per batch.
        #expect(stats.syncSeconds.count == 2 && stats.syncSeconds.sum > 0)
        #expect(stats.batchEvents.count == 2 && stats.batchEvents.sum == 100)
        #expect(stats.batchEvents.counts[0] == 1, "the first batch: 1 event")
        #expect(stats.batchEvents.counts[7] == 1, "the second: 99 events, in the bucket up to 128")
        #expect(await eventually { got.count == 100 })
        #expect(got.all.map(\.position.value) == Array(1...100))
        sub.cancel()
    }

    @Test func pipelinedSyncsPublishNothingBeforeItIsDurableAndKeepOrder() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = GatedFileIO()
        var options = fileOptions(io: io)
        options.syncPipelineDepth = 4
        options.syncPipelineMinBatch = 1   // any waiting append may start a parallel batch
        let store = try FileEventStore(directory: dir.path, options: options)
        defer { store.close() }
        let got = Collected()
        let sub = store.subscribe(from: .start, filter: nil, executor: DispatchQueueExecutor()) { got.add($0) }
        #expect(await eventually { sub.isLive })
        io.hold()
        let all = Task {
            try await withThrowingTaskGroup(of: AppendResult.self, returning: [AppendResult].self) { group in
                for i in 0..<100 { group.addTask { try await store.append(to: StreamName("p-\(i % 10)"), expected: .any, events: events(1)) } }
                var all: [AppendResult] = []
                for try await r in group { all.append(r) }
                return all
            }
        }
        // Up to 4 batches are written and wait at the gate: nothing may be visible yet.
        await waitArrived(io)
        #expect(store.lastPosition == .start)
        #expect(got.count == 0)
        io.release()
        let results = try await all.value
        #expect(Set(results.map(\.firstPosition.value)) == Set(1...100))
        let stats = store.stats
        #expect(stats.appends == 100)
        #expect(stats.fsyncs < stats.appends)
        #expect(await eventually { got.count == 100 })
        #expect(got.all.map(\.position.value) == Array(1...100))
        sub.cancel()
    }

    private func arrived(_ io: GatedFileIO, within seconds: Double) async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async { c.resume(returning: io.arrived.wait(timeout: .now() + seconds) == .success) }
        }
    }

    private func appendConcurrently(_ store: FileEventStore, _ n: Int, prefix: String) -> Task<[AppendResult], Error> {
        Task {
            try await withThrowingTaskGroup(of: AppendResult.self, returning: [AppendResult].self) { group in
                for i in 0..<n { group.addTask { try await store.append(to: StreamName("\(prefix)-\(i % 10)"), expected: .any, events: events(1)) } }
                var all: [AppendResult] = []
                for try await r in group { all.append(r) }
                return all
            }
        }
    }

    /// While a sync runs, a few waiting appends wait for it (one more fdatasync later, not one
    /// each); a queue of `syncPipelineMinBatch` starts a parallel batch at once.
    /// A store (pipeline depth 4, threshold 32) whose first append's sync is held at the gate,
    /// with ten more appends waiting behind it (and a `syncPipelineMaxWait` longer than any test).
    private func tenWaitingBehindAHeldSync(_ dir: TempDirectory) async throws
        -> (store: FileEventStore, io: GatedFileIO, first: Task<AppendResult, Error>, few: Task<[AppendResult], Error>) {
        let io = GatedFileIO()
        var options = fileOptions(io: io)
        options.syncPipelineDepth = 4
        options.syncPipelineMinBatch = 32
        options.syncPipelineMaxWait = 3600
        let store = try FileEventStore(directory: dir.path, options: options)
        io.hold()
        let first = Task { try await store.append(to: "w-0", expected: .any, events: events(1)) }
        await waitArrived(io)
        let few = appendConcurrently(store, 10, prefix: "few")
        #expect(await eventually { queued(store) == 10 })
        return (store, io, first, few)
    }

    @Test func aSecondSyncStartsOnlyForAQueueWorthIt() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let (store, io, first, few) = try await tenWaitingBehindAHeldSync(dir)
        defer { store.close() }
        #expect(await arrived(io, within: 0.3) == false, "10 waiting appends start no second sync")
        #expect(queued(store) == 10)
        let many = appendConcurrently(store, 40, prefix: "many")
        #expect(await arrived(io, within: 10), "50 waiting appends start a parallel batch")
        io.release()
        _ = try await first.value
        #expect(try await few.value.count == 10)
        #expect(try await many.value.count == 40)
        let stats = store.stats
        #expect(stats.appends == 51)
        #expect(stats.fsyncs >= 2 && stats.fsyncs <= 3, "\(stats.fsyncs) fsyncs")
        #expect(store.lastPosition == LogPosition(51))
    }

    /// The appends that waited below the threshold are started by the running sync's
    /// completion alone (no later append wakes the writer).
    @Test func appendsWaitingBelowTheThresholdGoOutWhenTheSyncEnds() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let (store, io, first, few) = try await tenWaitingBehindAHeldSync(dir)
        defer { store.close() }
        io.release()
        _ = try await first.value
        #expect(try await few.value.count == 10)
        #expect(store.stats.fsyncs == 2, "one for the first append, one for the ten that waited")
        #expect(store.lastPosition == LogPosition(11))
    }

    /// A slow disk: once the running sync has taken `syncPipelineMaxWait`, the few appends
    /// waiting below the threshold start a sync of their own instead of waiting for it.
    @Test func appendsWaitingForASlowSyncStartTheirOwnAfterTheMaxWait() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = GatedFileIO()
        var options = fileOptions(io: io)
        options.syncPipelineDepth = 4
        options.syncPipelineMinBatch = 32
        options.syncPipelineMaxWait = 0.05
        let store = try FileEventStore(directory: dir.path, options: options)
        defer { store.close() }
        io.hold()
        let first = Task { try await store.append(to: "w-0", expected: .any, events: events(1)) }
        await waitArrived(io)
        let few = appendConcurrently(store, 10, prefix: "few")
        #expect(await arrived(io, within: 10), "the waiting appends started a second sync while the first was still held")
        io.release()
        _ = try await first.value
        #expect(try await few.value.count == 10)
        // Each waiting append waited at most the max wait: at least one more sync, never more than one each.
        #expect(store.stats.fsyncs >= 2 && store.stats.fsyncs <= 11, "\(store.stats.fsyncs) fsyncs")
        #expect(store.lastPosition == LogPosition(11))
    }

    @Test func manyConcurrentAppendersNeedFewerFsyncsThanAppends() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let store = try FileEventStore(directory: dir.path, options: fileOptions())
        defer { store.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<64 {
                group.addTask { for _ in 0..<10 { _ = try await store.append(to: StreamName("m-\(w)"), expected: .any, events: events(1)) } }
            }
            try await group.waitForAll()
        }
        let s = store.stats
        #expect(s.appends == 640)
        #expect(s.fsyncs == s.batches)
        #expect(s.fsyncs < s.appends, "64 concurrent appenders share fsyncs")
        #expect(store.lastPosition == LogPosition(640))
    }
}

extension FileEventStoreGroupCommitTests {
    /// Appends queued in one batch are validated against each other, not just the committed index.
    @Test func appendsInOneBatchSeeEarlierAppendsOfTheSameBatch() async throws {
        let dir = TempDirectory(); defer { dir.remove() }
        let io = GatedFileIO()
        let store = try FileEventStore(directory: dir.path, options: oneSyncAtATime(io))
        defer { store.close() }
        io.hold()
        let warm = Task { try await store.append(to: "warm-1", expected: .any, events: events(1)) }
        await waitArrived(io)
        let batch = events(2)
        let results = ResultBox()
        store.append(to: "z-1", expected: .noStream, events: batch) { results.set(0, $0) }
        store.append(to: "z-1", expected: .noStream, events: events(1)) { results.set(1, $0) }
        store.append(to: "z-1", expected: .noStream, events: batch) { results.set(2, $0) }
        store.append(to: "z-1", expected: .exact(StreamVersion(1)), events: events(1)) { results.set(3, $0) }
        store.append(to: "z-1", expected: .any, events: [batch[1], event()]) { results.set(4, $0) }
        #expect(await eventually { queued(store) == 5 })
        io.release()
        _ = try await warm.value
        #expect(await eventually { results.count == 5 })
        let first = try #require(results.get(0)?.success)
        #expect(first == AppendResult(nextExpectedVersion: StreamVersion(1), firstPosition: LogPosition(2), lastPosition: LogPosition(3)))
        #expect(results.get(1)?.failure == .wrongExpectedVersion(stream: "z-1", expected: .noStream, actual: StreamVersion(1)))
        #expect(results.get(2)?.success == first, "an idempotent repeat inside the same batch answers with the original result")
        #expect(results.get(3)?.success?.nextExpectedVersion == StreamVersion(2))
        if case .idempotencyConflict? = results.get(4)?.failure {} else { Issue.record("partial overlap in batch: \(String(describing: results.get(4)))") }
        #expect(store.stats.batches == 2)
        #expect(try store.readStream("z-1").count == 3)
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Int: Result<AppendResult, EventStoreError>] = [:]
    func set(_ i: Int, _ r: Result<AppendResult, EventStoreError>) { lock.lock(); results[i] = r; lock.unlock() }
    func get(_ i: Int) -> Result<AppendResult, EventStoreError>? { lock.lock(); defer { lock.unlock() }; return results[i] }
    var count: Int { lock.lock(); defer { lock.unlock() }; return results.count }
}
