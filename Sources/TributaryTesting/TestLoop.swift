import CQRS
import EventStore
import Foundation

/// A serial queue standing in for the libuv loop: the runtime under test (handlers, runners,
/// services) runs on it, the stores complete through `executor`, timers fire on it through
/// `scheduler`. Marked as the loop (`NonBlockingThread.mark`): in debug builds, file I/O from
/// work on it traps, as it does on the server's loop.
public final class TestLoop: @unchecked Sendable {
    public let queue: DispatchQueue
    public let executor: DispatchQueueExecutor
    public let scheduler: QueueScheduler

    public init(label: String = "tributary.test.loop") {
        queue = DispatchQueue(label: label)
        executor = DispatchQueueExecutor(queue: queue)
        scheduler = QueueScheduler(queue: queue)
        NonBlockingThread.mark(queue)
    }

    /// Runs `body` on the loop and returns its value (or error).
    public func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in queue.async { c.resume(with: Result { try body() }) } }
    }

    /// Runs `body` on the loop as start-up, where blocking store reads are allowed (the
    /// server's start-up scans run before its loop serves requests and is marked), then marks
    /// the loop again.
    public func startUp<T>(_ body: @escaping () throws -> T) async throws -> T {
        try await run {
            NonBlockingThread.unmark(self.queue)
            defer { NonBlockingThread.mark(self.queue) }
            return try body()
        }
    }

    /// Polls `condition` on the loop until it holds or `seconds` pass (a failure bound, not a
    /// timing assertion); its last answer.
    public func eventually(_ seconds: Double = 5, _ condition: @escaping () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await run(condition)) == true { return true }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        return (try? await run(condition)) == true
    }

    /// A memory store completing on this loop.
    public func makeStore(clock: @escaping () -> Date = Date.init) -> MemoryEventStore {
        MemoryEventStore(executor: executor, clock: clock)
    }
}

/// Real-time timers on a dispatch queue (the loop stand-in's).
public final class QueueScheduler: Scheduler, @unchecked Sendable {
    final class Token: Cancellable, @unchecked Sendable {
        var cancelled = false
        func cancel() { cancelled = true }
    }

    public let queue: DispatchQueue
    public init(queue: DispatchQueue) { self.queue = queue }

    public func schedule(after delay: Duration, _ work: @escaping () -> Void) -> Cancellable {
        let token = Token()
        let c = delay.components
        let nanos = Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000)
        queue.asyncAfter(deadline: .now() + .nanoseconds(nanos)) { if !token.cancelled { work() } }
        return token
    }
}

/// Timers fired by hand: `advance(by:)` runs, on the caller's thread, what has come due.
public final class ManualScheduler: Scheduler, @unchecked Sendable {
    public final class Item: Cancellable {
        let due: Duration
        let work: () -> Void
        var cancelled = false
        init(due: Duration, work: @escaping () -> Void) { self.due = due; self.work = work }
        public func cancel() { cancelled = true }
    }

    public private(set) var now: Duration = .zero
    private var items: [Item] = []

    public init() {}

    public func schedule(after delay: Duration, _ work: @escaping () -> Void) -> Cancellable {
        let item = Item(due: now + delay, work: work)
        items.append(item)
        return item
    }

    /// Timers scheduled and neither fired nor cancelled.
    public var pending: Int { items.filter { !$0.cancelled }.count }

    public func advance(by d: Duration) {
        now += d
        while let i = items.firstIndex(where: { !$0.cancelled && $0.due <= now }) {
            let item = items.remove(at: i)
            item.work()
        }
        items.removeAll { $0.cancelled }
    }
}

/// A clock set by hand (idempotency expiry, snapshot intervals).
public final class TestClock: @unchecked Sendable {
    public var now: Date
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { now = start }
    public func advance(_ seconds: TimeInterval) { now = now.addingTimeInterval(seconds) }
    public var function: () -> Date { { [unowned self] in self.now } }
}

/// A clock that ticks one second per reading, from a fixed start: deterministic commit times.
/// Thread-safe (stores read it on their writer threads).
public final class SteppingClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now: Date
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { now = start }
    public func next() -> Date { lock.lock(); defer { lock.unlock() }; now = now.addingTimeInterval(1); return now }
    public var function: () -> Date { { [self] in self.next() } }
}

/// Starts `body` on `queue` (the loop stand-in) and waits for the result it passes to its
/// completion: for the runtime's asynchronous calls (`service.history(of:completion:)`...).
public func awaiting<T>(on queue: DispatchQueue, _ body: @escaping (@escaping (Result<T, Error>) -> Void) -> Void) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        queue.async { body { c.resume(with: $0) } }
    }
}

extension TestLoop {
    /// `awaiting(on:_:)` on this loop.
    public func awaiting<T>(_ body: @escaping (@escaping (Result<T, Error>) -> Void) -> Void) async throws -> T {
        try await TributaryTesting.awaiting(on: queue, body)
    }
}
