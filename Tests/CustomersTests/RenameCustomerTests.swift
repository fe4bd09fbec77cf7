import Testing
import CQRS
@testable import Customers

/// Rename: given(events).when(rename).then(events | error).
@Suite struct RenameCustomerTests {
    @Test func renamesSplittingAtTheLastSpace() {
        let r = scenario.given([registered()]).when(.rename(name: "Augusta Ada King"))
        #expect(r.events == [.renamed(CustomerRenamed(givenName: "Augusta Ada", familyName: "King"))])
    }

    @Test func renamingToTheSameNameIsANoOp() {
        #expect(scenario.given([registered()]).when(.rename(name: " Ada Lovelace ")).events == [])
    }

    @Test func renameAfterAnEarlierRenameComparesWithTheLatestName() {
        let r = scenario.given([registered(), .renamed(CustomerRenamed(givenName: "Ada", familyName: "King"))]).when(.rename(name: "Ada King"))
        #expect(r.events == [])
    }

    @Test func emptyNameIsInvalid() {
        let r = scenario.given([registered()]).when(.rename(name: ""))
        #expect(r.error?.kind == .validation)
        #expect(r.fieldNames == ["name"])
    }

    @Test func overlongNameIsInvalid() {
        #expect(scenario.given([registered()]).when(.rename(name: String(repeating: "b", count: 201))).fieldNames == ["name"])
    }

    @Test func unknownCustomerIsNotFound() {
        let r = scenario.given([]).when(.rename(name: "X"))
        #expect(r.error?.kind == .notFound)
        #expect(r.error?.code == "customer-not-found")
    }

    @Test func deactivatedCustomerIsAConflict() {
        let r = scenario.given([registered(), .deactivated(CustomerDeactivated())]).when(.rename(name: "X Y"))
        #expect(r.error?.kind == .conflict)
        #expect(r.error?.code == "customer-deactivated")
    }
}
