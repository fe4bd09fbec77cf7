import Foundation
import EventStore

/// Feeds one `Projection` from a store subscription in global order and tracks where it is.
///
/// Loop-confined: create, start, query and wait on the loop thread; `executor` must run work
/// on that thread (it receives the subscription's batches). Lifecycle: `start()` restores the
/// latest projection snapshot (if any and of the right version), subscribes after its position,
/// replays (`.catchingUp`, with progress reports) up to the store's position at start, then turns
/// `.live` and calls `onCaughtUp`. An `apply` error or a failed subscription stops it
/// (`.failed`), logged with the position; waiting queries are answered with `.failed`.
public final class ProjectionRunner {
    public struct Options {
        /// Snapshot the projection when its position has advanced this many events since the
        /// last one; nil: snapshots off (none saved, none loaded: a full replay on start).
        /// The state is captured on the loop (a copy-on-write copy) and encoded and saved on
        /// `snapshotQueue`, one save at a time; a failed save is logged and ignored.
        public var snapshotEvery: UInt64? = nil
        /// Seconds that must pass between the starts of two periodic snapshots, whatever the
        /// event rate: bounds the background encoding work (and the one-time copy the loop makes
        /// of the state on its next change) under a heavy write load.
        public var snapshotMinInterval: Double = 0
        /// Also snapshot in `saveFinalSnapshot()` (graceful shutdown) when snapshots are on.
        public var snapshotOnStop = true
        /// Where snapshots are kept (nil: the followed store). A service following the shared
        /// public log keeps its read models' snapshots in its own store.
        public var snapshotStore: EventStore? = nil
        /// Serial queue that encodes and saves snapshots (nil: one private queue per runner).
        public var snapshotQueue: DispatchQueue? = nil
        /// Upcasters applied to every event before `apply`.
        public var upcasters = UpcasterChain()
        /// Minimum seconds between two progress reports during catch-up.
        public var progressInterval: Double = 1
        /// How often the subscription's health is checked (a failed catch-up read must not stall silently).
        public var healthCheckInterval: Duration = .seconds(1)
        /// Also deliver events of runtime-internal `$` streams (idempotency markers...).
        public var deliversInternalEvents = false
        /// Wall clock for progress rates (inject in tests).
        public var clock: () -> Date = Date.init
        /// Replay a long catch-up off the loop, for a `BackgroundReplayable` projection: the
        /// events go into a fresh instance there while the loop keeps serving the current
        /// state, which then takes the result at once (ProjectionRunner+Background).
        /// nil: every event is applied on the loop.
        public var backgroundReplay: BackgroundReplayPlace? = nil
        /// Catch-ups shorter than this many events stay on the loop (a hop costs more).
        public var backgroundReplayThreshold: UInt64 = 4096
        /// What an event that cannot be applied does: retried after a pause, then the runner
        /// stops (`.failed`). A read model never parks: its answers need every event.
        public var failurePolicy = FailurePolicy(retries: 0)
        /// Positions the runner passes without applying them (an operator's skip decisions).
        public var skips: Set<LogPosition> = []
        /// Test hook: make `apply` fail on chosen events (`ComponentFaults`).
        public var faults: ComponentFaults? = nil

        /// Catch-ups of more than `events` run off the loop, each on a thread of its own; nil: never.
        public mutating func enableBackgroundReplay(after events: UInt64?) {
            guard let events else { backgroundReplay = nil; return }
            backgroundReplay = .ownThread
            backgroundReplayThreshold = events
        }
        public init() {}
    }

    public let projection: Projection
    public let store: EventStore
    /// How events reach the projection, on the loop and off it (`projection.filter` read
    /// once: projections may build it on each access).
    var feed: Feed
    public internal(set) var status: ProjectionStatus = .starting { didSet { statusChanges &+= 1 } }
    /// Counts assignments of `status`, for `appendHealthStamp`.
    private(set) var statusChanges: UInt64 = 0
    /// Position of the last event delivered (applied or filtered out): the view reflects it.
    public internal(set) var position: LogPosition = .start
    /// Events applied since `start()` (filtered-out ones excluded).
    public internal(set) var eventsApplied: UInt64 = 0
    /// Events delivered since `start()`.
    public internal(set) var eventsDelivered: UInt64 = 0
    /// Set once catch-up has finished (stays true).
    public private(set) var isCaughtUp = false
    /// Once live, per delivered batch: seconds from the commit of its newest event to the read
    /// model having applied it (how stale a read can be). Catch-up batches are not counted.
    public private(set) var applyDelay = Distribution(bounds: Distribution.latencyBounds)
    /// Called once, on the loop thread, when catch-up has finished (use it for /ready).
    public var onCaughtUp: (() -> Void)?

    let executor: CompletionExecutor
    private let scheduler: Scheduler
    let options: Options
    let logger: CQRSLogger
    let progress: ((ReplayProgress) -> Void)?
    private var subscription: Subscription?
    private var healthTimer: Cancellable?
    /// The failing event's position and the attempts so far, while the policy retries it.
    var retrying: (position: LogPosition, attempts: Int)?
    private var retryTimer: Cancellable?
    /// Retries of failed events since start.
    public private(set) var retriesTotal: UInt64 = 0
    /// The operator's rebuild running now, if any (ProjectionRunner+Rebuild).
    var rebuildJob: RebuildJob?
    /// Counts the states swapped in at an unchanged position (a rebuild): answers rendered
    /// before one are stale even though the position stands still.
    public internal(set) var stateEpoch: UInt64 = 0
    /// Snapshots at or before this position are not restored (the last rebuild swapped its
    /// state in there; set before `start()`).
    public var snapshotFloor: LogPosition?
    /// Whether an operator can rebuild the view live (its projection is `BackgroundReplayable`).
    public var isRebuildable: Bool { projection is any BackgroundReplayable }
    var target: LogPosition = .start
    var startedAt = Date()
    /// The replay running off the loop, if any (ProjectionRunner+Background).
    var backgroundReplay: BackgroundReplay?
    private var lastReport = Date.distantPast
    /// `prepareSynchronously()` ran (snapshot restored, stored events applied).
    private var prepared = false
    /// `start()` is reading the snapshot.
    private var restoring = false
    // Snapshot state (ProjectionRunner+Snapshots.swift), loop-confined.
    /// Position of the newest snapshot saved or restored.
    var lastSnapshot: LogPosition = .start
    /// The event at `position`, for a snapshot's anchor (nil before the first one).
    var lastAnchor: SnapshotAnchor?
    /// A periodic save is queued or running (at most one at a time).
    var snapshotInFlight = false
    /// When the last periodic save started (`Options.clock`).
    var lastSnapshotStarted = Date.distantPast
    /// Snapshots saved since start (periodic and final).
    public internal(set) var snapshotsSaved: UInt64 = 0
    /// False in a process that does not write the store it follows (a query replica, a
    /// standby): its snapshots are restored, never saved (the writer saves them).
    public var savesSnapshots = true
    /// Position of the snapshot restored on start, nil if it replayed from the start.
    public internal(set) var restoredSnapshotPosition: LogPosition?
    lazy var snapshotWorkQueue: DispatchQueue = options.snapshotQueue
        ?? DispatchQueue(label: "tributary.projection-snapshot.\(projection.name)", qos: .utility)
    private struct Waiter { var id: Int; var position: LogPosition; var completion: (PositionWaitResult) -> Void; var timer: Cancellable? }
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0

    /// - Parameters:
    ///   - store: the store to follow (the service's own, or the public log).
    ///   - executor: runs the subscription's deliveries on the loop thread.
    ///   - scheduler: timers for wait timeouts and health checks.
    ///   - logger: failures (with the event position) and startup summary.
    ///   - progress: replay progress callback (events replayed, rate, ETA).
    public init(projection: Projection, store: EventStore, executor: CompletionExecutor, scheduler: Scheduler,
                options: Options = Options(), logger: @escaping CQRSLogger = { _, _ in },
                progress: ((ReplayProgress) -> Void)? = nil) {
        self.projection = projection
        self.feed = Feed(component: projection.name, filter: projection.filter, upcasters: options.upcasters,
                         deliversInternalEvents: options.deliversInternalEvents, skips: options.skips, faults: options.faults)
        self.store = store
        self.executor = executor
        self.scheduler = scheduler
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// The snapshot stream of a projection (runtime-internal).
    public static func snapshotStream(for name: String) -> StreamName { StreamName("$projection-\(name)") }

    /// How far behind the store the view is, in events.
    public var lag: UInt64 {
        let last = store.lastPosition.value
        return last > position.value ? last - position.value : 0
    }

    /// The failure that stopped the projection, if any.
    public var failure: ProjectionFailure? {
        if case .failed(let f) = status { return f }
        return nil
    }

    /// The failure being retried or the one that stopped the runner, if any.
    public var lastFailure: ProjectionFailure? {
        switch status {
        case .failed(let f), .retrying(let f, _): return f
        default: return nil
        }
    }

    /// Restores the snapshot (read off the loop), subscribes and starts catching up. Call once.
    public func start() {
        guard case .starting = status, subscription == nil, backgroundReplay == nil, !restoring else { return }
        if prepared { return startFollowing() }
        startedAt = options.clock()
        restoring = true
        restoreSnapshot { [weak self] in
            guard let self else { return }
            restoring = false
            guard case .starting = status else { return }   // stopped meanwhile
            startFollowing()
        }
    }

    /// After the snapshot: catch up (on the loop, or off it when long) and follow the store.
    private func startFollowing() {
        target = store.lastPosition
        if position >= target {
            markCaughtUp()
        } else {
            status = .catchingUp
            if !prepared && startBackgroundReplayIfWorthIt() { return }
        }
        follow()
    }

    /// Subscribes after `position`: the catch-up left, then every new event.
    func follow() {
        subscription = store.subscribe(from: position, filter: nil, executor: executor) { [weak self] batch in
            self?.receive(batch)
        }
        scheduleHealthCheck()
    }

    /// Restores the snapshot and applies the stored events after it right here, synchronously,
    /// so `start()` then only follows what comes next. For start-up work that must be complete
    /// before the app serves (e.g. `StartupScanProjection`). Call at most once, before
    /// `start()`, on any thread, while nothing else touches the runner or its projection.
    /// - Returns: the events delivered; an `apply` error fails the runner (see `failure`).
    /// - Throws: store read errors.
    @discardableResult
    public func prepareSynchronously(chunk: Int = 4096) throws -> UInt64 {
        guard case .starting = status, !prepared else { return 0 }
        prepared = true
        startedAt = options.clock()
        restoreSnapshot()
        let before = eventsDelivered
        while true {
            let batch = try store.readAll(from: position, maxCount: chunk, filter: nil)
            guard !batch.isEmpty, apply(batch) else { break }
        }
        return eventsDelivered - before
    }

    /// Cancels the subscription; waiting queries get `.failed(nil)`. The view keeps its data.
    public func stop() {
        backgroundReplay?.cancel()
        backgroundReplay = nil
        rebuildJob?.cancel()
        rebuildJob = nil
        retryTimer?.cancel()
        retryTimer = nil
        subscription?.cancel()
        subscription = nil
        healthTimer?.cancel()
        healthTimer = nil
        if case .failed = status {} else { status = .stopped }
        failWaiters(nil)
    }

    /// Calls `completion` (on the loop thread) once the view reflects `target`: immediately if it
    /// already does, `.timedOut` after `timeout`, `.failed` if the projection fails or stops.
    public func wait(forPosition target: LogPosition, timeout: Duration, completion: @escaping (PositionWaitResult) -> Void) {
        if position >= target { return completion(.reached(position)) }
        switch status {
        case .failed(let f): return completion(.failed(f))
        case .stopped: return completion(.failed(nil))
        default: break
        }
        nextWaiterID += 1
        let id = nextWaiterID
        let timer = scheduler.schedule(after: timeout) { [weak self] in
            guard let self, let i = self.waiters.firstIndex(where: { $0.id == id }) else { return }
            let w = self.waiters.remove(at: i)
            w.completion(.timedOut(self.position))
        }
        waiters.append(Waiter(id: id, position: target, completion: completion, timer: timer))
    }

    /// Number of queries currently waiting for a position.
    public var waitingQueries: Int { waiters.count }

    // MARK: - Delivery

    private func receive(_ batch: [RecordedEvent]) {
        switch status {
        case .failed, .stopped, .retrying: return
        default: break
        }
        rebuildJob?.buffer(batch)
        guard apply(batch) else { return }
        if !isCaughtUp {
            if position >= target {
                markCaughtUp()
                maybeSnapshot()   // a long replay is worth keeping at once
            } else {
                let now = options.clock()
                if now.timeIntervalSince(lastReport) >= options.progressInterval {
                    lastReport = now
                    progress?(report(done: false))
                }
            }
        } else {
            // Live: how long after its commit the newest event of the batch became readable.
            if let last = batch.last { applyDelay.observe(max(0, options.clock().timeIntervalSince(last.timestamp))) }
            maybeSnapshot()
        }
        releaseWaiters()
    }

    /// Applies the events after `position`; false if one failed (the runner is then `.failed`).
    private func apply(_ batch: [RecordedEvent]) -> Bool {
        var progress = feedProgress
        let failure = feed.apply(batch, to: projection, progress: &progress)
        advance(to: progress)
        if let failure { fail(failure); return false }
        return true
    }

    /// Where the next batch starts: this runner's position and anchor, nothing counted yet.
    var feedProgress: Feed.Progress { Feed.Progress(position: position, anchor: lastAnchor) }

    /// Takes what a feed (on the loop or off it) got through.
    func advance(to progress: Feed.Progress) {
        if let r = retrying, progress.position >= r.position { retrying = nil }
        position = progress.position
        lastAnchor = progress.anchor
        eventsDelivered += progress.delivered
        eventsApplied += progress.applied
    }

    /// Filter, upcast and apply, event by event; the same on the loop and off it.
    struct Feed {
        let component: String
        let filter: EventFilter?
        let upcasters: UpcasterChain
        let deliversInternalEvents: Bool
        /// Positions passed without being applied (operator skips).
        var skips: Set<LogPosition>
        let faults: ComponentFaults?

        struct Progress {
            var position: LogPosition
            var anchor: SnapshotAnchor?
            var delivered: UInt64 = 0
            var applied: UInt64 = 0
        }

        /// Applies the events of `batch` after `progress.position` to `projection`, advancing
        /// `progress`; the failure that stopped it, if one did.
        func apply(_ batch: [RecordedEvent], to projection: Projection, progress: inout Progress) -> ProjectionFailure? {
            for event in batch where event.position > progress.position {
                if deliversInternalEvents || !RuntimeMetadata.isInternal(event.stream),
                   filter?.matches(stream: event.stream.value, type: event.type) ?? true,
                   skips.isEmpty || !skips.contains(event.position) {
                    do {
                        if let faults { try faults.check(component, stream: event.stream.value, data: event.data) }
                        // Without upcasters, no copy of the event (a dozen retains) per apply.
                        if upcasters.isEmpty {
                            try projection.apply(event)
                        } else {
                            try projection.apply(try upcasters.upcast(event))
                        }
                        progress.applied += 1
                    } catch {
                        return ProjectionFailure(projection: projection.name, position: event.position, stream: event.stream.value,
                                                 eventType: event.type, reason: "\(error)")
                    }
                }
                progress.position = event.position
                progress.delivered += 1
            }
            if let last = batch.last, last.position == progress.position { progress.anchor = .event(last.id, last.timestamp) }
            return nil
        }
    }

    func markCaughtUp() {
        isCaughtUp = true
        status = .live
        let r = report(done: true)
        logger(.info, "projection '\(projection.name)' caught up at position \(position): \(r.replayed) events in \(String(format: "%.3f", r.elapsedSeconds)) s")
        progress?(r)
        onCaughtUp?()
    }

    /// Progress so far; `replayed`/`position` default to this runner's (a background replay
    /// passes its own, not yet adopted).
    func report(done: Bool, replayed: UInt64? = nil, position: LogPosition? = nil) -> ReplayProgress {
        let replayed = replayed ?? eventsDelivered, position = position ?? self.position
        let elapsed = max(0, options.clock().timeIntervalSince(startedAt))
        let rate = elapsed > 0 ? Double(replayed) / elapsed : 0
        let left = target.value > position.value ? Double(target.value - position.value) : 0
        return ReplayProgress(projection: projection.name, replayed: replayed, position: position, target: target,
                              elapsedSeconds: elapsed, eventsPerSecond: rate, etaSeconds: done ? 0 : (rate > 0 ? left / rate : nil),
                              done: done)
    }

    func releaseWaiters() {
        guard !waiters.isEmpty else { return }
        var still: [Waiter] = []
        var due: [Waiter] = []
        for w in waiters { if w.position <= position { due.append(w) } else { still.append(w) } }
        waiters = still
        for w in due { w.timer?.cancel(); w.completion(.reached(position)) }
    }

    private func failWaiters(_ failure: ProjectionFailure?) {
        let all = waiters
        waiters = []
        for w in all { w.timer?.cancel(); w.completion(.failed(failure)) }
    }

    /// An event could not be applied (or the subscription failed): retry after a pause while
    /// the policy allows (waiting queries keep waiting), else stop.
    func fail(_ failure: ProjectionFailure) {
        subscription?.cancel()
        subscription = nil
        healthTimer?.cancel()
        healthTimer = nil
        retryTimer?.cancel()
        retryTimer = nil
        let policy = options.failurePolicy
        let attempt = (retrying?.position == failure.position ? retrying?.attempts ?? 0 : 0) + 1
        if attempt <= policy.retries {
            retrying = (failure.position, attempt)
            retriesTotal += 1
            status = .retrying(failure, attempt: attempt)
            logger(.warning, "\(failure) (retry \(attempt) of \(policy.retries))")
            retryTimer = scheduler.schedule(after: policy.delay(beforeRetry: attempt)) { [weak self] in
                guard let self, case .retrying = status else { return }
                retryTimer = nil
                status = isCaughtUp ? .live : .catchingUp
                follow()
            }
            return
        }
        retrying = nil
        status = .failed(failure)
        logger(.error, failure.description)
        failWaiters(failure)
    }

    /// An operator's move on a failed runner: follow the store again from where it stopped
    /// (the failed event is tried again, after a fix), or, with `skippingFailedEvent`, from the
    /// next event (the failed one is passed without being applied: the view then lacks it, and
    /// the consistency check says so until a rebuild). Loop thread.
    /// - Returns: the position of the event that had failed.
    @discardableResult
    public func resume(skippingFailedEvent: Bool) throws -> LogPosition {
        guard case .failed(let failure) = status else { throw ResumeError.notFailed(status.description) }
        if skippingFailedEvent {
            guard !failure.eventType.isEmpty else { throw ResumeError.nothingToSkip }
            feed.skips.insert(failure.position)
        }
        retrying = nil
        status = isCaughtUp ? .live : .catchingUp
        logger(.warning, "projection '\(projection.name)' resumed \(skippingFailedEvent ? "after" : "at") position \(failure.position)")
        follow()
        return failure.position
    }

    private func scheduleHealthCheck() {
        healthTimer = scheduler.schedule(after: options.healthCheckInterval) { [weak self] in
            guard let self, let sub = self.subscription else { return }
            if let error = sub.error {
                self.fail(ProjectionFailure(projection: self.projection.name, position: LogPosition(self.position.value + 1),
                                            stream: "", eventType: "", reason: "subscription failed: \(error)"))
            } else {
                self.scheduleHealthCheck()
            }
        }
    }
}
