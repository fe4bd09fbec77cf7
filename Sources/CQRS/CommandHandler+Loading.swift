import Foundation
import EventStore

/// Loading state (cache, else snapshot + tail, upcast) and saving snapshots after commits.
///
/// The loop never waits on the store here: a state in the cache and current with the store's
/// in-memory index is used at once; a new stream (no events, no snapshot) starts from the
/// initial state with no I/O; anything else — a cold stream, a stale cache entry, a snapshot —
/// is read asynchronously (on the store's threads, or its connection) and the decision resumes
/// when the read completes on the loop.
extension CommandHandler {
    typealias Loaded = Result<StateCache<D.State>.Entry, CommandError>

    /// The stream's state, current with the store's tail. `refresh` (after losing a race)
    /// catches the cached state up even when the index does not say it is stale yet.
    func load(_ stream: StreamName, refresh: Bool, completion: @escaping (Loaded) -> Void) {
        let head = store.streamVersion(stream)
        if let cached = cache.get(stream) {
            // Cheap freshness check (the store's in-memory index): a writer outside this handler
            // (another process, a tool) may have appended behind the cache's back. Deciding on
            // stale state could reject a valid command, which no conflict retry would repair.
            if !refresh && cached.version == head { return completion(.success(cached)) }
            return catchUp(stream, cached) { [self] result in
                if case .success(let fresh) = result { cache.put(stream, fresh) }
                completion(result)
            }
        }
        let initial = StateCache<D.State>.Entry(state: decider.initialState, version: nil, position: .start, snapshotVersion: nil)
        // A stream the store does not know has no events; without a snapshot file either, its
        // state is the initial one: no read at all (every creation).
        let snapshots = options.snapshotEvery != nil && store.mayHaveSnapshot(stream)
        if head == nil && !refresh && !snapshots { return completion(.success(initial)) }
        let finish = { [self] (result: Loaded) in
            guard case .success(var entry) = result else { return completion(result) }
            maybeSnapshot(stream, &entry)
            cache.put(stream, entry)
            completion(.success(entry))
        }
        guard snapshots else { return catchUp(stream, initial, completion: finish) }
        store.loadSnapshot(stream) { [self] loaded in
            restore(stream, loaded) { entry in self.catchUp(stream, entry ?? initial, completion: finish) }
        }
    }

    /// The entry a loaded snapshot gives, if it is readable and the store still holds, at its
    /// version, the very event it was taken after (same position, same `SnapshotFormat.anchor`).
    /// Not so after a crash with `--durability none`/`batch` that lost events the snapshot had
    /// seen, even if the stream has grown past that version again: then nil (full replay).
    private func restore(_ stream: StreamName, _ loaded: Result<Snapshot?, EventStoreError>,
                         completion: @escaping (StateCache<D.State>.Entry?) -> Void) {
        let snap: Snapshot
        switch loaded {
        case .success(let s?): snap = s
        case .success(nil): return completion(nil)
        case .failure(let error):
            // A snapshot is only an optimisation: fall back to a full replay.
            logger(.warning, "ignoring unreadable snapshot of \(stream): \(error)")
            return completion(nil)
        }
        guard case let .snapshot(position, anchor, bytes) = SnapshotFormat.decode(snap.data, schemaVersion: decider.stateSchemaVersion) else {
            return completion(nil)
        }
        store.readStream(stream, from: snap.version, direction: .forward, maxCount: 1) { [self] read in
            guard case .success(let events) = read, let at = events.first, at.streamVersion == snap.version,
                  at.position == position, SnapshotFormat.anchor(of: at) == anchor else {
                logger(.warning, "ignoring the snapshot of \(stream) at version \(snap.version): the store no longer has that event "
                       + "(lost in a crash without fsync durability); replaying the stream")
                return completion(nil)
            }
            do {
                let state = try decider.decodeState(Array(bytes))
                completion(StateCache<D.State>.Entry(state: state, version: snap.version, position: position, snapshotVersion: snap.version))
            } catch {
                logger(.warning, "ignoring unreadable snapshot of \(stream): \(error)")
                completion(nil)
            }
        }
    }

    /// Folds the events stored after `entry.version` into it (read off the loop).
    func catchUp(_ stream: StreamName, _ entry: StateCache<D.State>.Entry, completion: @escaping (Loaded) -> Void) {
        let from = StreamVersion((entry.version?.value ?? -1) + 1)
        store.readStream(stream, from: from, direction: .forward, maxCount: Int.max) { [self] read in
            switch read {
            case .failure(let err):
                completion(.failure(.store(err)))
            case .success(let recorded):
                stats.eventsReadForLoading += recorded.count
                var e = entry
                for r in recorded {
                    do { decider.apply(try decider.decodeRecorded(r), to: &e.state) } catch {
                        return completion(.failure(.corruptState(
                            stream: stream, reason: "event at version \(r.streamVersion) (\(r.type) v\(r.schemaVersion)): \(error)")))
                    }
                    e.version = r.streamVersion
                    e.position = r.position
                }
                completion(.success(e))
            }
        }
    }

    /// When the stream has grown by `snapshotEvery` events since its last snapshot: encodes the
    /// state here and saves it on the store's threads (the anchor event is read there first).
    /// `entry.snapshotVersion` moves at once, so one save is started per interval; a failed
    /// save is logged and the next interval tries again.
    func maybeSnapshot(_ stream: StreamName, _ entry: inout StateCache<D.State>.Entry) {
        guard let every = options.snapshotEvery, every > 0, let v = entry.version,
              v.value - (entry.snapshotVersion?.value ?? -1) >= Int64(every) else { return }
        let bytes: [UInt8]
        do {
            guard let encoded = try decider.encodeState(entry.state) else { return }
            bytes = encoded
        } catch {
            return logger(.warning, "snapshot of \(stream) at \(v) failed: \(error)")
        }
        entry.snapshotVersion = v
        let position = entry.position, schema = decider.stateSchemaVersion
        // The anchor needs the event's commit time, which only the store knows.
        store.readStream(stream, from: v, direction: .forward, maxCount: 1) { [self] read in
            guard case .success(let events) = read, let last = events.first, last.position == position else { return }
            let data = SnapshotFormat.encode(schemaVersion: schema, position: position, anchor: SnapshotFormat.anchor(of: last), state: bytes)
            store.saveSnapshot(stream, version: v, data: data) { [self] saved in
                switch saved {
                case .success: stats.snapshotsSaved += 1
                case .failure(let error): logger(.warning, "snapshot of \(stream) at \(v) failed: \(error)")
                }
            }
        }
    }
}
