import EventStore
import Testing
import TributaryTesting

/// The whole shared conformance suite, unchanged, against the PostgreSQL engine.
@Suite("PostgreSQL engine conformance") struct PostgresConformanceTests {
    @Test(arguments: StoreConformance.cases)
    func conformance(_ behaviour: StoreConformance.Case) async throws {
        let fixture = try PostgresFixture()
        defer { #expect(fixture.close() == 0, "loop handles left open") }
        try await behaviour.run(fixture.store)
    }
}
