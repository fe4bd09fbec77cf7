import Foundation

/// Completion handler of an append.
public typealias AppendCompletion = (Result<AppendResult, EventStoreError>) -> Void

/// Completion handler of an asynchronous read.
public typealias ReadCompletion = (Result<[RecordedEvent], EventStoreError>) -> Void

/// An append-only event store: streams with optimistic concurrency, one gapless global log,
/// catch-up subscriptions and snapshots. Engines: `FileEventStore`, `MemoryEventStore`; both
/// pass the shared conformance suite.
public protocol EventStore: AnyObject {
    /// Appends `events` to `stream` atomically if `expected` holds, and calls `completion`
    /// (through the store's executor) once they are committed per the durability mode.
    ///
    /// - All events of one call get consecutive stream versions and consecutive global positions.
    /// - Fails with `.wrongExpectedVersion` naming the actual version when `expected` does not hold.
    /// - Idempotent: if the ids are already stored in `stream`, consecutively, where this append
    ///   targets, completes with the original result and writes nothing. If only some ids are
    ///   stored, or they are stored elsewhere, fails with `.idempotencyConflict`.
    /// - Fails fast with `.storeUnhealthy` after an I/O failure, `.closed` after `close()`.
    /// - Completions of appends are delivered in commit order.
    func append(to stream: StreamName, expected: ExpectedVersion, events: [NewEvent], completion: @escaping AppendCompletion)

    /// Where this store runs completions (appends, asynchronous reads): the app's loop.
    var executor: CompletionExecutor { get }

    /// Reads up to `maxCount` committed events of `stream` starting at version `from` (inclusive),
    /// ascending for `.forward`, descending for `.backward` (use `.end` to start at the head).
    /// A missing stream reads as empty.
    ///
    /// **Blocks the calling thread** on the medium (disk, database): for tools, start-up work
    /// and background threads, never the loop. Debug builds trap when the file engine's I/O
    /// runs on a thread marked `NonBlockingThread`.
    func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int) throws -> [RecordedEvent]

    /// Reads up to `maxCount` committed events of the global log with position *after* `from`
    /// (`.start` reads from the first event), in position order, keeping only those that match
    /// `filter` (nil: all). Events filtered out do not count towards `maxCount`.
    /// **Blocks** like `readStream(_:from:direction:maxCount:)`.
    func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?) throws -> [RecordedEvent]

    /// `readStream` without blocking the caller: the read runs on the store's own threads (or
    /// connection) and `completion` runs through `executor`. What the loop uses.
    func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int,
                    completion: @escaping ReadCompletion)

    /// `readAll` without blocking the caller; `completion` runs through `executor`.
    func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?, completion: @escaping ReadCompletion)

    /// The version of the stream's newest committed event, nil if the stream has none.
    func streamVersion(_ stream: StreamName) -> StreamVersion?

    /// The store's streams, at most `limit` of them, each with its current version, in an order
    /// the engine keeps stable (creation order on files and in memory, name order on
    /// PostgreSQL); only those whose name contains `containing` (case-sensitive; nil: all).
    /// `after` is the previous page's `next` (an engine may answer a short page with a `next`
    /// when it stopped looking early; `.invalidArgument` for a cursor it did not issue).
    /// Blocking (reads an index or a table): call it off the executor's thread.
    func listStreams(containing: String?, after: String?, limit: Int) throws -> StreamPage

    /// The position of the newest committed event, `.start` for an empty store.
    var lastPosition: LogPosition { get }

    /// Delivers every event after `from` matching `filter`, first the stored ones (catch-up),
    /// then new ones as they are committed (live), in global order, with no gap and no duplicate
    /// at the seam. Events are delivered in batches through `executor` (which must be serial).
    /// An event is delivered only once it is committed per the durability mode.
    /// The subscription runs until cancelled or the store closes.
    func subscribe(from: LogPosition, filter: EventFilter?, executor: CompletionExecutor,
                   handler: @escaping ([RecordedEvent]) -> Void) -> Subscription

    /// Stores `data` as the latest snapshot of `stream` at `version`, replacing any previous one.
    /// The file engine writes it atomically (temp file, fsync, rename). **Blocks.**
    func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8]) throws

    /// The latest snapshot saved for `stream`, nil if none. **Blocks.**
    func loadSnapshot(_ stream: StreamName) throws -> Snapshot?

    /// Whether a snapshot of `stream` may exist, answered from memory (no I/O): false means
    /// none does, so a stream that never had one costs no lookup.
    func mayHaveSnapshot(_ stream: StreamName) -> Bool

    /// `saveSnapshot` without blocking the caller; `completion` runs through `executor`.
    func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8],
                      completion: @escaping (Result<Void, EventStoreError>) -> Void)

    /// `loadSnapshot` without blocking the caller; `completion` runs through `executor`.
    func loadSnapshot(_ stream: StreamName, completion: @escaping (Result<Snapshot?, EventStoreError>) -> Void)

    /// `.healthy`, or `.unhealthy(reason)` after a write/fsync failure: appends then fail fast.
    var health: StoreHealth { get }

    /// Counters for metrics (appends, batches, fsyncs, bytes written).
    var stats: StoreStats { get }

    /// Completes queued appends, stops subscriptions, persists what is needed for a fast restart
    /// and releases files. Later appends fail with `.closed`. Idempotent.
    func close()
}

/// The threads the engines that read through blocking calls (file, memory) do their asynchronous
/// reads and snapshot I/O on, instead of the caller's.
public enum StoreIOThreads {
    /// Concurrent: reads of different streams proceed side by side; each engine's reads are
    /// thread-safe against its writer.
    public static let queue = DispatchQueue(label: "tributary.store-io", qos: .userInitiated, attributes: .concurrent)

    /// Runs `work` on `queue` and hands its outcome to `executor`.
    public static func run<T>(_ executor: CompletionExecutor, _ work: @escaping () throws -> T,
                              completion: @escaping (Result<T, EventStoreError>) -> Void) {
        let box = UncheckedSendableBox((work, completion))
        queue.async {
            let outcome = Result { try box.value.0() }.mapError(EventStoreError.wrap)
            executor.execute { box.value.1(outcome) }
        }
    }
}

extension EventStore {
    public func readStream(_ stream: StreamName, from: StreamVersion, direction: ReadDirection, maxCount: Int,
                           completion: @escaping ReadCompletion) {
        StoreIOThreads.run(executor, { try self.readStream(stream, from: from, direction: direction, maxCount: maxCount) },
                           completion: completion)
    }

    public func readAll(from: LogPosition, maxCount: Int, filter: EventFilter?, completion: @escaping ReadCompletion) {
        StoreIOThreads.run(executor, { try self.readAll(from: from, maxCount: maxCount, filter: filter) }, completion: completion)
    }

    public func mayHaveSnapshot(_ stream: StreamName) -> Bool { true }

    public func saveSnapshot(_ stream: StreamName, version: StreamVersion, data: [UInt8],
                             completion: @escaping (Result<Void, EventStoreError>) -> Void) {
        StoreIOThreads.run(executor, { try self.saveSnapshot(stream, version: version, data: data) }, completion: completion)
    }

    public func loadSnapshot(_ stream: StreamName, completion: @escaping (Result<Snapshot?, EventStoreError>) -> Void) {
        StoreIOThreads.run(executor, { try self.loadSnapshot(stream) }, completion: completion)
    }

    /// Reads a whole stream forward without blocking; `completion` runs through `executor`.
    public func readStream(_ stream: StreamName, completion: @escaping ReadCompletion) {
        readStream(stream, from: .first, direction: .forward, maxCount: Int.max, completion: completion)
    }
}

extension EventStore {
    /// `async` form of `append(to:expected:events:completion:)`, for tests and tools.
    public func append(to stream: StreamName, expected: ExpectedVersion, events: [NewEvent]) async throws -> AppendResult {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<AppendResult, Error>) in
            append(to: stream, expected: expected, events: events) { result in
                continuation.resume(with: result.mapError { $0 as Error })
            }
        }
    }

    /// Blocking form of append: waits on the calling thread. Never call it on the executor's thread.
    public func appendAndWait(to stream: StreamName, expected: ExpectedVersion, events: [NewEvent]) -> Result<AppendResult, EventStoreError> {
        let done = DispatchSemaphore(value: 0)
        var outcome: Result<AppendResult, EventStoreError> = .failure(.closed)
        append(to: stream, expected: expected, events: events) { result in
            outcome = result
            done.signal()
        }
        done.wait()
        return outcome
    }

    /// Reads a whole stream forward.
    public func readStream(_ stream: StreamName) throws -> [RecordedEvent] {
        try readStream(stream, from: .first, direction: .forward, maxCount: Int.max)
    }
}
