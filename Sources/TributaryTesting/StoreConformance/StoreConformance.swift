import EventStore
import Foundation
import Testing

/// The shared store conformance suite: what every `EventStore` engine must do, whatever its
/// medium. An engine's test target runs every case against a fresh store of that engine:
///
///     @Test(arguments: StoreConformance.cases)
///     func conformance(_ c: StoreConformance.Case) async throws {
///         let store = try makeMyStore(); defer { store.close() }
///         try await c.run(store)
///     }
///
/// Split over files by behaviour: appends, concurrency, reads, subscriptions.
public enum StoreConformance {
    /// One behaviour, checked with `#expect` against a fresh, empty store.
    /// `@unchecked Sendable`: `run` is one of the suite's static functions, which capture nothing.
    public struct Case: @unchecked Sendable, CustomTestStringConvertible {
        public let name: String
        public let run: (EventStore) async throws -> Void
        init(_ name: String, _ run: @escaping (EventStore) async throws -> Void) { self.name = name; self.run = run }
        public var testDescription: String { name }
    }

    /// Every case of the suite.
    public static let cases: [Case] = [
        Case("appendAssignsVersionsFromZeroAndGaplessPositions", appendAssignsVersionsFromZeroAndGaplessPositions),
        Case("expectedVersionNoStream", expectedVersionNoStream),
        Case("expectedVersionStreamExists", expectedVersionStreamExists),
        Case("expectedVersionExactNamesTheActualVersion", expectedVersionExactNamesTheActualVersion),
        Case("expectedVersionAnyAlwaysAppends", expectedVersionAnyAlwaysAppends),
        Case("idempotentReappendReturnsOriginalResultAndWritesNothing", idempotentReappendReturnsOriginalResultAndWritesNothing),
        Case("idempotentReappendOfFirstEventsWithNoStream", idempotentReappendOfFirstEventsWithNoStream),
        Case("partialOverlapIsAnIdempotencyConflict", partialOverlapIsAnIdempotencyConflict),
        Case("reappendAtAnotherPlaceIsAConflict", reappendAtAnotherPlaceIsAConflict),
        Case("invalidAppendsAreRejected", invalidAppendsAreRejected),
        Case("eventFieldsRoundTrip", eventFieldsRoundTrip),
        Case("appendsAfterCloseFail", appendsAfterCloseFail),
        Case("statsCountAppends", statsCountAppends),
        Case("racingAppendsOnOneStreamExactlyOneWinsPerVersion", racingAppendsOnOneStreamExactlyOneWinsPerVersion),
        Case("concurrentAnyAppendsGetDistinctVersionsAndPositions", concurrentAnyAppendsGetDistinctVersionsAndPositions),
        Case("readersRacingWithAppendsOnlySeeWholeCommittedAppends", readersRacingWithAppendsOnlySeeWholeCommittedAppends),
        Case("readStreamForwardFromAVersionWithMaxCount", readStreamForwardFromAVersionWithMaxCount),
        Case("readStreamBackward", readStreamBackward),
        Case("listStreamsPagesEveryStreamOnceWithItsVersion", listStreamsPagesEveryStreamOnceWithItsVersion),
        Case("readAllIsExclusiveOfFromAndRespectsMaxCount", readAllIsExclusiveOfFromAndRespectsMaxCount),
        Case("readAllFilters", readAllFilters),
        Case("snapshotsKeepTheLatestPerStream", snapshotsKeepTheLatestPerStream),
        Case("subscriptionCatchesUpThenGoesLiveWithoutGapOrDuplicateWhileAppendsRace", subscriptionCatchesUpThenGoesLiveWithoutGapOrDuplicateWhileAppendsRace),
        Case("subscriptionFromAPositionStartsAfterIt", subscriptionFromAPositionStartsAfterIt),
        Case("filteredSubscriptionSeesOnlyMatchingEventsInOrder", filteredSubscriptionSeesOnlyMatchingEventsInOrder),
        Case("cancelledSubscriptionReceivesNothingMore", cancelledSubscriptionReceivesNothingMore)
    ]
}
