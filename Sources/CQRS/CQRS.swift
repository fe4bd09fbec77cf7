// CQRS runtime: deciders, command handling, idempotency, upcasting, snapshots, projections,
// the outbox publisher and public-log consumers. No HTTP, no domain, no unsafe code.
//
// Threading (docs/architecture.md, "Threads and loops"): every type here is confined to ONE thread, the
// loop. Stores deliver append completions, reads and subscription batches through a
// `CompletionExecutor` that runs them on that same thread, and the injected `Scheduler` fires
// timers there. There are no locks and no async/await on the command or query path.
//
// A service is wired by `ServiceRuntime<Decider>` (ServiceRuntime.swift): it opens the command
// handler over the service's store, starts one `ProjectionRunner` per read model, the outbox
// `Publisher` and the saga `Consumer`, and reports them as components for /health and /ready.

/// Namespace marker for the module (kept for source compatibility with the placeholder).
public enum CQRSModule {}
