import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The writer thread: group commit. It is the only thread that mutates the index.
extension FileEventStore {
    var pipelineDepth: Int {
        if case .fsync = options.durability { return max(1, options.syncPipelineDepth) }
        return 1
    }

    func writerMain() {
        while true {
            queueCond.lock()
            var items: [PendingAppend] = []
            var exiting = false
            var probe = false
            while true {
                if syncNewsAvailable() { break }
                if !queue.isEmpty && canStartBatch { items = takeBatch(); break }
                if !accepting && queue.isEmpty && inFlight.isEmpty && syncsIdle { exiting = true; break }
                if let due = spaceProbeDue, accepting {
                    if Date() >= due && inFlight.isEmpty && syncsIdle { probe = true; break }
                    _ = queueCond.wait(until: max(due, Date().addingTimeInterval(0.01)))
                } else if unsynced, case .batch(let ms) = options.durability {
                    let deadline = lastSync.addingTimeInterval(Double(ms) / 1000)
                    if Date() >= deadline || !queueCond.wait(until: deadline) { break }
                } else if let deadline = syncWaitDeadline {
                    _ = queueCond.wait(until: deadline)   // then `canStartBatch` admits them
                } else {
                    queueCond.wait()
                }
            }
            let failure = takeSyncNews()
            queueCond.unlock()
            handleSyncNews(failure: failure)
            if !items.isEmpty { commit(items) }
            if probe { probeSpace() }
            if unsynced, case .batch(let ms) = options.durability,
               exiting || Date().timeIntervalSince(lastSync) * 1000 >= Double(ms) {
                deferredSync()
            }
            if exiting { break }
        }
        shutDown()
        writerDone.signal()
    }

    /// Takes queued appends up to `maxBatchBytes` (at least one). Called with `queueCond` held.
    private func takeBatch() -> [PendingAppend] {
        if queue.isEmpty { return [] }
        var bytes = 0
        var n = 0
        while n < queue.count {
            for e in queue[n].events { bytes += e.data.count + 160 }
            n += 1
            if bytes >= options.maxBatchBytes { break }
        }
        if n == queue.count {
            var all: [PendingAppend] = []
            swap(&all, &queue)
            queue.reserveCapacity(all.count)
            return all
        }
        let taken = Array(queue[0..<n])
        queue.removeFirst(n)
        return taken
    }

    /// Validates and encodes one batch, writes it with one call, then either publishes it
    /// (`.batch`/`.none`) or hands it to the sync pipeline (`.fsync`).
    private func commit(_ items: [PendingAppend]) {
        var results = [Result<AppendResult, EventStoreError>](repeating: .failure(.closed), count: items.count)
        if let reason = failFastReasonSnapshot() {
            for k in 0..<items.count { results[k] = .failure(.storeUnhealthy(reason: reason)) }
            complete(items, results)
            return
        }
        if inFlight.isEmpty { overlay = BatchOverlay(nextPosition: index.lastPosition + 1) }
        let firstNewPosition = overlay.nextPosition
        batchBuffer.removeAll(keepingCapacity: true)
        var newEvents: [(stream: StreamName, id: EventID, offset: Int, length: Int)] = []
        var written: [Int] = []
        var chain = writtenHash
        let micros = Int64((options.clock().timeIntervalSince1970 * 1_000_000).rounded())
        for (k, item) in items.enumerated() {
            if item.events.contains(where: { RecordFormat.encodedSize(stream: item.stream, event: $0) > RecordFormat.maxRecordSize }) {
                results[k] = .failure(.invalidArgument("an event exceeds the maximum record size of \(RecordFormat.maxRecordSize) bytes"))
                continue
            }
            switch AppendValidator.decide(index: index, overlay: &overlay, stream: item.stream, expected: item.expected, events: item.events) {
            case .reject(let error):
                results[k] = .failure(error)
            case .duplicate(let original):
                results[k] = .success(original)
            case let .write(firstVersion, firstPosition):
                for (i, e) in item.events.enumerated() {
                    let at = batchBuffer.count
                    chain = RecordFormat.encode(into: &batchBuffer, hasher: &hasher, prevHash: chain,
                                                position: firstPosition + UInt64(i), stream: item.stream,
                                                streamVersion: firstVersion + Int64(i), timestampMicros: micros, event: e)
                    newEvents.append((item.stream, e.id, at, batchBuffer.count - at))
                }
                let n = item.events.count
                results[k] = .success(AppendResult(nextExpectedVersion: StreamVersion(firstVersion + Int64(n) - 1),
                                                   firstPosition: LogPosition(firstPosition),
                                                   lastPosition: LogPosition(firstPosition + UInt64(n) - 1)))
                written.append(k)
            }
        }
        let wrote = !batchBuffer.isEmpty
        if wrote {
            do {
                if activeOffset > 0 && activeOffset + Int64(batchBuffer.count) > options.segmentSize {
                    // Every in-flight batch must be durable (or failed) before switching files.
                    drainPipeline()
                    if let reason = failFastReasonSnapshot() {
                        throw EventStoreError.storeUnhealthy(reason: reason)
                    }
                    try rollSegment()
                }
                try io.pwrite(activeFD, batchBuffer, offset: activeOffset)
            } catch {
                let failure = (error as? EventStoreError) ?? .io(errno: EIO, what: "\(error)")
                failBatch(&results, from: index.lastPosition + 1, with: failure)
                failPipeline(failure)
                complete(items, results)
                return
            }
        }
        nextBatchSeq += 1
        let batch = InFlightBatch(seq: nextBatchSeq, items: items, results: results, written: written, newEvents: newEvents,
                                  startOffset: activeOffset, byteCount: batchBuffer.count, chainHash: chain,
                                  firstNewPosition: firstNewPosition, timestampMicros: micros, needsSync: wrote)
        activeOffset += Int64(batchBuffer.count)
        writtenHash = chain
        switch options.durability {
        case .fsync:
            inFlight.append(batch)
            if wrote { startSync(batch.seq) } else { publishReady() }
        case .batch:
            if wrote { unsynced = true }
            publish(batch)
        case .none:
            publish(batch)
        }
    }

    /// Makes a durable batch visible to readers and subscribers, then completes its callers.
    func publish(_ batch: InFlightBatch) {
        if batch.needsSync {
            stateLock.lock()
            for e in batch.newEvents {
                index.append(stream: e.stream, id: e.id)
                locations.append(RecordLocation.pack(segment: activeSegment, offset: batch.startOffset + Int64(e.offset)))
                lengths.append(UInt32(e.length))
                uncheckpointedIDs.append(e.id)
            }
            counters.batches += 1
            counters.batchEvents.observe(Double(batch.newEvents.count))
            counters.eventsWritten += UInt64(batch.newEvents.count)
            counters.bytesWritten += UInt64(batch.byteCount)
            stateLock.unlock()
            lastHash = batch.chainHash
            committedOffset = batch.startOffset + Int64(batch.byteCount)
            if hub.hasSubscribers {
                hub.publish(recordedEvents(batch.items, batch.results, batch.written,
                                           timestamp: Date(timeIntervalSince1970: Double(batch.timestampMicros) / 1_000_000)))
            }
        }
        complete(batch.items, batch.results)
        if batch.needsSync { maybeCheckpoint() }
    }

    /// Turns the successes of a batch that will not be committed into `failure` (rejections
    /// keep their own error; idempotent repeats of already committed events stay successful).
    func failBatch(_ results: inout [Result<AppendResult, EventStoreError>], from firstUncommitted: UInt64, with failure: EventStoreError) {
        for k in 0..<results.count {
            if case .success(let r) = results[k], r.lastPosition.value >= firstUncommitted { results[k] = .failure(failure) }
        }
    }

    private func recordedEvents(_ items: [PendingAppend], _ results: [Result<AppendResult, EventStoreError>],
                                _ written: [Int], timestamp: Date) -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        for k in written {
            guard case .success(let r) = results[k] else { continue }
            let item = items[k]
            let firstVersion = r.nextExpectedVersion.value - Int64(item.events.count) + 1
            for (i, e) in item.events.enumerated() {
                out.append(RecordedEvent(id: e.id, stream: item.stream, streamVersion: StreamVersion(firstVersion + Int64(i)),
                                         position: LogPosition(r.firstPosition.value + UInt64(i)), type: e.type,
                                         schemaVersion: e.schemaVersion, data: e.data, metadata: e.metadata, timestamp: timestamp))
            }
        }
        return out
    }

    /// Completes a batch's callers in order with one executor hop.
    func complete(_ items: [PendingAppend], _ results: [Result<AppendResult, EventStoreError>]) {
        var succeeded: UInt64 = 0
        for r in results { if case .success = r { succeeded += 1 } }
        if succeeded > 0 {
            stateLock.lock()
            counters.appends += succeeded
            stateLock.unlock()
        }
        executor.execute {
            for k in 0..<items.count { items[k].completion(results[k]) }
        }
    }

    var activeFD: Int32 {
        stateLock.lock(); defer { stateLock.unlock() }
        return segmentFDs[activeSegment]
    }

    func failFastReasonSnapshot() -> String? {
        queueCond.lock(); defer { queueCond.unlock() }
        return failFastReason
    }

    /// After an I/O failure: appends fail fast from now on; `health` reports why. With
    /// `healsWhenSpaceReturns` (a full disk, the log cut back cleanly) the writer probes for
    /// space every `spaceProbeInterval` and turns the store healthy again when it is back.
    func markUnhealthy(_ reason: String, healsWhenSpaceReturns: Bool = false) {
        let healing = healsWhenSpaceReturns && options.spaceProbeInterval > 0
        let shown = healing ? reason + " (appends resume when space returns)" : reason
        log(.warning, "store unhealthy, refusing appends: \(shown)")
        setRefusingAppends(because: shown)
        if healing { spaceProbeDue = Date().addingTimeInterval(options.spaceProbeInterval) }
    }

    /// `health` and the appends' fail-fast check together: refusing for `reason`, or (nil) healthy.
    private func setRefusingAppends(because reason: String?) {
        stateLock.lock()
        healthState = reason.map { .unhealthy(reason: $0) } ?? .healthy
        stateLock.unlock()
        queueCond.lock()
        failFastReason = reason
        queueCond.unlock()
    }

    /// The scratch file of the space probe, in the store's directory.
    static let spaceProbeFile = "space-probe.tmp"

    /// Writes and syncs a scratch file the size of a large batch in the store's directory; if
    /// that works, space has returned: fresh sync descriptors (their error state is clean)
    /// and appends are accepted again. Runs on the writer with nothing in flight.
    private func probeSpace() {
        let path = directory + "/" + FileEventStore.spaceProbeFile
        do {
            let fd = try io.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
            defer { io.close(fd); try? io.unlink(path) }
            try io.pwrite(fd, [UInt8](repeating: 0, count: max(4096, options.spaceProbeBytes)), offset: 0)
            try io.fdatasync(fd)
            try openSyncDescriptors()
        } catch {
            spaceProbeDue = Date().addingTimeInterval(options.spaceProbeInterval)
            return
        }
        spaceProbeDue = nil
        setRefusingAppends(because: nil)
        log(.info, "store healthy again: space returned, accepting appends")
    }

    /// `.batch` durability: the periodic fdatasync of already acknowledged writes.
    private func deferredSync() {
        do {
            let seconds = try timedFdatasync(activeFD)
            unsynced = false
            lastSync = Date()
            stateLock.lock(); counters.fsyncs += 1; counters.syncSeconds.observe(seconds); stateLock.unlock()
        } catch {
            unsynced = false
            markUnhealthy("deferred fdatasync failed; events acknowledged since the last sync may not be durable: \(error)")
        }
    }

    /// Starts the next segment file (after syncing the current one if needed).
    private func rollSegment() throws {
        if unsynced { try io.fdatasync(activeFD); unsynced = false; lastSync = Date() }
        let next = activeSegment + 1
        let path = directory + "/" + SegmentFile.name(next)
        let fd = try io.open(path, flags: O_RDWR | O_CREAT | O_TRUNC, mode: 0o644)
        do { try io.fsync(directoryFD) } catch { io.close(fd); throw error }
        stateLock.lock()
        segmentFDs.append(fd)
        stateLock.unlock()
        activeSegment = next
        activeOffset = 0
        committedOffset = 0
        try openSyncDescriptors()
    }

    /// Appends a checkpoint block once enough events have been committed since the last one.
    private func maybeCheckpoint() {
        guard index.lastPosition - checkpointedEvents >= options.checkpointEvery else { return }
        writeCheckpoint(wait: false)
    }

    /// Hands the events committed since the last checkpoint to `checkpointQueue` as one block
    /// (cost: the delta). The writer only copies what the block needs (a few ms for 100,000
    /// events); encoding and writing happen on the queue, in order. `wait`: returns once the
    /// block (and any before it) is written (open and close).
    ///
    /// A block that fails to write stops the checkpoint for this process's life (a later block
    /// would leave a gap): the next open scans the log from the last block written. The
    /// checkpoint only shortens that scan; the log is the truth.
    /// Writer thread (or open/close) only: reads the index without the lock.
    func writeCheckpoint(wait: Bool = true) {
        let n = Int(index.lastPosition), done = Int(checkpointedEvents)
        guard n > done, uncheckpointedIDs.count == n - done else { return }
        let lastLocation = locations[n - 1]
        let newStreams = index.streams[checkpointedStreams...].map { $0.name }
        let blockLocations = Array(locations[done..<n]), blockLengths = Array(lengths[done..<n])
        let blockOrdinals = Array(index.streamOfPosition[done..<n])
        var ids: [EventID] = []
        ids.reserveCapacity(uncheckpointedIDs.count)
        swap(&ids, &uncheckpointedIDs)
        let endSegment = RecordLocation.segment(lastLocation), endOffset = RecordLocation.offset(lastLocation) + Int64(lengths[n - 1])
        let hash = lastHash
        checkpointedEvents = UInt64(n)
        checkpointedStreams = index.streams.count
        let save = { [self] in
            guard !checkpointBroken else { return }
            let block = IndexCheckpoint.encodeBlock(
                firstPosition: done + 1, newStreams: newStreams, locations: blockLocations[...], lengths: blockLengths[...],
                ordinals: blockOrdinals[...], ids: ids, endSegment: endSegment, endOffset: endOffset, lastHash: hash)
            do {
                try IndexCheckpoint.appendBlock(block, at: checkpointFileSize, directory: directory, io: io)
                checkpointFileSize += block.count
            } catch {
                checkpointBroken = true
                log(.warning, "could not save the index checkpoint (the next open scans the log from the last block saved): \(error)")
            }
        }
        if wait { checkpointQueue.sync(execute: save) } else { checkpointQueue.async(execute: save) }
    }

    /// On close: the queue and the pipeline are drained; sync, checkpoint, stop subscriptions, release files.
    private func shutDown() {
        if unsynced { deferredSync() }
        if case .none = options.durability, index.lastPosition > 0 {
            try? io.fdatasync(activeFD)
        }
        if health.isHealthy { writeCheckpoint() }
        checkpointQueue.sync {}   // blocks handed over earlier are written before the files are let go
        hub.closeAll()
        stateLock.lock()
        if healthState.isHealthy { healthState = .unhealthy(reason: "closed") }
        stateLock.unlock()
        releaseFiles()
    }
}
