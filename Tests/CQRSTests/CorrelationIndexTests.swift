import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS

/// The saga trace's index: correlation id -> positions, bounded both ways.
@Suite struct CorrelationIndexTests {
    func recorded(_ position: UInt64, correlation: String?) -> RecordedEvent {
        RecordedEvent(id: EventID(), stream: "s-1", streamVersion: StreamVersion(Int64(position - 1)), position: LogPosition(position),
                      type: "Happened", schemaVersion: 1, data: Array("{}".utf8), metadata: EventMetadata(correlationId: correlation),
                      timestamp: Date())
    }

    @Test func keepsTheNewestCorrelationIdsAndABoundedListPerId() throws {
        let index = CorrelationIndex(name: "t", capacity: 3)
        var p: UInt64 = 0
        for id in ["a", "b", "a", "c", "d"] { p += 1; try index.apply(recorded(p, correlation: id)) }
        try index.apply(recorded(99, correlation: nil))
        #expect(index.positions(of: "a") == [], "the oldest id went first")
        #expect(index.positions(of: "b") == [LogPosition(2)] && index.positions(of: "d") == [LogPosition(5)])
        let busy = CorrelationIndex(name: "t")
        for i in 1...(CorrelationIndex.maxPositionsPerId + 50) { try busy.apply(recorded(UInt64(i), correlation: "same")) }
        #expect(busy.positions(of: "same").count == CorrelationIndex.maxPositionsPerId)
        #expect(busy.positions(of: "same").first == LogPosition(1))
    }

    @Test func aReplayedCopyTakesOverTheState() throws {
        let live = CorrelationIndex(name: "t", capacity: 10)
        let copy = live.makeEmpty()
        try copy.apply(recorded(1, correlation: "x"))
        live.adoptState(of: copy)
        #expect(live.positions(of: "x") == [LogPosition(1)])
    }
}
