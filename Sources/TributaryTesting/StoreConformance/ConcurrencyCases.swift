import Foundation
import Testing
import EventStore

extension StoreConformance {
    static func racingAppendsOnOneStreamExactlyOneWinsPerVersion(_ store: EventStore) async throws {
        let contenders = 16
        for version in Int64(-1)..<Int64(10) {
            let expected: ExpectedVersion = version < 0 ? .noStream : .exact(StreamVersion(version))
            let outcomes = await withTaskGroup(of: EventStoreError?.self, returning: [EventStoreError?].self) { group in
                for _ in 0..<contenders {
                    group.addTask { await appendError(store, "race-1", expected, events(1)) }
                }
                var all: [EventStoreError?] = []
                for await o in group { all.append(o) }
                return all
            }
            #expect(outcomes.filter { $0 == nil }.count == 1, "exactly one winner at version \(version + 1)")
            for case let e? in outcomes {
                #expect(e == .wrongExpectedVersion(stream: "race-1", expected: expected, actual: StreamVersion(version + 1)))
            }
        }
        let read = try store.readStream("race-1")
        #expect(read.map { $0.streamVersion.value } == Array(0...10))
        #expect(store.lastPosition == LogPosition(11))
    }

    static func concurrentAnyAppendsGetDistinctVersionsAndPositions(_ store: EventStore) async throws {
        let results = try await withThrowingTaskGroup(of: AppendResult.self, returning: [AppendResult].self) { group in
            for _ in 0..<100 {
                group.addTask { try await store.append(to: "hot-1", expected: .any, events: events(2)) }
            }
            var all: [AppendResult] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(Set(results.map { $0.nextExpectedVersion.value }) == Set(stride(from: 1, through: 199, by: 2).map { Int64($0) }))
        #expect(Set(results.map { $0.firstPosition.value }).count == 100)
        let all = try store.readAll(from: .start, maxCount: 1000, filter: nil)
        #expect(all.map { $0.position.value } == Array(1...200))
        #expect(all.map { $0.streamVersion.value } == Array(0...199))
    }
}

extension StoreConformance {
    static func readersRacingWithAppendsOnlySeeWholeCommittedAppends(_ store: EventStore) async throws {
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<4 {
                    group.addTask { for _ in 0..<30 { _ = try await store.append(to: StreamName("r-\(w)"), expected: .any, events: events(3)) } }
                }
                try await group.waitForAll()
            }
        }
        var reads = 0
        while true {
            let all = try store.readAll(from: .start, maxCount: 10_000, filter: nil)
            #expect(all.map { $0.position.value } == Array(stride(from: 1, through: UInt64(all.count), by: 1)), "gapless prefix")
            #expect(all.count % 3 == 0, "appends of 3 events are visible all at once or not at all")
            for w in 0..<4 {
                let s = try store.readStream(StreamName("r-\(w)"))
                #expect(s.map { $0.streamVersion.value } == Array(stride(from: 0, to: Int64(s.count), by: 1)))
            }
            reads += 1
            if all.count == 360 || reads > 100_000 { break }
            await Task.yield()
        }
        try await writers.value
        #expect(reads > 0)
        #expect(store.lastPosition == LogPosition(360))
    }
}
