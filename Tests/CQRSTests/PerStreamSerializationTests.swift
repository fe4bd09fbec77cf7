import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS

/// Commands to one stream run one at a time in arrival order, so no decision sees stale state.
@Suite struct PerStreamSerializationTests {
    @Test func manyConcurrentCommandsOnOneStreamAllApplyInOrder() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        let handler = try CommandHandler(decider: account, store: store)
        let stream: StreamName = "account-1"
        let n = 200
        let results: [Result<CommandOutcome<AccountDecider.Event>, CommandError>] = await withCheckedContinuation { c in
            loop.queue.async {
                var results: [Result<CommandOutcome<AccountDecider.Event>, CommandError>] = []
                handler.handle(.open(given: "A", family: "B"), on: stream) { results.append($0) }
                for i in 1...n {
                    handler.handle(.deposit(i), on: stream) { r in
                        results.append(r)
                        if results.count == n + 1 { c.resume(returning: results) }
                    }
                }
                #expect(handler.pendingCommands(on: stream) == n + 1)
            }
        }
        // Completions arrive in submission order with consecutive versions.
        let versions = results.compactMap { try? $0.get().version?.value }
        #expect(versions == Array(0...Int64(n)))
        let stats = try await loop.run { handler.stats }
        #expect(stats.conflictRetries == 0)
        #expect(stats.eventsReadForLoading == 0)
        let state = try handler.state(of: stream).state
        #expect(state.balance == n * (n + 1) / 2)
        #expect(store.streamVersion(stream) == StreamVersion(Int64(n)))
    }

    @Test func concurrentWithdrawalsNeverOverdraw() async throws {
        let loop = TestLoop()
        let handler = try CommandHandler(decider: account, store: loop.makeStore())
        let stream: StreamName = "account-2"
        _ = await handler.send(.open(given: "A", family: "B"), on: stream, loop: loop)
        _ = await handler.send(.deposit(100), on: stream, loop: loop)
        let outcomes: [Bool] = await withCheckedContinuation { c in
            loop.queue.async {
                var ok: [Bool] = []
                for _ in 0..<50 {
                    handler.handle(.withdraw(10), on: stream) { r in
                        if case .success = r { ok.append(true) } else { ok.append(false) }
                        if ok.count == 50 { c.resume(returning: ok) }
                    }
                }
            }
        }
        #expect(outcomes.filter { $0 }.count == 10)
        #expect(outcomes.prefix(10).allSatisfy { $0 })
        #expect(try handler.state(of: stream).state.balance == 0)
    }

    @Test func differentStreamsDoNotWaitForEachOther() async throws {
        let loop = TestLoop()
        let handler = try CommandHandler(decider: account, store: loop.makeStore())
        let pending = try await loop.run { () -> [Int] in
            for i in 0..<5 { handler.handle(.open(given: "A", family: "B"), on: StreamName("account-\(i)")) { _ in } }
            return (0..<5).map { handler.pendingCommands(on: StreamName("account-\($0)")) }
        }
        #expect(pending == [1, 1, 1, 1, 1])
    }
}
