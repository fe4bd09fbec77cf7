import Foundation

/// Where the store runs completion handlers and subscription deliveries.
///
/// The app adapts its libuv loop to this (enqueue + `uv_async_send`), so completions land on
/// the loop thread. Implementations must run work items in the order they were submitted.
public protocol CompletionExecutor: AnyObject, Sendable {
    /// Runs `work` soon, on the executor's thread(s), after previously submitted work.
    func execute(_ work: @escaping () -> Void)
}

/// Runs work on a serial `DispatchQueue` (in submission order).
public final class DispatchQueueExecutor: CompletionExecutor, @unchecked Sendable {
    public let queue: DispatchQueue
    public init(queue: DispatchQueue = DispatchQueue(label: "tributary.eventstore.completions")) { self.queue = queue }
    public func execute(_ work: @escaping () -> Void) {
        let box = UncheckedSendableBox(work)
        queue.async { box.value() }
    }
}

/// Runs work immediately on the calling thread (the store's writer thread for appends).
/// For tests and tools only: a slow completion delays the writer.
public final class InlineExecutor: CompletionExecutor, @unchecked Sendable {
    public init() {}
    public func execute(_ work: @escaping () -> Void) { work() }
}

/// Carries a non-Sendable closure across the queue hop; the executor contract (serial, in
/// order) is what makes this safe.
struct UncheckedSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
