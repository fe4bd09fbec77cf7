import EventStore
import UV

/// Hands store completions and subscription batches to the libuv loop thread,
/// so everything that touches read models and connections runs on that one thread.
final class LoopExecutor: CompletionExecutor, @unchecked Sendable {
    private let loop: EventLoop

    init(loop: EventLoop) { self.loop = loop }

    func execute(_ work: @escaping () -> Void) {
        // `execute` only fails once the loop is closed, after every store is closed:
        // nothing is waiting for the work any more.
        _ = loop.execute(work)
    }
}
