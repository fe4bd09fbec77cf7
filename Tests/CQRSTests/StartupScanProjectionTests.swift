import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS

/// The startup scan from a snapshot plus the tail gives what a full scan gives.
@Suite struct StartupScanProjectionTests {
    let watermarkKey = "consumer.saga.safe"

    func keyed(_ key: String, count: Int = 1, watermark: UInt64? = nil) -> NewEvent {
        var p = [RuntimeMetadata.idempotencyKey: key, RuntimeMetadata.fingerprint: "fp-\(key)",
                 RuntimeMetadata.handledAt: String(Date().timeIntervalSince1970 * 1000), RuntimeMetadata.eventCount: String(count)]
        if let watermark { p[watermarkKey] = String(watermark) }
        return NewEvent(type: "Deposited", data: json("{\"amount\":1}"), metadata: EventMetadata(properties: p))
    }

    func marker(_ key: String) -> NewEvent {
        NewEvent(type: RuntimeMetadata.markerType, data: json("{}"), metadata: EventMetadata(properties: [
            RuntimeMetadata.idempotencyKey: key, RuntimeMetadata.fingerprint: "fp-\(key)", RuntimeMetadata.eventCount: "0",
            RuntimeMetadata.handledAt: String(Date().timeIntervalSince1970 * 1000),
            RuntimeMetadata.targetStream: "account-1", RuntimeMetadata.targetVersion: "0", RuntimeMetadata.targetPosition: "1"]))
    }

    @Test func snapshotPlusTailEqualsAFullScan() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        _ = try rawAppend(store, "account-1", [keyed("a"), keyed("b", watermark: 7)])
        _ = try rawAppend(store, RuntimeMetadata.markerStream, [marker("m")])
        let first = StartupScanProjection(name: "scan", watermarkProperty: watermarkKey)
        var o = ProjectionRunner.Options()
        o.snapshotEvery = 1_000
        o.deliversInternalEvents = true
        let r1 = ProjectionRunner(projection: first, store: store, executor: loop.executor, scheduler: ManualScheduler(), options: o)
        try await loop.run { r1.start() }
        #expect(await loop.eventually { r1.isCaughtUp })
        #expect(try await loop.run { first.index.count } == 3)   // the `$idempotency` marker included
        let saved = try #require(try await loop.run { () -> PendingSnapshot? in r1.stop(); return r1.saveFinalSnapshot() })
        guard case .success? = saved.wait(timeout: 5) else { Issue.record("not saved"); return }

        _ = try rawAppend(store, "account-2", [keyed("c", count: 2, watermark: 5), keyed("d", watermark: 9)])
        let second = StartupScanProjection(name: "scan", watermarkProperty: watermarkKey)
        let r2 = ProjectionRunner(projection: second, store: store, executor: loop.executor, scheduler: ManualScheduler(), options: o)
        // Prepared off the loop (as the app does), then started: only the tail was read.
        let scanned = try r2.prepareSynchronously()
        #expect(r2.restoredSnapshotPosition == LogPosition(3))
        #expect(scanned == 2)
        #expect(second.watermark == LogPosition(9))
        let full = IdempotencyIndex()
        _ = try full.rebuild(from: store)
        let copy = IdempotencyIndex()
        second.copyKeys(into: copy)
        #expect(copy.entries == full.entries)
        #expect(copy.count == 5)
        try await loop.run { r2.start(); #expect(r2.isCaughtUp) }
        // Live events keep it (not the handler's copy) following the store.
        _ = try rawAppend(store, "account-3", [keyed("e", watermark: 11)])
        #expect(await loop.eventually { second.index.count == 6 && second.watermark == LogPosition(11) })
        #expect(copy.count == 5)
        try await loop.run { r2.stop() }
    }
}
