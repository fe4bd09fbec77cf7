import Foundation
import EventStore

/// A projection whose catch-up may run off the loop thread. The runner replays into a fresh
/// instance that nothing else can see (`makeEmpty()`, no change hooks) on a background queue,
/// while the loop keeps serving the current state; then, on the loop, the current instance
/// takes the result (`adoptState(of:)`). Queries meanwhile see the state the view had before
/// (the restored snapshot, or empty) with its position, as for any view not caught up yet.
public protocol BackgroundReplayable: Projection {
    /// A new instance of the same projection (same name and settings), empty, without hooks.
    func makeEmpty() -> Self
    /// Takes `other`'s state (O(1): the collections are copy-on-write) and tells this
    /// instance's change hooks that every entry may have changed.
    func adoptState(of other: Self)
}

/// One catch-up running off the loop: reads the store from `from` to `target` into `shadow`.
/// Only the background queue touches it until it reports back on the loop.
final class BackgroundReplay: @unchecked Sendable {
    enum Outcome {
        case finished(ProjectionRunner.Feed.Progress)
        case failed(ProjectionFailure, ProjectionRunner.Feed.Progress)
        case readFailed(Error, ProjectionRunner.Feed.Progress)
        case cancelled
    }

    let shadow: Projection
    /// Moves the shadow's state into the runner's projection (loop thread).
    let adopt: () -> Void
    private let lock = NSLock()
    private var cancelled = false

    /// `fresh`: the shadow starts empty (a rebuild) instead of from the projection's state.
    init<P: BackgroundReplayable>(for projection: P, fresh: Bool = false) {
        let shadow = projection.makeEmpty()
        if !fresh { shadow.adoptState(of: projection) }   // starts from the restored snapshot, if any (O(1))
        self.shadow = shadow
        adopt = { projection.adoptState(of: shadow) }
    }

    func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    private var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Runs on the background queue. `report` gets the progress every `interval` seconds.
    func run(store: EventStore, feed: ProjectionRunner.Feed, from: ProjectionRunner.Feed.Progress, target: LogPosition,
             chunk: Int = 4096, interval: Double, clock: () -> Date, report: (ProjectionRunner.Feed.Progress) -> Void) -> Outcome {
        var progress = from
        var lastReport = clock()
        while progress.position < target {
            if isCancelled { return .cancelled }
            let batch: [RecordedEvent]
            do {
                batch = try store.readAll(from: progress.position, maxCount: chunk, filter: nil)
            } catch {
                return .readFailed(error, progress)
            }
            guard !batch.isEmpty else { break }
            if let failure = feed.apply(batch, to: shadow, progress: &progress) { return .failed(failure, progress) }
            let now = clock()
            if now.timeIntervalSince(lastReport) >= interval {
                lastReport = now
                report(progress)
            }
        }
        return .finished(progress)
    }
}

/// Where a background replay runs.
public enum BackgroundReplayPlace {
    /// A thread of its own, started for the replay. Replays of different read models then
    /// share the cores fairly, whatever their number: on a pool capped at one thread per core
    /// (the global concurrent queues), the one queued last — often the longest — started
    /// only when others had finished, and finished alone on one core.
    case ownThread
    /// This queue (tests hold one to look at the state while a replay waits).
    case queue(DispatchQueue)
}

extension ProjectionRunner {
    /// Starts the catch-up off the loop when the options allow it, the projection supports it
    /// and the catch-up is long enough; false: catch up on the loop as usual.
    func startBackgroundReplayIfWorthIt() -> Bool {
        guard let place = options.backgroundReplay, target.value - position.value >= options.backgroundReplayThreshold,
              let replayable = projection as? any BackgroundReplayable else { return false }
        let job = BackgroundReplay(for: replayable)
        backgroundReplay = job
        logger(.info, "projection '\(projection.name)': replaying \(target.value - position.value) events to position \(target) off the loop")
        let store = self.store, feed = self.feed, target = self.target, executor = self.executor
        let from = feedProgress
        let interval = options.progressInterval, clock = options.clock
        let work = { [weak self] in
            let outcome = job.run(store: store, feed: feed, from: from, target: target, interval: interval, clock: clock) { p in
                executor.execute { self?.backgroundProgress(p) }
            }
            executor.execute { self?.backgroundReplayEnded(job, outcome) }
        }
        switch place {
        case .ownThread:
            // Named from inside: on Linux a name set before start() never reaches the thread,
            // and the kernel keeps at most 15 bytes (`top -H` shows which replay is which).
            let name = Self.threadName(projection.name)
            let thread = Thread {
                Thread.current.name = name
                work()
            }
            thread.qualityOfService = .userInitiated
            thread.start()
        case .queue(let queue):
            queue.async { work() }
        }
        return true
    }

    /// The longest prefix of `name` that fits a kernel thread name (15 bytes).
    static func threadName(_ name: String) -> String {
        var result = ""
        for c in name {
            guard result.utf8.count + c.utf8.count <= 15 else { break }
            result.append(c)
        }
        return result
    }

    private func backgroundProgress(_ p: Feed.Progress) {
        guard backgroundReplay != nil, let progress else { return }
        progress(report(done: false, replayed: eventsDelivered + p.delivered, position: p.position))
    }

    /// Back on the loop: adopt the result and follow the store from there (or fail, as on the loop).
    private func backgroundReplayEnded(_ job: BackgroundReplay, _ outcome: BackgroundReplay.Outcome) {
        guard backgroundReplay === job else { return }   // stopped meanwhile
        backgroundReplay = nil
        switch outcome {
        case .cancelled:
            return
        case .failed(let failure, _):
            fail(failure)
        case .readFailed(let error, let p):
            fail(ProjectionFailure(projection: projection.name, position: LogPosition(p.position.value + 1), stream: "",
                                   eventType: "", reason: "replay failed: \(error)"))
        case .finished(let p):
            job.adopt()
            advance(to: p)
            if position >= target {
                markCaughtUp()
                maybeSnapshot()   // a long replay is worth keeping at once
            }
            releaseWaiters()
            follow()
        }
    }
}
