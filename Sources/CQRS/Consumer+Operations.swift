import Foundation
import EventStore

/// The operator's moves on a consumer: resume a stopped one, retry or skip a parked event.
/// `ServiceRuntime+Operations` records each one in the service's journal.
extension Consumer {
    /// Why an operator move on a parked event was refused.
    public enum ParkedMoveError: Error, Hashable, Sendable, CustomStringConvertible {
        case notParked(LogPosition)
        case busy(LogPosition)
        /// An earlier event of the same sequence is still parked: retry or skip it first.
        case behind(LogPosition, earlier: LogPosition)
        case noJournal
        case store(String)

        public var description: String {
            switch self {
            case .notParked(let p): return "no event is parked at public position \(p)"
            case .busy(let p): return "the parked event at public position \(p) is being retried"
            case let .behind(p, earlier):
                return "the event at public position \(p) is parked behind the one at \(earlier) (same sequence): retry or skip that one first"
            case .noJournal: return "this consumer does not park events"
            case .store(let e): return "the operations journal could not be written: \(e)"
            }
        }
    }

    /// An operator's move on a stopped consumer: follow the public log again after its
    /// checkpoint, so the event that stopped it is handled again (after a fix); to pass it
    /// instead, record the skip in the journal first (the ledger then skips it).
    /// - Returns: the public position where it had stopped.
    @discardableResult
    public func resume() throws -> LogPosition {
        guard case .failed(let position, _) = status else { throw ResumeError.notFailed(Self.describe(status)) }
        subscription?.cancel()
        subscription = nil
        queue = []
        queueHead = 0
        inFlight = [:]
        held = []
        attempts = [:]
        epoch += 1
        storeResends = 0
        status = .idle
        busySequences = [:]
        sequences = [:]
        logger(.warning, "consumer '\(name)' resumed after public position \(checkpoint) (it had stopped at \(position))")
        // Stopped before it found its checkpoint: look for it again.
        start(from: hasFollowed ? checkpoint : nil)
        return position
    }

    /// The status as `/health` names it.
    static func describe(_ status: Status) -> String {
        switch status {
        case .idle: return "idle"
        case .running: return "running"
        case .retrying: return "retrying"
        case .failed: return "failed"
        case .stopped: return "stopped"
        }
    }


    /// The parked events, oldest first.
    public var parked: [OperationEntry] { journal?.ledger.parked(name) ?? [] }

    /// Handles the parked event at `position` again (after a fix): reads it from the public log,
    /// maps it and sends its commands with their original idempotency keys, so an effect that
    /// had been applied is not applied again. Records the outcome (`resolved`, or `failed` with
    /// the error: the event stays parked) with `note`; `completion` gets the recorded entry.
    public func retryParked(at position: LogPosition, note: OperatorNote,
                            completion: @escaping (Result<OperationEntry, ParkedMoveError>) -> Void) {
        guard let journal else { return completion(.failure(.noJournal)) }
        guard let parked = journal.ledger.parked[name]?[position.value] else { return completion(.failure(.notParked(position))) }
        if let key = parked.sequence, let ahead = journal.ledger.parkedAhead(name, sequence: key, before: position) {
            return completion(.failure(.behind(position, earlier: ahead)))
        }
        guard operatorRetries.insert(position).inserted else { return completion(.failure(.busy(position))) }
        let finish: (String?) -> Void = { [weak self] error in
            guard let self else { return }
            var entry = OperationEntry(.retried, component: name, kind: "consumer", position: position, note: note)
            entry.outcome = error == nil ? "resolved" : "failed"
            entry.error = error
            journal.record(entry) { [weak self] recorded in
                self?.operatorRetries.remove(position)
                if error == nil { self?.logger(.info, "consumer '\(self?.name ?? "")': parked public position \(position) resolved by \(note.by)") }
                completion(recorded.mapError { .store("\($0)") })
            }
        }
        publicLog.readAll(from: LogPosition(position.value - 1), maxCount: 1, filter: nil) { [weak self] read in
            guard let self else { return }
            let envelope: PublicEventEnvelope
            switch read {
            case .success(let events):
                guard let first = events.first, first.position == position, let e = PublicEventEnvelope(first) else {
                    return finish("public position \(position) holds no public event")
                }
                envelope = e
            case .failure(let e):
                return finish("cannot read public position \(position): \(e)")
            }
            let commands: [ConsumerCommand<D.Command>]
            do { commands = try map(envelope) } catch { return finish("mapping \(envelope.type) failed: \(error)") }
            var left = commands.count, failure: String?
            if left == 0 { return finish(nil) }
            for (i, c) in commands.enumerated() {
                handler.handle(c.command, on: c.stream, concurrency: c.concurrency,
                               context: context(envelope, index: i, safe: nil)) { result in
                    switch result {
                    case .success, .failure(.alreadyApplied), .failure(.domain), .failure(.versionMismatch),
                         .failure(.streamAlreadyExists), .failure(.idempotencyKeyReused):
                        break
                    case .failure(let e):
                        if failure == nil { failure = "\(e)" }
                    }
                    left -= 1
                    if left == 0 { finish(failure) }
                }
            }
        }
    }

    /// Drops the parked event at `position` for good (it is never handled), recorded with `note`.
    public func skipParked(at position: LogPosition, note: OperatorNote,
                           completion: @escaping (Result<OperationEntry, ParkedMoveError>) -> Void) {
        guard let journal else { return completion(.failure(.noJournal)) }
        guard journal.ledger.isParked(name, position) else { return completion(.failure(.notParked(position))) }
        guard !operatorRetries.contains(position) else { return completion(.failure(.busy(position))) }
        operatorRetries.insert(position)
        journal.record(OperationEntry(.skipped, component: name, kind: "consumer", position: position, note: note)) { [weak self] r in
            self?.operatorRetries.remove(position)
            completion(r.mapError { .store("\($0)") })
        }
    }
}
