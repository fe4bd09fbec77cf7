import Foundation
import EventStore

/// Temporal and audit reads of one aggregate stream, computed from its events (never cached).
extension CommandHandler {
    /// The state of `stream` after its events up to `version` (inclusive) and committed at or
    /// before `asOf`; both optional. Returns the state and the version it reflects (nil: none).
    public func state(of stream: StreamName, atVersion version: StreamVersion? = nil, asOf: Date? = nil) throws -> (state: D.State, version: StreamVersion?) {
        var state = decider.initialState
        var reached: StreamVersion? = nil
        for r in try store.readStream(stream) {
            if let version, r.streamVersion > version { break }
            if let asOf, r.timestamp > asOf { break }
            state = decider.evolve(state, try decider.decodeRecorded(r))
            reached = r.streamVersion
        }
        return (state, reached)
    }

    /// The stream's events, upcast to their current schema (data and version), oldest first,
    /// with their decoded form. For audit/history views.
    public func history(of stream: StreamName) throws -> [(recorded: RecordedEvent, event: D.Event)] {
        try store.readStream(stream).map { r in
            (try decider.upcasters.upcast(r), try decider.decodeRecorded(r))
        }
    }
}
