import CQRS

/// given(events).when(command).then(events | error) for deciders, without a store.
///
/// `given` events go through the decider's codec (encode, upcast, decode) before being folded,
/// so a scenario also checks that every event survives storage. Usable from any test target:
///
///     let r = DeciderScenario(OrderDecider()).given([.placed(...)]).when(.ship)
///     #expect(r.events == [.shipped])   // or r.error?.kind == .conflict
public struct DeciderScenario<D: Decider> {
    public let decider: D
    public private(set) var history: [D.Event] = []

    public init(_ decider: D) { self.decider = decider }

    /// The events that already happened to the aggregate, oldest first.
    public func given(_ events: [D.Event]) -> DeciderScenario {
        var s = self
        s.history += events
        return s
    }

    /// The state after `given` (each event round-tripped through the codec).
    public func state() throws -> D.State {
        var state = decider.initialState
        for e in history {
            let enc = try decider.encode(e)
            let up = try decider.upcasters.upcast(type: enc.type, version: enc.schemaVersion, data: enc.data)
            state = decider.evolve(state, try decider.decode(EncodedEvent(type: enc.type, schemaVersion: up.version, data: up.data)))
        }
        return state
    }

    /// Decides `command` on that state.
    public func when(_ command: D.Command) -> Outcome {
        do {
            let state = try state()
            return Outcome(result: .success(try decider.decide(command, state)))
        } catch {
            return Outcome(result: .failure(error))
        }
    }

    /// What `when` decided.
    public struct Outcome {
        public let result: Result<[D.Event], Error>
        /// The decided events, nil if the command was rejected.
        public var events: [D.Event]? { try? result.get() }
        /// The domain rejection, nil if the command succeeded (or failed otherwise).
        public var error: DomainError? {
            if case .failure(let e) = result { return e as? DomainError }
            return nil
        }
    }
}
