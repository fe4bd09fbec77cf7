import Testing
import TributaryTesting
import EventStore
@testable import CQRS

/// given(events).when(command).then(events | error) on the test account decider.
@Suite struct DeciderScenarioTests {
    let scenario = DeciderScenario(account)

    @Test func openingANewAccountEmitsOpened() {
        #expect(scenario.given([]).when(.open(given: "Ada", family: "Lovelace")).events == [.opened(given: "Ada", family: "Lovelace")])
    }

    @Test func openingTwiceIsAConflict() {
        let error = scenario.given([.opened(given: "Ada", family: "L")]).when(.open(given: "Ada", family: "L")).error
        #expect(error?.kind == .conflict)
        #expect(error?.code == "already-open")
    }

    @Test func validationCarriesFieldErrors() {
        let error = scenario.given([.opened(given: "A", family: "B")]).when(.deposit(0)).error
        #expect(error?.kind == .validation)
        #expect(error?.fieldErrors.map(\.field) == ["amount"])
    }

    @Test func depositOnUnknownAccountIsNotFound() {
        #expect(scenario.when(.deposit(5)).error?.kind == .notFound)
    }

    @Test func withdrawUsesTheFoldedState() {
        let given = scenario.given([.opened(given: "A", family: "B"), .deposited(30), .withdrawn(10)])
        #expect(given.when(.withdraw(20)).events == [.withdrawn(20)])
        #expect(given.when(.withdraw(21)).error?.code == "insufficient-funds")
    }

    @Test func noOpDecidesNothing() {
        #expect(scenario.given([.opened(given: "A", family: "B")]).when(.touch).events == [])
    }

    @Test func givenEventsRoundTripThroughTheCodec() throws {
        let state = try scenario.given([.opened(given: "Ada", family: "Lovelace"), .deposited(7)]).state()
        #expect(state == AccountDecider.State(isOpen: true, given: "Ada", family: "Lovelace", balance: 7, deposits: 1))
    }
}
