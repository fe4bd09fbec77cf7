import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS
import JSON

/// Durability across a real process-style restart: close the file store, reopen it, rebuild.
@Suite struct FileStoreRestartTests {
    func open(_ dir: String, _ loop: TestLoop) throws -> FileEventStore {
        var o = FileEventStoreOptions(durability: .none)
        o.executor = loop.executor
        o.logger = { _, _ in }
        return try FileEventStore(directory: dir, options: o)
    }

    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "cqrs-restart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func idempotencySnapshotsAndConsumerCheckpointSurviveReopen() async throws {
        let loop = TestLoop()
        let dir = try tempDir(), publicDir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: publicDir) }
        var options = CommandHandler<AccountDecider>.Options()
        options.snapshotEvery = 5
        let key = CommandContext(idempotencyKey: "k", fingerprint: "f")

        var store = try open(dir, loop)
        var publicLog = try open(publicDir, loop)
        var handler = try CommandHandler(decider: account, store: store, options: options)
        _ = try await handler.send(.open(given: "A", family: "B"), on: "account-1", loop: loop).get()
        let first = try await handler.send(.deposit(5), on: "account-1", context: key, loop: loop).get()
        for _ in 0..<10 { _ = try await handler.send(.deposit(1), on: "account-1", loop: loop).get() }
        _ = try rawAppend(publicLog, "shop", [NewEvent(type: "shop.paid", data: json(#"{"account":"1","amount":7}"#),
                                                       metadata: EventMetadata(properties: [PublicMetadata.source: "shop"]))])
        let consumer = Consumer(name: "c", publicLog: publicLog, eventTypes: ["shop.paid"], handler: handler, executor: loop.executor) { e in
            [ConsumerCommand(stream: "account-1", command: AccountDecider.Command.deposit(try JSONCoding.decode(ConsumerTests.Payment.self, from: e.data).amount))]
        }
        try await loop.run { try consumer.start() }
        #expect(await loop.eventually { consumer.checkpoint == LogPosition(1) && consumer.backlog == 0 })
        try await loop.run { consumer.stop() }
        store.close(); publicLog.close()

        store = try open(dir, loop)
        publicLog = try open(publicDir, loop)
        defer { store.close(); publicLog.close() }
        let counting = InstrumentedStore(store)
        handler = try CommandHandler(decider: account, store: counting, options: options)
        let replay = try await handler.send(.deposit(5), on: "account-1", context: key, loop: loop).get()
        #expect(replay.replayed && replay.position == first.position && replay.version == first.version)
        #expect(try Consumer<AccountDecider>.recoverCheckpoint(name: "c", store: store) == .start)  // window of 1: safe = before it
        let again = Consumer(name: "c", publicLog: publicLog, eventTypes: ["shop.paid"], handler: handler, executor: loop.executor) { e in
            [ConsumerCommand(stream: "account-1", command: AccountDecider.Command.deposit(try JSONCoding.decode(ConsumerTests.Payment.self, from: e.data).amount))]
        }
        try await loop.run { try again.start() }
        #expect(await loop.eventually { again.checkpoint == LogPosition(1) && again.backlog == 0 })
        #expect(try await loop.run { again.repeats } == 1)
        let before = counting.eventsRead
        let next = try await handler.send(.deposit(1), on: "account-1", loop: loop).get()
        #expect(next.version == StreamVersion(13))
        // Loaded from the snapshot at version 9 (saved before the restart): its own event is read
        // back to check the store still has it, then the 3 tail events.
        #expect(counting.eventsRead - before == 1 + 3)
        #expect(try handler.state(of: "account-1").state.balance == 5 + 10 + 7 + 1)
    }
}
