import Foundation
import Testing
import EventStore

extension StoreConformance {
    static func subscriptionCatchesUpThenGoesLiveWithoutGapOrDuplicateWhileAppendsRace(_ store: EventStore) async throws {
        for i in 0..<300 { _ = try await store.append(to: StreamName("s-\(i % 7)"), expected: .any, events: events(1)) }
        let got = Collected()
        // Appends race with the subscription's catch-up and its switch to live.
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<8 {
                    group.addTask {
                        for _ in 0..<40 { _ = try await store.append(to: StreamName("w-\(w)"), expected: .any, events: events(2)) }
                    }
                }
                try await group.waitForAll()
            }
        }
        let sub = store.subscribe(from: .start, filter: nil, executor: DispatchQueueExecutor()) { got.add($0) }
        try await writers.value
        let total = 300 + 8 * 40 * 2
        #expect(await eventually { got.count >= total })
        // A few more after everything is live.
        _ = try await store.append(to: "late-1", expected: .any, events: events(3))
        #expect(await eventually { got.count >= total + 3 })
        #expect(sub.isLive)
        #expect(got.all.map { $0.position.value } == Array(1...UInt64(total + 3)))
        sub.cancel()
    }

    static func subscriptionFromAPositionStartsAfterIt(_ store: EventStore) async throws {
        _ = try await store.append(to: "a-1", expected: .any, events: events(10))
        let got = Collected()
        let sub = store.subscribe(from: LogPosition(7), filter: nil, executor: DispatchQueueExecutor()) { got.add($0) }
        #expect(await eventually { sub.isLive })
        _ = try await store.append(to: "a-1", expected: .any, events: events(2))
        #expect(await eventually { got.count >= 5 })
        #expect(got.all.map { $0.position.value } == [8, 9, 10, 11, 12])
        sub.cancel()
    }

    static func filteredSubscriptionSeesOnlyMatchingEventsInOrder(_ store: EventStore) async throws {
        for i in 0..<20 { _ = try await store.append(to: StreamName(i % 2 == 0 ? "order-\(i)" : "customer-\(i)"), expected: .any, events: events(1)) }
        let got = Collected()
        let sub = store.subscribe(from: .start, filter: .categories("order"), executor: DispatchQueueExecutor()) { got.add($0) }
        for i in 20..<40 { _ = try await store.append(to: StreamName(i % 2 == 0 ? "order-\(i)" : "customer-\(i)"), expected: .any, events: events(1)) }
        #expect(await eventually { got.count >= 20 })
        #expect(got.all.map { $0.position.value } == stride(from: 1, through: 39, by: 2).map { UInt64($0) })
        #expect(got.all.allSatisfy { $0.stream.category == "order" })
        sub.cancel()
    }

    static func cancelledSubscriptionReceivesNothingMore(_ store: EventStore) async throws {
        let queue = DispatchQueue(label: "test.sub")
        let got = Collected()
        let sub = store.subscribe(from: .start, filter: nil, executor: DispatchQueueExecutor(queue: queue)) { got.add($0) }
        _ = try await store.append(to: "a-1", expected: .any, events: events(1))
        #expect(await eventually { got.count == 1 })
        sub.cancel()
        _ = try await store.append(to: "a-1", expected: .any, events: events(1))
        queue.sync {}
        // Everything appended after cancel would have been submitted before this append completed.
        queue.sync {}
        #expect(got.count == 1)
        #expect(sub.isCancelled)
    }
}
