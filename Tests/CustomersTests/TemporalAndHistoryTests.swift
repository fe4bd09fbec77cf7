import Testing
import TributaryTesting
import Foundation
import CQRS
import EventStore
@testable import Customers

/// State at a version or as of a time, and the audit history, computed from the stream.
@Suite struct TemporalAndHistoryTests {
    func harness() async throws -> ServiceHarness {
        let h = ServiceHarness()      // SteppingClock: every event one second after the previous
        try await h.start()
        try await h.ok(register("c1", name: "Ada Lovelace", limit: 100), "c1")
        try await h.ok(.rename(name: "Ada King"), "c1")
        try await h.ok(.changeCreditLimit(creditLimit: 300), "c1")
        try await h.ok(.deactivate, "c1")
        return h
    }

    @Test func stateAtEachVersion() async throws {
        let h = try await harness()
        let s = h.service!
        let v0 = try await h.loop.awaiting { s.customer("c1", atVersion: 0, asOf: nil, completion: $0) }
        #expect(v0?.name == "Ada Lovelace")
        #expect(v0?.creditLimit == 100)
        #expect(v0?.version == 0)
        let v2 = try await h.loop.awaiting { s.customer("c1", atVersion: 2, asOf: nil, completion: $0) }
        #expect(v2?.name == "Ada King")
        #expect(v2?.creditLimit == 300)
        #expect(v2?.status == .active)
        let latest = try await h.loop.awaiting { s.customer("c1", atVersion: nil, asOf: nil, completion: $0) }
        #expect(latest?.status == .deactivated)
        #expect(latest?.version == 3)
    }

    @Test func stateAsOfATime() async throws {
        let h = try await harness()
        let events = try h.store.readStream(CustomerID.stream("c1"))
        let s = h.service!
        let asOf = events[1].timestamp.addingTimeInterval(0.5)   // after the rename, before the limit change
        let v = try await h.loop.awaiting { s.customer("c1", atVersion: nil, asOf: asOf, completion: $0) }
        #expect(v?.version == 1)
        #expect(v?.name == "Ada King")
        #expect(v?.creditLimit == 100)
        #expect(v?.updatedAt == RFC3339.format(events[1].timestamp))
        let before = try await h.loop.awaiting { s.customer("c1", atVersion: nil, asOf: events[0].timestamp.addingTimeInterval(-1), completion: $0) }
        #expect(before == nil)
    }

    @Test func unknownCustomerOrNegativeVersion() async throws {
        let h = try await harness()
        let s = h.service!
        #expect(try await h.loop.awaiting { s.customer("nobody", atVersion: 0, asOf: nil, completion: $0) } == nil)
        #expect(try await h.loop.awaiting { s.history(of: "nobody", completion: $0) } == nil)
        await #expect(throws: QueryError.self) { try await h.loop.awaiting { s.customer("c1", atVersion: -1, asOf: nil, completion: $0) } }
    }

    @Test func historyListsEveryEventWithMetadata() async throws {
        let h = try await harness()
        let context = CommandContext(correlationId: "req-1", causationId: "cause-1")
        #expect(await h.send(.changeEmail(email: "x@y.org"), "c1", context: context).failureCode == "customer-deactivated")
        let s = h.service!
        // The deactivated customer refused the email change: history still has four events.
        let history = try #require(try await h.loop.awaiting { s.history(of: "c1", completion: $0) })
        #expect(history.map(\.type) == ["CustomerRegistered", "CustomerRenamed", "CustomerCreditLimitChanged", "CustomerDeactivated"])
        #expect(history.map(\.version) == [0, 1, 2, 3])
        #expect(history[0].schemaVersion == 2)
        #expect(history[0].data == .object(["customerId": .string("c1"), "givenName": .string("Ada"), "familyName": .string("Lovelace"),
                                            "email": .string("ada@example.com"), "creditLimit": .int(100), "currency": .string("EUR")]))
        #expect(history.map(\.position) == history.map(\.position).sorted())
        _ = try await h.ok(register("c2"), "c2")
        _ = try await h.send(.rename(name: "Ann Other"), "c2", context: context).get()
        let h2 = try #require(try await h.loop.awaiting { s.history(of: "c2", completion: $0) })
        #expect(h2.last?.correlationId == "req-1")
        #expect(h2.last?.causationId == "cause-1")
        let json = String(decoding: try JSONEncoder().encode(h2.last!), as: UTF8.self)
        #expect(json.contains("\"givenName\":\"Ann\""))
    }
}
