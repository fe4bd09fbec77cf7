import Testing
import Foundation
import CQRS
import EventStore
@testable import Customers

/// The facade's command entry: id checks, creation, conflicts, If-Match, idempotency.
@Suite struct FacadeCommandTests {
    @Test func registerCreatesTheStreamAndAnswersCreation() async throws {
        let h = ServiceHarness()
        try await h.start()
        let o = try await h.ok(register("c1"), "c1")
        #expect(CustomersService.isCreation(o))
        #expect(o.stream == "customer-c1")
        #expect(o.version == .first)
        let rename = try await h.ok(.rename(name: "Ada King"), "c1")
        #expect(!CustomersService.isCreation(rename))
    }

    @Test func registerTwiceIsCustomerExistsEvenWithNoStream() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1"), "c1")
        #expect(await h.send(register("c1"), "c1").failureCode == "customer-exists")
        #expect(await h.send(register("c1"), "c1", .noStream).failureCode == "customer-exists")
    }

    @Test func invalidOrMismatchedIds() async throws {
        let h = ServiceHarness()
        try await h.start()
        let bad = await h.send(register("bad id"), "bad id")
        guard case .failure(.domain(let e)) = bad else { Issue.record("expected a domain error"); return }
        #expect(e.kind == .validation)
        #expect(e.fieldErrors.map(\.field) == ["customerId"])
        #expect(await h.send(register("c1"), "c2").failureCode == "invalid-customer")
        let unknown = await h.send(.rename(name: "X"), "../etc")
        guard case .failure(.domain(let nf)) = unknown else { Issue.record("expected a domain error"); return }
        #expect(nf.kind == .notFound)
        #expect(await h.send(.rename(name: "X"), "ghost").failureCode == "customer-not-found")
    }

    @Test func ifMatchMismatchIsAVersionMismatch() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1"), "c1")
        try await h.ok(.rename(name: "A B"), "c1")
        let r = await h.send(.rename(name: "C D"), "c1", .exact(.first))
        guard case .failure(.versionMismatch(_, _, let actual)) = r else { Issue.record("expected versionMismatch, got \(r)"); return }
        #expect(actual == StreamVersion(1))
        #expect((try? await h.send(.rename(name: "C D"), "c1", .exact(StreamVersion(1))).get()) != nil)
    }

    @Test func idempotentRetryReplaysWithoutAppending() async throws {
        let h = ServiceHarness()
        try await h.start()
        let ctx = CommandContext(idempotencyKey: "k1", fingerprint: "fp")
        let first = try await h.send(register("c1"), "c1", context: ctx).get()
        let before = h.store.lastPosition
        let again = try await h.send(register("c1"), "c1", context: ctx).get()
        #expect(again.replayed)
        #expect(again.version == first.version)
        #expect(CustomersService.isCreation(again))
        #expect(h.store.lastPosition == before)
    }

    @Test func noOpSucceedsWithoutEvents() async throws {
        let h = ServiceHarness()
        try await h.start()
        try await h.ok(register("c1"), "c1")
        let o = try await h.ok(.rename(name: "Ada Lovelace"), "c1")
        #expect(o.events.isEmpty)
        #expect(o.version == .first)
    }
}
