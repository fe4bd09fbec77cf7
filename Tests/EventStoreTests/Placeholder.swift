import Testing
@testable import EventStore
@Test func placeholderEventStore() { #expect(Bool(true)) }
