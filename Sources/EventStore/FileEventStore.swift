import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The embedded, durable engine: a segmented append-only log with group commit.
///
/// - One writer thread drains every queued append, validates it against the stream index
///   (and the appends before it in the batch, and in batches still being synced), encodes the
///   batch into one buffer, writes it with one call and fdatasyncs it once (per durability),
///   then publishes it and completes the callers in order through the executor. With `.fsync`
///   up to `syncPipelineDepth` batches may be syncing at once; each is published only after its
///   own fdatasync succeeded and all earlier batches were published.
/// - Reads `pread` committed records from the calling thread; they never wait for the writer.
/// - A failed write or fsync fails the whole batch, truncates the log back to the last good
///   offset and marks the store unhealthy (later appends fail fast). A full disk heals by
///   itself: the writer probes for space and turns healthy again. Acknowledged events are
///   never lost. Recovery on open is described on `init`.
/// - Call `close()` when done: the writer thread keeps the store alive until then.
public final class FileEventStore: EventStore, @unchecked Sendable {
    /// A written batch waiting for its fdatasync (or for earlier batches) before publishing.
    struct InFlightBatch {
        let seq: UInt64
        let items: [PendingAppend]
        var results: [Result<AppendResult, EventStoreError>]
        let written: [Int]
        let newEvents: [(stream: StreamName, id: EventID, offset: Int, length: Int)]
        let startOffset: Int64
        let byteCount: Int
        let chainHash: [UInt8]
        let firstNewPosition: UInt64
        let timestampMicros: Int64
        /// False for batches that wrote nothing (only rejections and idempotent repeats).
        let needsSync: Bool
    }

    struct PendingAppend {
        let stream: StreamName
        let expected: ExpectedVersion
        let events: [NewEvent]
        let completion: AppendCompletion
    }

    public let directory: String
    public let options: FileEventStoreOptions
    let io: FileIO
    public let executor: CompletionExecutor
    let hub = SubscriptionHub()
    let snapshots: FileSnapshotStore

    // Read-visible state: mutated only by the writer thread (and open/close), under `stateLock`.
    // The writer reads it without the lock (it is the only mutator); readers copy what they
    // need under the lock and never keep the whole arrays (that would force copy-on-write).
    let stateLock = NSLock()
    var index = StreamIndex()
    /// Record location (`RecordLocation`) and length by `position - 1`.
    var locations: [UInt64] = []
    var lengths: [UInt32] = []
    var segmentFDs: [Int32] = []
    var healthState: StoreHealth = .healthy
    var counters = StoreStats()
    var readsClosed = false

    // The append queue, guarded by `queueCond`.
    let queueCond = NSCondition()
    var queue: [PendingAppend] = []
    var accepting = true
    var failFastReason: String?

    // Writer-thread state.
    var lastHash = RecordFormat.zeroHash
    var activeSegment = 0
    var activeOffset: Int64 = 0
    var hasher = SHA256()
    var batchBuffer: [UInt8] = []
    var unsynced = false
    var lastSync = Date()
    /// Index checkpoint progress: events and streams handed to `checkpointQueue` (saved, or
    /// being saved), and the ids of the events not handed over yet (the index keeps ids only in
    /// a dictionary).
    var checkpointedEvents: UInt64 = 0
    var checkpointedStreams = 0
    var uncheckpointedIDs: [EventID] = []
    /// Encodes and appends checkpoint blocks in order, off the writer: a block of 100,000
    /// events took the writer 10-54 ms, during which no append committed (bench/REPORT.md, the
    /// open model). The file's size and whether a block failed are this queue's.
    let checkpointQueue = DispatchQueue(label: "tributary.store.checkpoint")
    var checkpointFileSize = 0
    var checkpointBroken = false
    var lockFD: Int32 = -1
    var directoryFD: Int32 = -1
    // Sync pipeline (`.fsync`): batches written but not yet durable, oldest first. Up to
    // `syncPipelineDepth` fdatasyncs run at once, each on its own descriptor (so each sees
    // writeback errors), on `syncQueue`; batches are published strictly in order.
    var inFlight: [InFlightBatch] = []
    /// Validation state of appends in written-but-unpublished batches.
    var overlay = BatchOverlay(nextPosition: 1)
    /// Chain hash after the last *written* batch (`lastHash` is after the last published one).
    var writtenHash = RecordFormat.zeroHash
    /// End of the published data in the active segment (truncation point after a failure).
    var committedOffset: Int64 = 0
    var nextBatchSeq: UInt64 = 0
    var syncFDs: [Int32] = []
    let syncQueue = DispatchQueue(label: "tributary.eventstore.sync", attributes: .concurrent)
    // Reported by the sync tasks, guarded by `queueCond`.
    /// Batches whose own fdatasync succeeded, not yet taken by the writer.
    var syncedBatches = Set<UInt64>()
    var syncError: EventStoreError?
    /// Writer-only: batches known to be synced, not yet published.
    var confirmedBatches = Set<UInt64>()
    /// Indexes into `syncFDs` with no fdatasync running: never two at once on one descriptor,
    /// or one of them could miss a writeback error the other consumed.
    var freeSyncSlots: [Int] = []
    /// fdatasyncs running (guarded by `queueCond`, so appenders may read it: `syncFDs` is
    /// writer-only).
    var runningSyncs = 0
    /// When each running fdatasync started, by slot (nil: idle). Guarded by `queueCond`.
    var syncStarted: [Int: Date] = [:]
    /// Writer-only: when a full disk was the failure, the time of the next space probe.
    var spaceProbeDue: Date?
    var writerThread: Thread?
    let writerDone = DispatchSemaphore(value: 0)

    /// Opens (creating if needed) the store in `directory` and recovers it:
    /// - loads the index checkpoint if it matches the log, else scans every segment;
    /// - checks the framing, CRC-32C, position sequence and hash chain of every scanned record;
    /// - truncates a torn or CRC-failing *final* record (or a zero-filled tail), logging what was cut;
    /// - throws `EventStoreError.corrupt` naming the position and offset for damage anywhere
    ///   else — a corrupt record in the middle is never skipped.
    /// Takes an exclusive lock on the directory (one process at a time).
    public init(directory: String, options: FileEventStoreOptions = FileEventStoreOptions()) throws {
        self.directory = directory
        self.options = options
        self.io = options.fileIO
        self.executor = options.executor
        let snapshotDirectory = directory + "/snapshots"
        try io.makeDirectory(snapshotDirectory)
        self.snapshots = try FileSnapshotStore(directory: snapshotDirectory, io: options.fileIO)
        lockFD = try io.open(directory + "/LOCK", flags: O_RDWR | O_CREAT, mode: 0o644)
        do {
            try io.lockExclusive(lockFD)
            directoryFD = try io.open(directory, flags: O_RDONLY, mode: 0)
            try recover()
        } catch {
            releaseFiles()
            throw error
        }
        let thread = Thread { [self] in
            // Named from inside: on Linux a name set before start() never reaches the thread,
            // and the kernel keeps at most 15 bytes.
            Thread.current.name = "store-writer"
            self.writerMain()
        }
        thread.qualityOfService = .userInitiated
        writerThread = thread
        thread.start()
    }

    // MARK: EventStore

    public func append(to stream: StreamName, expected: ExpectedVersion, events: [NewEvent], completion: @escaping AppendCompletion) {
        queueCond.lock()
        if !accepting {
            queueCond.unlock()
            executor.execute { completion(.failure(.closed)) }
            return
        }
        if let reason = failFastReason {
            queueCond.unlock()
            executor.execute { completion(.failure(.storeUnhealthy(reason: reason))) }
            return
        }
        queue.append(PendingAppend(stream: stream, expected: expected, events: events, completion: completion))
        // Wake the writer only if it may start a batch now: otherwise a sync is running and
        // its completion wakes it (waking it per append to find nothing to do cost the loop
        // a futex call, and the writer a context switch, for each append).
        if canStartBatch { queueCond.signal() }
        queueCond.unlock()
    }

    public func streamVersion(_ stream: StreamName) -> StreamVersion? {
        stateLock.lock(); defer { stateLock.unlock() }
        return index.version(of: stream).map(StreamVersion.init)
    }

    public var lastPosition: LogPosition {
        stateLock.lock(); defer { stateLock.unlock() }
        return LogPosition(index.lastPosition)
    }

    public var health: StoreHealth {
        stateLock.lock(); defer { stateLock.unlock() }
        return healthState
    }

    public var stats: StoreStats {
        stateLock.lock(); defer { stateLock.unlock() }
        return counters
    }

    public func subscribe(from: LogPosition, filter: EventFilter?, executor: CompletionExecutor,
                          handler: @escaping ([RecordedEvent]) -> Void) -> Subscription {
        hub.subscribe(from: from, filter: filter, executor: executor, handler: handler) { [weak self] after, max, filter in
            guard let self else { throw EventStoreError.closed }
            return try self.scan(after: after, maxCount: max, filter: filter)
        }
    }

    public func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8]) throws {
        stateLock.lock()
        let closed = readsClosed
        stateLock.unlock()
        if closed { throw EventStoreError.closed }
        try snapshots.save(stream, version: version, data: data)
    }

    public func loadSnapshot(_ stream: StreamName) throws -> Snapshot? {
        try snapshots.load(stream)
    }

    public func mayHaveSnapshot(_ stream: StreamName) -> Bool { snapshots.mayHave(stream) }

    public func close() {
        queueCond.lock()
        let first = accepting
        accepting = false
        queueCond.signal()
        queueCond.unlock()
        guard first else { return }
        // The writer drains the queue, syncs, checkpoints and releases files on its way out.
        // From the writer thread itself (an inline executor's completion) we cannot wait.
        if Thread.current !== writerThread { writerDone.wait() }
    }

    func releaseFiles() {
        stateLock.lock()
        readsClosed = true
        let fds = segmentFDs
        segmentFDs = []
        stateLock.unlock()
        for fd in fds { io.close(fd) }
        for fd in syncFDs { io.close(fd) }
        syncFDs = []
        if directoryFD >= 0 { io.close(directoryFD); directoryFD = -1 }
        if lockFD >= 0 { io.close(lockFD); lockFD = -1 }
    }

    func log(_ level: StoreLogLevel, _ message: String) { options.logger(level, message) }
}
