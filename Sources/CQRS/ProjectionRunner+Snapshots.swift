import Foundation
import EventStore

/// Read-model snapshots: restored on start (verified against the store), saved every
/// `Options.snapshotEvery` events and on graceful shutdown, encoded off the loop.
///
/// Safety argument: a snapshot is an optimisation, replaying is always correct. So a snapshot
/// is used only if its envelope and state schema version match, its position is not beyond
/// the store's last position, and the store holds, at that position, the very event the state
/// reflected (same id and commit time, `SnapshotFormat.anchor`). Anything else — a
/// damaged or foreign file, another version, a store that lost its tail in a crash (durability
/// `none`/`batch` may acknowledge before the disk has it) and may even have grown past the
/// snapshot again — is logged and the projection rebuilds from the start.
extension ProjectionRunner {
    var snapshotsEnabled: Bool { options.snapshotEvery.map { $0 > 0 } ?? false }
    var snapshotTarget: EventStore { options.snapshotStore ?? store }
    var snapshotStream: StreamName { ProjectionRunner.snapshotStream(for: projection.name) }

    // MARK: - Restore

    /// Restores the latest usable snapshot into the (empty) projection, reading it (and the
    /// store's event at its position) right here: for `prepareSynchronously`, off the loop.
    func restoreSnapshot() {
        guard snapshotsEnabled else { return }
        let loaded = Result { try snapshotTarget.loadSnapshot(snapshotStream) }.mapError(EventStoreError.wrap)
        guard let (snap, position, anchor, state) = usableSnapshot(loaded) else { return }
        let event = Result { try store.readAll(from: LogPosition(position.value - 1), maxCount: 1, filter: nil) }.mapError(EventStoreError.wrap)
        adopt(snap, position: position, anchor: anchor, state: state, eventThere: event)
    }

    /// `restoreSnapshot` for `start()` on the loop: the snapshot and the store's event at its
    /// position are read on the stores' threads; the state is restored here, on the loop.
    func restoreSnapshot(completion: @escaping () -> Void) {
        guard snapshotsEnabled else { return completion() }
        // Each step lands on the runner's executor (the loop), whichever executor the stores use.
        let executor = self.executor
        snapshotTarget.loadSnapshot(snapshotStream) { [weak self] loaded in executor.execute {
            guard let self else { return }
            guard let (snap, position, anchor, state) = self.usableSnapshot(loaded) else { return completion() }
            self.store.readAll(from: LogPosition(position.value - 1), maxCount: 1, filter: nil) { [weak self] event in executor.execute {
                self?.adopt(snap, position: position, anchor: anchor, state: state, eventThere: event)
                completion()
            } }
        } }
    }

    /// The snapshot's envelope if it is there, readable, of this build's schema and not ahead of
    /// the store; nil (logged) otherwise: replay from the start.
    private func usableSnapshot(_ loaded: Result<Snapshot?, EventStoreError>)
        -> (Snapshot, LogPosition, String, ArraySlice<UInt8>)? {
        let name = projection.name
        let snap: Snapshot
        switch loaded {
        case .success(let s?): snap = s
        case .success(nil):
            logger(.info, "projection '\(name)': no snapshot, replaying from the start")
            return nil
        case .failure(let error):
            logger(.warning, "projection '\(name)': cannot read its snapshot (\(error)), replaying from the start")
            return nil
        }
        switch SnapshotFormat.decode(snap.data, schemaVersion: projection.snapshotSchemaVersion) {
        case .unreadable:
            logger(.warning, "projection '\(name)': snapshot unreadable (damaged or an older format), replaying from the start")
            return nil
        case .otherSchema(let v):
            logger(.info, "projection '\(name)': snapshot has state schema version \(v), this build reads \(projection.snapshotSchemaVersion); replaying from the start")
            return nil
        case .snapshot(let position, let anchor, let state):
            let last = store.lastPosition
            guard position <= last else {
                logger(.warning, "projection '\(name)': snapshot at position \(position) is ahead of the store (last position \(last)): the store lost events on recovery; replaying from the start")
                return nil
            }
            guard position > .start else { return nil }
            if let floor = snapshotFloor, position <= floor {
                // Taken before (or at) the swap of an operator's rebuild: it may hold the state
                // the rebuild replaced, whose skips the journal no longer has.
                logger(.info, "projection '\(name)': snapshot at position \(position) predates its rebuild at \(floor); replaying from the start")
                return nil
            }
            return (snap, position, anchor, state)
        }
    }

    /// Restores `state` if the store still holds, at `position`, the event the snapshot was
    /// taken after.
    private func adopt(_ snap: Snapshot, position: LogPosition, anchor: String, state: ArraySlice<UInt8>,
                       eventThere: Result<[RecordedEvent], EventStoreError>) {
        let name = projection.name
        do {
            let event = try eventThere.get().first
            guard let event, event.position == position, SnapshotFormat.anchor(of: event) == anchor else {
                logger(.warning, "projection '\(name)': snapshot at position \(position) does not match the store's event there (the store was cut back and rewritten); replaying from the start")
                return
            }
            let started = options.clock()
            try projection.restore(from: Array(state))
            self.position = position
            lastSnapshot = position
            lastAnchor = .text(anchor)
            restoredSnapshotPosition = position
            let ms = max(0, options.clock().timeIntervalSince(started)) * 1000
            logger(.info, "projection '\(name)' loaded snapshot at position \(position) (\(snap.data.count) bytes, \(String(format: "%.0f", ms)) ms); replaying the tail to \(store.lastPosition)")
        } catch {
            logger(.warning, "projection '\(name)': ignoring snapshot at position \(position): \(error); replaying from the start")
        }
    }

    // MARK: - Save

    /// After a live delivery (and once on catching up): starts a background save if the
    /// position has advanced far enough and no save is in flight. Not during catch-up: the
    /// encoding would compete with the replay for the CPU, and the end of it comes soon.
    func maybeSnapshot() {
        guard snapshotsEnabled, savesSnapshots, isCaughtUp, let every = options.snapshotEvery, !snapshotInFlight,
              position.value >= lastSnapshot.value + every else { return }
        let now = options.clock()
        guard now.timeIntervalSince(lastSnapshotStarted) >= options.snapshotMinInterval else { return }
        if let pending = beginSnapshot() {
            lastSnapshotStarted = now
            snapshotInFlight = true
            pending.onDone = { [weak self] in self?.snapshotInFlight = false }
        }
    }

    /// Saves a last snapshot for a restart without replay (graceful shutdown): captures the
    /// state now (on the loop) and encodes and saves it on the snapshot queue, after any save
    /// in flight. nil when there is nothing new to save, snapshots are off or the projection
    /// failed (its state may be half-applied). Wait on the result before closing the stores.
    public func saveFinalSnapshot() -> PendingSnapshot? {
        guard snapshotsEnabled, savesSnapshots, options.snapshotOnStop, failure == nil else { return nil }
        return beginSnapshot(final: true)
    }

    /// Captures the state at `position` and queues its encoding and save. Loop thread.
    private func beginSnapshot(final: Bool = false) -> PendingSnapshot? {
        guard position > lastSnapshot, let anchor = lastAnchor?.text else { return nil }
        let encode: SnapshotEncoding
        do {
            guard let e = try projection.captureSnapshot() else { return nil }
            encode = e
        } catch {
            logger(.warning, "projection '\(projection.name)': snapshot capture at \(position) failed: \(error)")
            return nil
        }
        let pending = PendingSnapshot(projection: projection.name, position: position, final: final)
        let schema = projection.snapshotSchemaVersion, position = self.position
        let target = snapshotTarget, stream = snapshotStream, clock = options.clock
        let executor = self.executor
        snapshotWorkQueue.async { [weak self] in
            let started = clock()
            let outcome: Result<Int, Error> = Result {
                let data = SnapshotFormat.encode(schemaVersion: schema, position: position, anchor: anchor, state: try encode())
                try target.saveSnapshot(stream, version: StreamVersion(Int64(position.value)), data: data)
                return data.count
            }
            let seconds = max(0, clock().timeIntervalSince(started))
            pending.finish(outcome.map { (bytes: $0, seconds: seconds) })
            executor.execute { self?.snapshotFinished(pending) }
        }
        return pending
    }

    /// On the loop, after a save: bookkeeping and the log line.
    private func snapshotFinished(_ pending: PendingSnapshot) {
        switch pending.result {
        case .success(let r)?:
            if pending.position > lastSnapshot { lastSnapshot = pending.position }
            snapshotsSaved += 1
            if pending.final { break }   // the caller of saveFinalSnapshot() reports it
            logger(.info, "projection '\(projection.name)' saved snapshot at position \(pending.position) (\(r.bytes) bytes, \(String(format: "%.0f", r.seconds * 1000)) ms off the loop)")
        case .failure(let error)? where !pending.final:
            // Ignored: the next one retries; until then a restart replays a longer tail.
            logger(.warning, "projection '\(projection.name)': snapshot at \(pending.position) failed: \(error)")
        default:
            break
        }
        pending.onDone?()
        pending.onDone = nil
    }
}

/// A snapshot save queued on a background queue; `wait` blocks until it is done.
public final class PendingSnapshot: @unchecked Sendable {
    public let projection: String
    public let position: LogPosition
    /// From `saveFinalSnapshot()`: its caller waits and reports.
    public let final: Bool
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var _result: Result<(bytes: Int, seconds: Double), Error>?
    /// Loop-thread callback after the runner's bookkeeping.
    var onDone: (() -> Void)?

    init(projection: String, position: LogPosition, final: Bool) {
        self.projection = projection
        self.position = position
        self.final = final
    }

    /// Bytes written and seconds spent, or the error; nil while running.
    public var result: Result<(bytes: Int, seconds: Double), Error>? {
        lock.lock(); defer { lock.unlock() }
        return _result
    }

    func finish(_ result: Result<(bytes: Int, seconds: Double), Error>) {
        lock.lock()
        _result = result
        lock.unlock()
        done.signal()
    }

    /// Blocks the calling thread until the save is done or `timeout` seconds pass; the result
    /// (nil on timeout). For shutdown only: never on a loop that serves requests.
    public func wait(timeout seconds: Double) -> Result<(bytes: Int, seconds: Double), Error>? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        done.signal()   // later waits return at once
        return result
    }
}
