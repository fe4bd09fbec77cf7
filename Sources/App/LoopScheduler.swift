import CQRS
import UV

/// The CQRS runtime's timers (position waits, retries, health checks) as libuv timers.
/// Loop-confined like everything it schedules.
final class LoopScheduler: Scheduler {
    private let loop: EventLoop

    init(loop: EventLoop) { self.loop = loop }

    func schedule(after delay: Duration, _ work: @escaping () -> Void) -> Cancellable {
        let timer = LoopTimer(loop: loop)
        let handle = ScheduledTimer(timer: timer)
        let (seconds, attoseconds) = delay.components
        let millis = max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        timer.start(timeout: UInt64(millis)) { [weak handle] in
            guard let handle, !handle.cancelled else { return }
            handle.cancel()
            work()
        }
        return handle
    }
}

/// A scheduled timer; cancelling closes the libuv handle (exactly once).
private final class ScheduledTimer: Cancellable {
    private var timer: LoopTimer?
    private(set) var cancelled = false

    init(timer: LoopTimer) { self.timer = timer }

    func cancel() {
        guard !cancelled else { return }
        cancelled = true
        timer?.close()
        timer = nil
    }
}
