import Dispatch

/// Runs `body(0)`, …, `body(count - 1)` at once (the calling thread among them) and returns
/// each outcome in index order. For start-up work on independent stores, while the loop waits.
func concurrently<T>(_ count: Int, _ body: (Int) throws -> T) -> [Result<T, Error>] {
    let slots = (0..<count).map { _ in OutcomeSlot<T>() }
    DispatchQueue.concurrentPerform(iterations: count) { i in slots[i].result = Result { try body(i) } }
    return slots.map { $0.result! }
}

/// One outcome of `concurrently`, written by exactly one iteration; read after all of them.
private final class OutcomeSlot<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
