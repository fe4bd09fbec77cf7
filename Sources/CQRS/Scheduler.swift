/// Something scheduled that can be called off.
public protocol Cancellable: AnyObject {
    /// Prevents the work from running if it has not started. Idempotent.
    func cancel()
}

/// Timers for the loop thread (the app implements it with a libuv timer, tests with a manual one).
public protocol Scheduler: AnyObject {
    /// Runs `work` once, on the loop thread, no earlier than `delay` from now, unless cancelled.
    func schedule(after delay: Duration, _ work: @escaping () -> Void) -> Cancellable
}
