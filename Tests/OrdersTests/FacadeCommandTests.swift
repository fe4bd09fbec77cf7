import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders

/// The facade's command path: status codes the HTTP layer maps, If-Match, idempotent retries.
@Suite struct FacadeCommandTests {
    func started() async throws -> Harness {
        let h = Harness()
        try await h.start()
        try h.register()
        #expect(await h.waitForViews())
        return h
    }

    @Test func placeCreatesTheStreamAndASecondPlaceIsOrderExists() async throws {
        let h = try await started()
        let o = try await h.send(place1).get()
        #expect(o.createdStream && o.stream == "order-o1" && o.version == .first)
        let e = domainError(await h.send(place1))
        #expect(e?.kind == .conflict && e?.code == "order-exists")
    }

    @Test func commandsOnUnknownOrdersAre404() async throws {
        let h = try await started()
        for c: OrderCommand in [.ship, .cancel(reason: "x"), .addLine(lineB), .removeLine(sku: "A-1")] {
            #expect(domainError(await h.send(c, "ghost"))?.code == "order-not-found")
        }
    }

    @Test func ifMatchMismatchIsAVersionMismatch() async throws {
        let h = try await started()
        _ = try await h.send(place1).get()
        let r = await h.send(.addLine(lineB), "o1", .exact(StreamVersion(5)))
        guard case .failure(.versionMismatch(_, let expected, let actual)) = r else { Issue.record("\(r)"); return }
        #expect(expected == StreamVersion(5) && actual == .first)
        #expect(try await h.send(.addLine(lineB), "o1", .exact(.first)).get().version == StreamVersion(1))
    }

    @Test func idempotentRetryReplaysWithoutAppending() async throws {
        let h = try await started()
        let ctx = CommandContext(idempotencyKey: "k1", fingerprint: "f1")
        let first = try await h.send(place1, context: ctx).get()
        let again = try await h.send(place1, context: ctx).get()
        #expect(again.replayed && again.position == first.position && again.version == first.version)
        #expect(try h.store.readStream("order-o1").count == 1)
        let other = await h.send(place1, context: CommandContext(idempotencyKey: "k1", fingerprint: "f2"))
        #expect(other.failureIsKeyReused)
    }
}

extension Result where Success == CommandOutcome<OrderEvent>, Failure == CommandError {
    var failureIsKeyReused: Bool { if case .failure(.idempotencyKeyReused) = self { return true } else { return false } }
}
