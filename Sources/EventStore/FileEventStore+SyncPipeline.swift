import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `.fsync` pipeline: each written batch gets its own fdatasync (started after its write),
/// several may run at once, and a batch is published once its own sync succeeded and every
/// earlier batch was published. Any sync failure fails every unpublished batch, cuts the log
/// back to the last published byte and marks the store unhealthy (after a failed fsync no later
/// "success" is trusted).
extension FileEventStore {
    /// One descriptor per pipeline slot on the active segment: with its own open file
    /// description, each fdatasync reports writeback errors that happened since it was opened.
    func openSyncDescriptors() throws {
        for fd in syncFDs { io.close(fd) }
        syncFDs = []
        queueCond.lock(); freeSyncSlots = []; queueCond.unlock()
        guard case .fsync = options.durability else { return }
        // Opened before any data of the segment is written, so every error on that data is
        // after each descriptor's error cursor.
        let path = directory + "/" + SegmentFile.name(activeSegment)
        do {
            for _ in 0..<pipelineDepth { syncFDs.append(try io.open(path, flags: O_RDONLY, mode: 0)) }
        } catch {
            // All or none: a partial set would leave slots that are never free.
            for fd in syncFDs { io.close(fd) }
            syncFDs = []
            throw error
        }
        queueCond.lock(); freeSyncSlots = Array(0..<syncFDs.count); queueCond.unlock()
    }

    /// Whether no fdatasync is running (called with `queueCond` held).
    var syncsIdle: Bool { runningSyncs == 0 }

    /// Whether the writer may start another batch (called with `queueCond` held): with
    /// `.fsync`, when a sync slot is free and either no sync runs, enough appends wait
    /// (`syncPipelineMinBatch`), or the oldest running sync has taken `syncPipelineMaxWait`
    /// already (a slow disk: waiting for it would cost more than a sync of their own).
    var canStartBatch: Bool {
        guard case .fsync = options.durability else { return true }
        guard !freeSyncSlots.isEmpty else { return false }
        if syncsIdle || queue.count >= options.syncPipelineMinBatch { return true }
        guard let oldest = syncStarted.values.min() else { return true }
        return Date().timeIntervalSince(oldest) >= options.syncPipelineMaxWait
    }

    /// When appends wait below the threshold for a running sync, the moment they may start a
    /// batch of their own anyway (called with `queueCond` held); nil: nothing to wait for.
    var syncWaitDeadline: Date? {
        guard case .fsync = options.durability, !queue.isEmpty, !freeSyncSlots.isEmpty,
              let oldest = syncStarted.values.min() else { return nil }
        return oldest.addingTimeInterval(options.syncPipelineMaxWait)
    }

    /// `fdatasync(fd)`, and the seconds it took (for `StoreStats.syncSeconds`).
    func timedFdatasync(_ fd: Int32) throws -> Double {
        let started = DispatchTime.now().uptimeNanoseconds
        try io.fdatasync(fd)
        return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// Runs the fdatasync covering batch `seq` on the sync queue; reports to the writer.
    func startSync(_ seq: UInt64) {
        queueCond.lock()
        let slot = freeSyncSlots.removeLast()  // admission (`canStartBatch`) guaranteed one
        runningSyncs += 1
        syncStarted[slot] = Date()
        queueCond.unlock()
        let fd = syncFDs[slot]
        syncQueue.async { [self] in
            var failure: EventStoreError?
            do {
                let seconds = try timedFdatasync(fd)
                stateLock.lock(); counters.fsyncs += 1; counters.syncSeconds.observe(seconds); stateLock.unlock()
            } catch {
                failure = (error as? EventStoreError) ?? .io(errno: EIO, what: "\(error)")
            }
            queueCond.lock()
            freeSyncSlots.append(slot)
            runningSyncs -= 1
            syncStarted[slot] = nil
            if let failure {
                if syncError == nil { syncError = failure }
            } else {
                syncedBatches.insert(seq)
            }
            queueCond.signal()
            queueCond.unlock()
        }
    }

    /// Whether the writer has pipeline work (called with `queueCond` held).
    func syncNewsAvailable() -> Bool {
        guard let head = inFlight.first else { return false }
        return syncError != nil || !head.needsSync || syncedBatches.contains(head.seq) || confirmedBatches.contains(head.seq)
    }

    /// Reads (and consumes the error of) the sync reports (called with `queueCond` held).
    func takeSyncNews() -> EventStoreError? {
        let failure = syncError
        syncError = nil
        if !syncedBatches.isEmpty {
            confirmedBatches.formUnion(syncedBatches)
            syncedBatches.removeAll(keepingCapacity: true)
        }
        return failure
    }

    func handleSyncNews(failure: EventStoreError?) {
        // After a failure nothing unpublished is trusted, even if its own sync also succeeded.
        if let failure { failPipeline(failure) } else { publishReady() }
    }

    /// Publishes, in order, every leading in-flight batch that is durable.
    func publishReady() {
        while let head = inFlight.first, !head.needsSync || confirmedBatches.contains(head.seq) {
            inFlight.removeFirst()
            confirmedBatches.remove(head.seq)
            publish(head)
        }
    }

    /// Fails every unpublished batch, truncates the log to the last published byte and marks
    /// the store unhealthy. No half record (nor any unacknowledged record) stays in the file.
    func failPipeline(_ failure: EventStoreError) {
        let pending = inFlight
        inFlight = []
        confirmedBatches.removeAll()
        // Truncation failing too is survivable: recovery drops a torn tail, and whole records
        // left behind were simply never acknowledged. But only a clean cut lets the store heal
        // without a reopen.
        let cut = (try? io.ftruncate(activeFD, length: committedOffset)) != nil
        activeOffset = committedOffset
        writtenHash = lastHash
        overlay = BatchOverlay(nextPosition: index.lastPosition + 1)
        if failFastReasonSnapshot() == nil { markUnhealthy("\(failure)", healsWhenSpaceReturns: cut && failure.isOutOfSpace) }
        for var batch in pending {
            failBatch(&batch.results, from: index.lastPosition + 1, with: failure)
            complete(batch.items, batch.results)
        }
    }

    /// Waits until every in-flight batch is published or failed and no fdatasync is running
    /// (before a segment roll closes the sync descriptors).
    func drainPipeline() {
        while true {
            queueCond.lock()
            while !syncNewsAvailable() && !(inFlight.isEmpty && syncsIdle) { queueCond.wait() }
            let done = inFlight.isEmpty && syncsIdle
            let failure = takeSyncNews()
            queueCond.unlock()
            handleSyncNews(failure: failure)
            if done { return }
        }
    }
}

