import Foundation
import EventStore

/// Why an operator move was refused, in terms a transport maps to a status.
public enum OperationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No component, or no parked event, of that name or position (404).
    case notFound(String)
    /// The component is not in a state that allows the move (409).
    case conflict(String)
    /// The journal could not be written or read: nothing was done (503).
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let s), .conflict(let s), .unavailable(let s): return s
        }
    }
}

/// The operator's moves on a service's components, recorded in its operations journal (who,
/// when, why) before they take effect: list and retry or skip parked events, resume a stopped
/// component, rebuild a read model live.
extension ServiceRuntime {
    /// The parked events of every component, oldest first per component.
    public var parkedEvents: [OperationEntry] {
        journal.ledger.parked.keys.sorted().flatMap { journal.ledger.parked($0) }
    }

    private func parkingConsumer(_ component: String) throws(OperationError) -> Consumer<D> {
        guard let consumer, consumer.name == component else {
            throw .notFound("service '\(name)' has no consumer '\(component)'")
        }
        return consumer
    }

    private func readModel(_ component: String) -> ProjectionRunner? {
        readModels.first { $0.runner.projection.name == component }?.runner
    }

    /// Retries the parked event at `position` of `component`, or all of them (nil), one after
    /// the other; each outcome is recorded and returned.
    public func retryParked(component: String, position: LogPosition?, note: OperatorNote,
                            completion: @escaping (Result<[OperationEntry], OperationError>) -> Void) {
        let consumer: Consumer<D>
        do { consumer = try parkingConsumer(component) } catch { return completion(.failure(error)) }
        let positions = position.map { [$0] } ?? consumer.parked.compactMap { $0.position.map(LogPosition.init) }
        var done: [OperationEntry] = []
        func next(_ rest: ArraySlice<LogPosition>) {
            guard let p = rest.first else { return completion(.success(done)) }
            consumer.retryParked(at: p, note: note) { result in
                switch result {
                case .success(let entry):
                    done.append(entry)
                    next(rest.dropFirst())
                case .failure(let e):
                    // One position asked for: its refusal is the answer. All: skip what another
                    // request is retrying right now, stop on a journal failure.
                    if position != nil || !Self.isBusy(e) { return completion(.failure(Self.operationError(e))) }
                    next(rest.dropFirst())
                }
            }
        }
        next(positions[...])
    }

    /// Skips the parked event at `position` of `component` for good.
    public func skipParked(component: String, position: LogPosition, note: OperatorNote,
                           completion: @escaping (Result<OperationEntry, OperationError>) -> Void) {
        let consumer: Consumer<D>
        do { consumer = try parkingConsumer(component) } catch { return completion(.failure(error)) }
        consumer.skipParked(at: position, note: note) { completion($0.mapError(Self.operationError)) }
    }

    /// Refusals a retry of all parked events passes over: another request is retrying the
    /// event or skipped it meanwhile, or an earlier one of its sequence stays parked.
    private static func isBusy(_ e: Consumer<D>.ParkedMoveError) -> Bool {
        switch e {
        case .busy, .behind, .notParked: return true
        default: return false
        }
    }

    private static func operationError(_ e: Consumer<D>.ParkedMoveError) -> OperationError {
        switch e {
        case .notParked, .noJournal: return .notFound(e.description)
        case .busy, .behind: return .conflict(e.description)
        case .store: return .unavailable(e.description)
        }
    }

    /// Resumes a stopped read model or consumer from the event that stopped it, or, with
    /// `skipping`, from the next one (the skip is recorded first, so it holds after a restart).
    public func resume(component: String, skipping: Bool, note: OperatorNote,
                       completion: @escaping (Result<OperationEntry, OperationError>) -> Void) {
        let kind: String, failedAt: LogPosition, act: () throws -> Void
        if let runner = readModel(component) {
            guard case .failed(let failure) = runner.status else {
                return completion(.failure(.conflict(ResumeError.notFailed(runner.status.description).description)))
            }
            if skipping && failure.eventType.isEmpty { return completion(.failure(.conflict(ResumeError.nothingToSkip.description))) }
            (kind, failedAt) = ("projection", failure.position)
            act = { try runner.resume(skippingFailedEvent: skipping) }
        } else if let consumer, consumer.name == component {
            guard case .failed(let position, _) = consumer.status else {
                return completion(.failure(.conflict(ResumeError.notFailed(Consumer<D>.describe(consumer.status)).description)))
            }
            if skipping && position == .start { return completion(.failure(.conflict(ResumeError.nothingToSkip.description))) }
            (kind, failedAt) = ("consumer", position)
            act = { try consumer.resume() }
        } else {
            return completion(.failure(.notFound("service '\(name)' has no read model or consumer '\(component)'")))
        }
        guard beginMove(component, completion) else { return }
        var entry = OperationEntry(.resumed, component: component, kind: kind, position: failedAt, note: note)
        entry.outcome = skipping ? "next" : "failed"
        journal.record(entry) { [weak self] recorded in
            self?.movesInProgress.remove(component)
            switch recorded {
            case .failure(let e):
                completion(.failure(.unavailable("the operations journal could not be written: \(e)")))
            case .success(let entry):
                do {
                    try act()
                    completion(.success(entry))
                } catch {
                    completion(.failure(.conflict("\(error)")))
                }
            }
        }
    }

    /// Rebuilds a read model live (`ProjectionRunner.rebuild`). Answers once the rebuild has
    /// started (the `rebuild-started` entry); its end is recorded too, and shows in /health.
    public func rebuild(component: String, note: OperatorNote, completion: @escaping (Result<OperationEntry, OperationError>) -> Void) {
        guard let runner = readModel(component) else {
            return completion(.failure(.notFound("service '\(name)' has no read model '\(component)'")))
        }
        switch runner.status {
        case .starting, .stopped: return completion(.failure(.conflict(RebuildError.notRunning(runner.status.description).description)))
        default: break
        }
        guard runner.rebuildProgress == nil else { return completion(.failure(.conflict(RebuildError.alreadyRunning(component).description))) }
        guard runner.isRebuildable else { return completion(.failure(.conflict(RebuildError.notRebuildable(component).description))) }
        guard beginMove(component, completion) else { return }
        // `position`: where the view stood when the rebuild was asked for.
        let started = OperationEntry(.rebuildStarted, component: component, kind: "projection", position: runner.position, note: note)
        journal.record(started) { [weak self] recorded in
            guard let self else { return }
            movesInProgress.remove(component)
            guard case .success(let entry) = recorded else {
                return completion(.failure(.unavailable("the operations journal could not be written")))
            }
            do {
                try runner.rebuild { [weak self] outcome in self?.recordRebuildEnd(component, outcome) }
                completion(.success(entry))
            } catch {
                var failed = OperationEntry(.rebuildFailed, component: component, kind: "projection")
                failed.error = "\(error)"
                journal.record(failed) { _ in }
                completion(.failure(.conflict("\(error)")))
            }
        }
    }

    /// Marks a move on `component` as begun; false (and a 409 to `completion`) while another
    /// one is between its checks and its effect: two of them would both be recorded.
    private func beginMove<T>(_ component: String, _ completion: (Result<T, OperationError>) -> Void) -> Bool {
        guard movesInProgress.insert(component).inserted else {
            completion(.failure(.conflict("another operator move on '\(component)' is in progress")))
            return false
        }
        return true
    }

    private func recordRebuildEnd(_ component: String, _ outcome: Result<RebuildSummary, RebuildError>) {
        var entry: OperationEntry
        switch outcome {
        case .success(let s):
            entry = OperationEntry(.rebuildFinished, component: component, kind: "projection", position: s.position)
            entry.events = s.events
            entry.seconds = (s.seconds * 1000).rounded() / 1000
        case .failure(let e):
            entry = OperationEntry(.rebuildFailed, component: component, kind: "projection")
            entry.error = e.description
        }
        journal.record(entry) { [weak self] result in
            if case .failure(let e) = result {
                self?.logger(.error, "service '\(self?.name ?? "")': cannot record the end of the rebuild of '\(component)': \(e)")
            }
        }
    }

    /// The operations journal, oldest first (the audit trail).
    public func operations(completion: @escaping (Result<[OperationEntry], OperationError>) -> Void) {
        journal.entries { completion($0.mapError { .unavailable("cannot read the operations journal: \($0)") }) }
    }
}
