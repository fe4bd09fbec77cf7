// CQRS runtime: deciders, command handling, idempotency, upcasting, snapshots, projections,
// the outbox publisher and public-log consumers. No HTTP, no domain, no unsafe code.
//
// Threading (DESIGN.md section 3): every type here is confined to ONE thread, the loop.
// Stores deliver append completions and subscription batches through a `CompletionExecutor`
// that runs them on that same thread, and the injected `Scheduler` fires timers there. There
// are no locks and no async/await on the command or query path.
//
// Wiring one service at startup (all on the loop thread):
//   1. open its store with the loop's executor;
//   2. one `StoreScan.forEach` pass feeding `IdempotencyIndex.observe` (and, if you like,
//      `Consumer.watermark(in:name:)`), or let `CommandHandler.init` rebuild the index itself;
//   3. `CommandHandler(decider:store:options:idempotency:)` per aggregate;
//   4. `ProjectionRunner.start()` per read model (progress callback → log; all `isCaughtUp`
//      → /ready), `Publisher.start()` (checkpoint from the public log),
//      `Consumer.start()` (checkpoint from its own store).

/// Namespace marker for the module (kept for source compatibility with the placeholder).
public enum CQRSModule {}
