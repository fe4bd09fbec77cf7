import Testing
import EventStore
@testable import CQRS

/// Deterministic (name-based) and fast random event ids.
@Suite struct EventIDTests {
    @Test func deterministicIdsAreStableDistinctAndVersioned() {
        let a = DeterministicID.make("public", "orders", "1", "0")
        #expect(a == DeterministicID.make("public", "orders", "1", "0"))
        #expect(a != DeterministicID.make("public", "orders", "10", ""))   // length-prefixed parts
        #expect(a.uuid.uuidString.dropFirst(14).first == "8")
        #expect(RequestFingerprint.of(json("a")) != RequestFingerprint.of(json("b")))
        #expect(RequestFingerprint.of(json("a")).count == 64)
    }

    @Test func generatedIdsAreUniqueAndVersion4() {
        let g = EventIDGenerator()
        var seen = Set<EventID>()
        for _ in 0..<100_000 { seen.insert(g.next()) }
        #expect(seen.count == 100_000)
        let id = g.next()
        #expect(id.uuid.uuidString.dropFirst(14).first == "4")
        #expect(EventIDGenerator().next() != EventIDGenerator().next())
    }
}
