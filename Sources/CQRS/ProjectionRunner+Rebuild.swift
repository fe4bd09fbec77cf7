import Foundation
import EventStore

/// An operator's rebuild of one read model, live: a fresh, empty copy is fed from the start of
/// its store off the loop while the current one keeps serving; the batches the current one
/// receives meanwhile are kept, and once the copy has replayed up to where the rebuild began,
/// the loop feeds it those batches and swaps it in at once (O(1), copy-on-write). Queries never
/// see a half-built view: before the swap they read the old one, after it the new one, at a
/// position at least as far as before. A failed copy is dropped; the old view keeps serving.
/// Snapshots taken up to the swap are not used again (`snapshotFloor`, from the journal's
/// `rebuild-finished`): they may hold the replaced state.
final class RebuildJob {
    let replay: BackgroundReplay
    /// Where the copy replays to: where the view stood when the rebuild began (or, for a
    /// failed view, the store's end then).
    let target: LogPosition
    let startedAt: Date
    /// Events the copy has replayed so far (progress in /health).
    var replayedTo: LogPosition = .start
    private(set) var buffered: [[RecordedEvent]] = []
    let completion: (Result<RebuildSummary, RebuildError>) -> Void

    init(replay: BackgroundReplay, target: LogPosition, startedAt: Date,
         completion: @escaping (Result<RebuildSummary, RebuildError>) -> Void) {
        self.replay = replay
        self.target = target
        self.startedAt = startedAt
        self.completion = completion
    }

    func buffer(_ batch: [RecordedEvent]) { buffered.append(batch) }
    func cancel() { replay.cancel() }
}

/// A finished rebuild.
public struct RebuildSummary: Hashable, Sendable {
    /// The position the rebuilt view took over at.
    public var position: LogPosition
    /// Events fed to the copy (replayed, then those that arrived meanwhile).
    public var events: UInt64
    public var seconds: Double
}

/// Why a rebuild was refused or failed.
public enum RebuildError: Error, Hashable, Sendable, CustomStringConvertible {
    case notRebuildable(String)
    case alreadyRunning(String)
    case notRunning(String)
    case failed(ProjectionFailure)
    case readFailed(String)
    case cancelled

    public var description: String {
        switch self {
        case .notRebuildable(let name): return "read model '\(name)' cannot be rebuilt live"
        case .alreadyRunning(let name): return "read model '\(name)' is already being rebuilt or replayed"
        case .notRunning(let status): return "the read model is \(status): rebuild it once it runs"
        case .failed(let f): return "the rebuild failed: \(f)"
        case .readFailed(let e): return "the rebuild could not read the store: \(e)"
        case .cancelled: return "the rebuild was cancelled (the read model stopped)"
        }
    }
}

/// A rebuild's progress, for /health.
public struct RebuildProgress: Hashable, Sendable {
    public var position: LogPosition
    public var target: LogPosition
}

extension ProjectionRunner {
    /// The rebuild running now: how far the copy has replayed, towards which position.
    public var rebuildProgress: RebuildProgress? {
        rebuildJob.map { RebuildProgress(position: $0.replayedTo, target: $0.target) }
    }

    /// Starts rebuilding the view from the start of its store (see `RebuildJob`): after a fix
    /// of the projection's code or data. Skip decisions are dropped: the copy gets every event.
    /// A failed view is rebuilt up to the store's end and then follows the store again.
    /// `completion` runs on the loop when the copy has been swapped in, or has failed.
    /// - Throws: `RebuildError` when the projection cannot be rebuilt now.
    public func rebuild(completion: @escaping (Result<RebuildSummary, RebuildError>) -> Void) throws {
        switch status {
        case .starting, .stopped: throw RebuildError.notRunning(status.description)
        default: break
        }
        guard rebuildJob == nil, backgroundReplay == nil else { throw RebuildError.alreadyRunning(projection.name) }
        guard let replayable = projection as? any BackgroundReplayable else { throw RebuildError.notRebuildable(projection.name) }
        let replay = Self.freshReplay(replayable)
        let failed = failure != nil
        let target = failed ? store.lastPosition : position
        let job = RebuildJob(replay: replay, target: target, startedAt: options.clock(), completion: completion)
        rebuildJob = job
        logger(.warning, "projection '\(projection.name)': rebuilding from the start up to position \(target) off the loop")
        var unskipped = self.feed
        unskipped.skips = []
        let feed = unskipped
        let store = self.store, executor = self.executor, interval = options.progressInterval, clock = options.clock
        let name = Self.threadName("rb-" + projection.name)
        let thread = Thread { [weak self] in
            Thread.current.name = name
            let outcome = replay.run(store: store, feed: feed, from: Feed.Progress(position: .start, anchor: nil), target: target,
                                     interval: interval, clock: clock) { p in
                executor.execute { job.replayedTo = p.position }
            }
            executor.execute { self?.rebuildReplayed(job, feed: feed, outcome) }
        }
        thread.qualityOfService = .utility
        thread.start()
    }

    private static func freshReplay<P: BackgroundReplayable>(_ projection: P) -> BackgroundReplay {
        BackgroundReplay(for: projection, fresh: true)
    }

    /// Back on the loop: feed the copy what the view received meanwhile, then swap it in.
    private func rebuildReplayed(_ job: RebuildJob, feed: Feed, _ outcome: BackgroundReplay.Outcome) {
        guard rebuildJob === job else { return }   // stopped meanwhile
        rebuildJob = nil
        var progress: Feed.Progress
        switch outcome {
        case .cancelled: return job.completion(.failure(.cancelled))
        case .failed(let f, _): return rebuildFailed(job, .failed(f))
        case .readFailed(let e, _): return rebuildFailed(job, .readFailed("\(e)"))
        case .finished(let p): progress = p
        }
        for batch in job.buffered {
            if let f = feed.apply(batch, to: job.replay.shadow, progress: &progress) { return rebuildFailed(job, .failed(f)) }
        }
        guard progress.position >= position else {
            // Cannot happen (the copy replayed to where the view was, then got what it got):
            // refuse rather than swap in a view behind the one serving.
            return rebuildFailed(job, .readFailed("the copy reached \(progress.position), behind the view at \(position)"))
        }
        let wasFailed = failure != nil
        job.replay.adopt()
        stateEpoch += 1
        self.feed.skips = []
        retrying = nil
        position = progress.position
        lastAnchor = progress.anchor
        let seconds = max(0, options.clock().timeIntervalSince(job.startedAt))
        logger(.warning, "projection '\(projection.name)': rebuilt to position \(position) (\(progress.delivered) events, \(String(format: "%.3f", seconds)) s), swapped in")
        if wasFailed {
            status = isCaughtUp ? .live : .catchingUp
            // A view that failed while catching up may now be past where its catch-up ends.
            if !isCaughtUp && position >= target { markCaughtUp() }
            follow()
        }
        releaseWaiters()
        job.completion(.success(RebuildSummary(position: position, events: progress.delivered, seconds: seconds)))
    }

    private func rebuildFailed(_ job: RebuildJob, _ error: RebuildError) {
        logger(.error, "projection '\(projection.name)': \(error); the current view keeps serving")
        job.completion(.failure(error))
    }
}
