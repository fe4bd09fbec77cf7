import Testing
import TributaryTesting
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Customers
import JSON

/// The committed fixture store `Fixtures/v1-store` was written with v1 of `CustomerRegistered`
/// and `CustomerRenamed` (a single `name`). The service must start from it and serve v2 state
/// (given/family name) through the read model, the aggregate, temporal queries and the
/// public events — while the stored bytes stay v1 (the audit trail is never rewritten).
@Suite(.serialized) struct V1FixtureUpcastingTests {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/v1-store").path

    /// The fixture's contents: (customer id, v1 events as type + JSON).
    static let fixtureEvents: [(String, [(String, String)])] = [
        ("ada", [("CustomerRegistered", #"{"creditLimit":1000,"currency":"EUR","customerId":"ada","email":"ada@example.com","name":"Ada King Lovelace"}"#),
                 ("CustomerRenamed", #"{"name":"Ada Lovelace"}"#)]),
        ("grace", [("CustomerRegistered", #"{"creditLimit":5000,"currency":"USD","customerId":"grace","email":"grace@example.com","name":"Grace Brewster Murray Hopper"}"#)]),
        ("plato", [("CustomerRegistered", #"{"creditLimit":0,"currency":"EUR","customerId":"plato","email":"plato@academy.gr","name":"Plato"}"#)]),
        ("alan", [("CustomerRegistered", #"{"creditLimit":200,"currency":"GBP","customerId":"alan","email":"alan@example.co.uk","name":"Alan Turing"}"#),
                  ("CustomerDeactivated", "{}")]),
        ("linus", [("CustomerRegistered", #"{"creditLimit":300,"currency":"EUR","customerId":"linus","email":"linus@example.fi","name":"Linus"}"#),
                   ("CustomerRenamed", #"{"name":"Linus Benedict Torvalds"}"#)]),
    ]

    /// Fixture generator: writes the v1 store. Disabled unless `GENERATE_FIXTURES=1`; the
    /// output is committed under `Tests/CustomersTests/Fixtures/v1-store/`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GENERATE_FIXTURES"] == "1"))
    func generateV1FixtureStore() throws {
        let dir = V1FixtureUpcastingTests.fixtureDirectory
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var options = FileEventStoreOptions(durability: .fsync)
        let start = Date(timeIntervalSince1970: 1_767_225_600)   // 2026-01-01T00:00:00Z
        let ticks = SteppingClock(start: start)
        options.clock = ticks.function
        options.executor = InlineExecutor()
        let store = try FileEventStore(directory: dir, options: options)
        defer { store.close() }
        for (id, events) in V1FixtureUpcastingTests.fixtureEvents {
            for (i, (type, json)) in events.enumerated() {
                let e = NewEvent(id: DeterministicID.make("fixture-v1", id, String(i)), type: type, schemaVersion: 1, data: Array(json.utf8),
                                 metadata: EventMetadata(correlationId: "fixture", causationId: nil))
                _ = try store.appendAndWait(to: CustomerID.stream(id), expected: .any, events: [e]).get()
            }
        }
    }

    /// Copies the fixture to a temporary directory (opening takes a lock and may write).
    func openCopy(_ loop: TestLoop) throws -> (FileEventStore, String) {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("customers-v1-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: V1FixtureUpcastingTests.fixtureDirectory, toPath: tmp)
        try? FileManager.default.removeItem(atPath: tmp + "/LOCK")
        var options = FileEventStoreOptions(durability: .none)
        options.executor = loop.executor
        options.logger = { _, _ in }
        return (try FileEventStore(directory: tmp, options: options), tmp)
    }

    @Test func fixtureIsStoredAsV1() throws {
        let loop = TestLoop()
        let (store, tmp) = try openCopy(loop)
        defer { store.close(); try? FileManager.default.removeItem(atPath: tmp) }
        let events = try store.readAll(from: .start, maxCount: 100, filter: nil)
        #expect(events.count == 8)
        let named = events.filter { $0.type == "CustomerRegistered" || $0.type == "CustomerRenamed" }
        #expect(named.count == 7)
        #expect(named.allSatisfy { $0.schemaVersion == 1 && String(decoding: $0.data, as: UTF8.self).contains("\"name\"") })
    }

    @Test func serviceStartsFromTheFixtureWithV2State() async throws {
        let loop = TestLoop()
        let (store, tmp) = try openCopy(loop)
        defer { store.close(); try? FileManager.default.removeItem(atPath: tmp) }
        let h = ServiceHarness(loop: loop, store: store)
        try await h.start()
        #expect(await h.settle())

        // Read model.
        let ada = try #require(try await h.view("ada"))
        #expect((ada.givenName, ada.familyName, ada.name) == ("Ada", "Lovelace", "Ada Lovelace"))
        #expect(ada.version == 1)
        let grace = try #require(try await h.view("grace"))
        #expect((grace.givenName, grace.familyName) == ("Grace Brewster Murray", "Hopper"))
        let plato = try #require(try await h.view("plato"))
        #expect((plato.givenName, plato.familyName, plato.name) == ("Plato", "", "Plato"))
        #expect(try await h.view("alan")?.status == .deactivated)
        let linus = try #require(try await h.view("linus"))
        #expect((linus.givenName, linus.familyName) == ("Linus Benedict", "Torvalds"))
        let page = try await loop.run { try h.service.listCustomers() }
        #expect(page.items.map(\.customerId) == ["ada", "alan", "grace", "linus", "plato"])

        // Aggregate: state and decisions use the upcast names.
        let s = h.service!
        let state = try s.handler.state(of: CustomerID.stream("ada")).state          // a blocking read: off the loop
        #expect((state.givenName, state.familyName) == ("Ada", "Lovelace"))
        let same = try await h.ok(.rename(name: "Ada Lovelace"), "ada")
        #expect(same.events.isEmpty)                                 // no-op against the upcast v1 name
        #expect(await h.send(.rename(name: "X"), "alan").failureCode == "customer-deactivated")
        let renamed = try await h.ok(.rename(name: "Augusta Ada King"), "ada")
        #expect(renamed.events == [.renamed(CustomerRenamed(givenName: "Augusta Ada", familyName: "King"))])

        // Temporal query and history from v1 events.
        let v0 = try await loop.awaiting { s.customer("ada", atVersion: 0, asOf: nil, completion: $0) }
        #expect((v0?.givenName, v0?.familyName) == ("Ada King", "Lovelace"))
        let history = try #require(try await loop.awaiting { s.history(of: "ada", completion: $0) })
        #expect(history.map(\.storedSchemaVersion) == [1, 1, 2])
        #expect(history.map(\.schemaVersion) == [2, 2, 2])
        #expect(history[0].data.objectValue?["givenName"] == .string("Ada King"))

        // Public events carry the display name rebuilt from v2 parts.
        #expect(await h.settle())
        let registeredNames = try h.customerPublicEvents().filter { $0.type == "customer.registered" }
            .map { try decodePayload(CustomerRegisteredV1.self, $0).name }
        #expect(registeredNames.sorted() == ["Ada King Lovelace", "Alan Turing", "Grace Brewster Murray Hopper", "Linus", "Plato"])

        // A rebuild from the v1 store matches the live models.
        #expect(try await loop.awaiting { s.rebuildAndCompare(completion: $0) }.consistent)
        try await h.stop()
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
}
