import Foundation
import EventStore

/// Loading state: cache, else snapshot + tail (upcast), and saving snapshots after commits.
extension CommandHandler {
    /// The cached entry (caught up with the store's tail when `refresh`), else snapshot + tail.
    func loadEntry(_ stream: StreamName, refresh: Bool) throws -> StateCache<D.State>.Entry {
        if let cached = cache.get(stream) {
            if !refresh { return cached }
            let fresh = try catchUp(stream, cached)
            cache.put(stream, fresh)
            return fresh
        }
        var entry = StateCache<D.State>.Entry(state: decider.initialState, version: nil, position: .start, snapshotVersion: nil)
        if options.snapshotEvery != nil {
            do {
                if let snap = try store.loadSnapshot(stream),
                   case let .snapshot(position, anchor, bytes) = SnapshotFormat.decode(snap.data, schemaVersion: decider.stateSchemaVersion),
                   try snapshotMatchesStore(stream, version: snap.version, position: position, anchor: anchor) {
                    entry.state = try decider.decodeState(Array(bytes))
                    entry.version = snap.version
                    entry.position = position
                    entry.snapshotVersion = snap.version
                }
            } catch {
                // A snapshot is only an optimisation: fall back to a full replay.
                logger(.warning, "ignoring unreadable snapshot of \(stream): \(error)")
                entry = StateCache<D.State>.Entry(state: decider.initialState, version: nil, position: .start, snapshotVersion: nil)
            }
        }
        entry = try catchUp(stream, entry)
        var snapshotted = entry
        maybeSnapshot(stream, &snapshotted)
        cache.put(stream, snapshotted)
        return snapshotted
    }

    /// Whether the store still holds, at the snapshot's version, the very event the snapshot was
    /// taken after (same global position, same `SnapshotFormat.anchor`). Not so after a crash
    /// with `--durability none`/`batch` that lost events the snapshot had seen, even if the
    /// stream has grown past that version again: the snapshot is then ignored (full replay).
    func snapshotMatchesStore(_ stream: StreamName, version: StreamVersion, position: LogPosition, anchor: String) throws -> Bool {
        let at = try store.readStream(stream, from: version, direction: .forward, maxCount: 1).first
        if let at, at.streamVersion == version, at.position == position, SnapshotFormat.anchor(of: at) == anchor { return true }
        logger(.warning, "ignoring the snapshot of \(stream) at version \(version): the store no longer has that event "
               + "(lost in a crash without fsync durability); replaying the stream")
        return false
    }

    /// Folds the events stored after `entry.version` into it.
    func catchUp(_ stream: StreamName, _ entry: StateCache<D.State>.Entry) throws -> StateCache<D.State>.Entry {
        var e = entry
        let from = StreamVersion((entry.version?.value ?? -1) + 1)
        let recorded: [RecordedEvent]
        do {
            recorded = try store.readStream(stream, from: from, direction: .forward, maxCount: Int.max)
        } catch let err as EventStoreError {
            throw CommandError.store(err)
        }
        stats.eventsReadForLoading += recorded.count
        for r in recorded {
            do { decider.apply(try decider.decodeRecorded(r), to: &e.state) } catch {
                throw CommandError.corruptState(stream: stream, reason: "event at version \(r.streamVersion) (\(r.type) v\(r.schemaVersion)): \(error)")
            }
            e.version = r.streamVersion
            e.position = r.position
        }
        return e
    }

    func maybeSnapshot(_ stream: StreamName, _ entry: inout StateCache<D.State>.Entry) {
        guard let every = options.snapshotEvery, every > 0, let v = entry.version,
              v.value - (entry.snapshotVersion?.value ?? -1) >= Int64(every) else { return }
        do {
            guard let bytes = try decider.encodeState(entry.state) else { return }
            // The anchor needs the event's commit time, which only the store knows.
            guard let last = try store.readStream(stream, from: v, direction: .forward, maxCount: 1).first,
                  last.position == entry.position else { return }
            try store.saveSnapshot(stream, version: v, data: SnapshotFormat.encode(schemaVersion: decider.stateSchemaVersion,
                                                                                   position: entry.position,
                                                                                   anchor: SnapshotFormat.anchor(of: last), state: bytes))
            entry.snapshotVersion = v
            stats.snapshotsSaved += 1
        } catch {
            logger(.warning, "snapshot of \(stream) at \(v) failed: \(error)")
        }
    }
}
