import Foundation

/// Configuration of a `FileEventStore`.
public struct FileEventStoreOptions {
    /// When an append is acknowledged relative to the disk.
    public enum Durability: Hashable, Sendable, CustomStringConvertible {
        /// Default: each group-commit batch is written then `fdatasync`ed before its appends
        /// complete. Acknowledged means on disk.
        case fsync
        /// Appends complete (and subscribers see them) once written to the OS; the log is
        /// `fdatasync`ed at most every `maxDelayMillis` ms. Window: a power loss or kernel
        /// crash can lose up to that long of acknowledged events (a process crash loses none).
        case batch(maxDelayMillis: Int)
        /// Never fsync (tests, benchmarks): acknowledged events live in the OS page cache.
        case none

        public var description: String {
            switch self {
            case .fsync: return "fsync"
            case .batch(let ms): return "batch(\(ms)ms)"
            case .none: return "none"
            }
        }
    }

    public var durability: Durability = .fsync
    /// A new segment file is started when a batch would grow the current one past this size.
    public var segmentSize: Int64 = 256 << 20
    /// With `.fsync`: how many written batches may wait for their fdatasync at once. Each sync
    /// runs on its own descriptor; the device can merge concurrent flushes, which raises
    /// throughput and cuts latency. Batches still complete strictly in order. 1 = classic
    /// one-at-a-time group commit.
    public var syncPipelineDepth = 4
    /// With `.fsync` and a sync already running: a further batch starts only once this many
    /// appends wait; fewer wait for the running sync and share the next one. Each fdatasync
    /// costs CPU (kernel time, a device notification), so a trickle of appends synced one or
    /// two at a time in parallel costs a busy server throughput, while a big queue (hundreds
    /// of appenders) still fills the pipeline; 32 beat 1 on both the command mix and the store
    /// alone, with far fewer fsyncs (bench/REPORT.md, History). 1: any waiting append starts a
    /// batch while a slot is free.
    public var syncPipelineMinBatch = 32
    /// With `.fsync`: appends waiting below `syncPipelineMinBatch` start a batch of their own
    /// anyway once the oldest running sync has taken this long (seconds). A healthy device
    /// syncs well within it, so they still share the next sync; a slow or busy one would make
    /// them wait for a sync they are not part of, then their own.
    public var syncPipelineMaxWait: Double = 0.002
    /// Upper bound on the bytes of one group-commit write (further appends wait for the next).
    public var maxBatchBytes: Int = 8 << 20
    /// Save the index checkpoint after at least this many new events (and at least a quarter
    /// of the log, so checkpoint cost stays proportional), and on close.
    public var checkpointEvery: UInt64 = 100_000
    /// After a full disk (ENOSPC/EDQUOT) the store refuses appends and, this often (seconds),
    /// probes whether space has returned by writing and syncing a scratch file; when it has,
    /// the store is healthy again; 0 disables it. (Other I/O errors keep the store unhealthy
    /// until it is reopened.)
    public var spaceProbeInterval: Double = 1.0
    /// Bytes the space probe writes.
    public var spaceProbeBytes = 256 << 10
    /// Load the index checkpoint on open (false forces a full scan).
    public var useCheckpoint = true
    /// File system access; swap in `FaultInjectingFileIO` in tests. The default is
    /// `SystemFileIO` unless the test hook `TRIBUTARY_FAULT_INJECT` is set (see `FaultInjectionHook`).
    public var fileIO: FileIO = FaultInjectionHook.defaultFileIO()
    /// Where append completions run, in commit order (the app passes its loop adapter).
    public var executor: CompletionExecutor = DispatchQueueExecutor()
    /// Clock for event timestamps.
    public var clock: () -> Date = Date.init
    /// Receives recovery and health messages with their severity (default: standard error).
    public var logger: (StoreLogLevel, String) -> Void = { level, message in
        FileHandle.standardError.write(Data(("eventstore: [\(level)] " + message + "\n").utf8))
    }

    public init(durability: Durability = .fsync) { self.durability = durability }
}
