import Foundation
import EventStore

/// What a service needs from a scan of its whole store before it takes commands: the keys of
/// its idempotency index and its consumer's watermark. The scan is a projection
/// (`StartupScanProjection`), so with snapshots on a start scans only what came after the last
/// one, and it keeps following the store afterwards for the next snapshot.
///
/// Use: create it with the service's (empty) index, `prepare()` it (on any thread, while
/// nothing else touches it: the app runs the services' scans in parallel before serving), then
/// `finish()` it on the loop: the keys go into the index, the watermark is returned.
public final class ServiceStartupScan {
    public let runner: ProjectionRunner
    private let projection: StartupScanProjection
    private let index: IdempotencyIndex
    private let follows: Bool

    /// - Parameters:
    ///   - index: the handler's index, filled by `finish()`.
    ///   - consumerName: the service's consumer (its watermark property), nil if it has none.
    ///   - snapshotEvery: snapshot the scan every this many events (nil: none; the scan then
    ///     stops after `prepare` instead of following the store).
    public init(store: EventStore, index: IdempotencyIndex, consumerName: String?, executor: CompletionExecutor,
                scheduler: Scheduler, snapshotEvery: UInt64?, snapshotMinInterval: Double, logger: @escaping CQRSLogger,
                clock: @escaping () -> Date = Date.init) {
        let name = consumerName ?? "service"
        projection = StartupScanProjection(name: "\(name).startup-scan",
                                           watermarkProperty: ConsumerMetadata.watermark(name), clock: clock)
        var options = ProjectionRunner.Options()
        options.snapshotEvery = snapshotEvery
        options.snapshotMinInterval = snapshotMinInterval
        options.deliversInternalEvents = true
        options.clock = clock
        runner = ProjectionRunner(projection: projection, store: store, executor: executor, scheduler: scheduler,
                                  options: options, logger: logger)
        self.index = index
        follows = snapshotEvery != nil
    }

    /// Restores the scan's snapshot and reads the store after it, synchronously.
    /// - Returns: the events scanned and the seconds it took.
    /// - Throws: store read errors, or a failure to apply (the scan cannot be trusted).
    public func prepare() throws -> (scanned: UInt64, seconds: Double) {
        let started = Date()
        let scanned = try runner.prepareSynchronously()
        if let failure = runner.failure { throw failure }
        return (scanned, Date().timeIntervalSince(started))
    }

    /// On the loop, after `prepare()`: fills the handler's index, keeps following the store for
    /// later snapshots (when on), and returns the consumer's watermark.
    public func finish() -> LogPosition {
        projection.copyKeys(into: index)
        if follows { runner.start() }
        return projection.watermark
    }

    /// Stops following the store (before the final snapshot).
    public func stop() { runner.stop() }
}
