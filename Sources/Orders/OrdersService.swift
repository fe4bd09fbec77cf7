import Foundation
import EventStore
import CQRS
import PublicEvents
import JSON

/// The Orders service: commands, the order read models, the customer replica, the publisher
/// (orders store → public log, source `orders`) and the saga consumer (customer credit events →
/// approve/reject). A facade for the App, which maps it to HTTP.
///
/// Loop-confined: create it and call everything on the loop thread; `executor` must run work
/// on that thread and the stores must complete through it.
public final class OrdersService {
    public typealias Options = ServiceOptions

    /// Stream category of orders (`order-<orderId>`).
    public static let category = "order"
    /// How order ids map to streams.
    static let identity = StreamIdentity(category: category)
    /// Public-event source name, store name, position-token prefix.
    public static let source = "orders"
    /// Consumer name (stored in event metadata: never change it).
    public static let consumerName = "orders-saga"

    /// Production defaults: no aggregate snapshots (order streams are short), 10k cached orders.
    public static var defaultOptions: Options {
        var o = Options()
        o.aggregateSnapshotEvery = nil
        return o
    }

    /// The stream of an order.
    public static func stream(_ orderId: String) -> StreamName { identity.stream(orderId) }

    /// Order ids: 1…64 characters of `[A-Za-z0-9_-]`.
    public static func isValidOrderId(_ id: String) -> Bool { OrderValidation.isValidOrderId(id) }

    /// The shared machinery (as the app sees it: start, stop, health, positions).
    public var running: RunningService { runtime }
    let runtime: ServiceRuntime<OrderDecider>
    public var store: EventStore { runtime.store }
    public var publicLog: EventStore { runtime.publicLog }
    /// Order views + stats (orders store).
    public let viewsRunner: ProjectionRunner
    /// Customer replica (public log).
    public let replicaRunner: ProjectionRunner
    public var publisher: Publisher { runtime.publisher }
    /// How long `place` waits for a customer it does not know yet to appear in the replica (a
    /// registration a moment ago may still be on its way through the public log); an unknown
    /// customer is a 422 after this.
    public var placeReplicaWait: Duration = .seconds(2)

    var handler: CommandHandler<OrderDecider> { runtime.handler }
    var consumer: Consumer<OrderDecider> { runtime.consumer! }
    let views: OrderViewsProjection
    let replica: CustomerReplica

    /// - Parameters:
    ///   - store: the orders store; `publicLog`: the shared public log.
    ///   - options: snapshots, caches, background replay (`Options`). Both read models keep
    ///     their snapshots in the orders store, never in the shared public log's.
    ///   - idempotency: the orders store's index if the app fills it from its startup scan
    ///     (nil: rebuilt now).
    ///   - progress: replay progress of the two projections.
    /// - Throws: when the idempotency index cannot be rebuilt from `store`.
    public init(store: EventStore, publicLog: EventStore, executor: CompletionExecutor, scheduler: Scheduler,
                options: Options = OrdersService.defaultOptions, idempotency: IdempotencyIndex? = nil,
                logger: @escaping CQRSLogger = { _, _ in }, progress: ((ReplayProgress) -> Void)? = nil) throws {
        runtime = try ServiceRuntime(name: Self.source, decider: OrderDecider(), store: store, publicLog: publicLog,
                                     executor: executor, scheduler: scheduler, options: options, idempotency: idempotency,
                                     logger: logger, progress: progress, publish: OrderPublicMapping.map(recorded:),
                                     reactions: OrderSagaMapping.reactions)
        let views = OrderViewsProjection()
        let replica = CustomerReplica()
        views.lookupName = { [unowned replica] id in replica.customers[id]?.name }
        // `replica.onNameChanged` is linked once both have caught up (`linkCustomerNames`).
        self.views = views
        self.replica = replica
        viewsRunner = runtime.addReadModel(views, follows: .own)
        replicaRunner = runtime.addReadModel(replica, follows: .publicLog)
        replicaRunner.onCaughtUp = { [weak self] in self?.linkCustomerNames() }
        viewsRunner.onCaughtUp = { [weak self] in self?.linkCustomerNames() }
    }

    /// Starts the projections, the publisher and the consumer (each resumes from its checkpoint;
    /// the consumer's is `consumerFrom` if the app found it already, else a scan of the store).
    public func start(consumerFrom: LogPosition? = nil) throws { try runtime.start(consumerFrom: consumerFrom) }

    /// Starts the read models alone (restore, then catch up), e.g. while the app still scans
    /// the store for what commands need; `start` does it too. Idempotent.
    public func startReadModels() { runtime.startReadModels() }

    /// Once both read models have caught up: the order views take every customer name from
    /// the replica in one pass, and from then on each registration or rename the replica
    /// applies updates that customer's orders. Not before: while they replay (from snapshots
    /// taken at different moments, or from the start), pushing every rename in the history to
    /// every order of the customer was a large share of a full rebuild's loop time.
    private func linkCustomerNames() {
        guard replicaRunner.isCaughtUp, viewsRunner.isCaughtUp, replica.onNameChanged == nil else { return }
        views.refreshCustomerNames()
        replica.onNameChanged = { [unowned views] id, name in views.customerNameChanged(id, name) }
    }

    /// Stops everything started by `start()`; read models keep their data.
    public func stop() { runtime.stop() }

    // MARK: - Commands

    /// Handles a client command on order `orderId`. `completion` runs once, on the loop.
    ///
    /// Errors: `.domain` with kind validation (422: field errors, incl. an invalid `orderId`,
    /// unknown/inactive customer, currency mismatch), conflict (409: `order-exists`,
    /// `order-not-modifiable`, `order-not-cancellable`, `order-not-shippable`, `line-exists`,
    /// `line-not-found`, `last-line`), notFound (404: `order-not-found`); plus the runtime's
    /// errors (412 `.versionMismatch`, idempotency, store). A created order has
    /// `outcome.createdStream == true` (201).
    public func handle(_ command: OrderCommand, orderId: String, context: CommandContext = CommandContext(),
                       concurrency: ConcurrencyMode = .retrying, completion: @escaping CommandCompletion<OrderEvent>) {
        guard OrderValidation.isValidOrderId(orderId) else {
            return completion(.failure(.domain(OrderValidation.invalid([FieldError(
                field: "orderId", code: "invalid-format", message: "orderId must be 1…64 characters of A-Z a-z 0-9 _ -")]))))
        }
        let stream = OrdersService.stream(orderId)
        guard case .place(let p) = command else {
            return handler.handle(OrderDecision(orderId: orderId, .client(command)), on: stream, concurrency: concurrency,
                                  context: context, completion: completion)
        }
        let send = { [self] in
            handler.handle(OrderDecision(orderId: orderId, .client(command), customer: replica.customers[p.customerId]),
                           on: stream, concurrency: concurrency, context: context, completion: completion)
        }
        if replica.customers[p.customerId] != nil { return send() }
        // The customer may have been registered a moment ago, its public event still on its
        // way (Customers' publisher) or not yet in this replica: wait, bounded, before deciding
        // "unknown customer" — which the replica can only say once it has caught up (on start
        // it may still be replaying the public log: then 503, not a wrong 422).
        awaitCustomer(p.customerId, until: .now + placeReplicaWait) { [self] in
            if replica.customers[p.customerId] == nil && !replicaRunner.isCaughtUp {
                return completion(.failure(.notReady(reason: "the customer replica is still replaying the public log")))
            }
            send()
        }
    }

    /// Calls `proceed` once the replica knows `customerId` or at `deadline`, whichever is first:
    /// waits for the replica to reach the public log's end, then for each next public event.
    private func awaitCustomer(_ customerId: String, until deadline: ContinuousClock.Instant, then proceed: @escaping () -> Void) {
        let remaining = deadline - .now
        guard replica.customers[customerId] == nil, remaining > .zero else { return proceed() }
        let end = publicLog.lastPosition
        let target = replicaRunner.position < end ? end : LogPosition(replicaRunner.position.value + 1)
        replicaRunner.wait(forPosition: target, timeout: remaining) { [weak self] result in
            guard let self, case .reached = result else { return proceed() }
            awaitCustomer(customerId, until: deadline, then: proceed)
        }
    }

    // MARK: - Queries (read models only)

    /// `GET /queries/orders/{id}`; nil if unknown.
    public func order(_ orderId: String) -> OrderView? { views.order(orderId) }

    /// Cursors of the order list name this view (`Paging`); the key is a creation position.
    static let cursorKind = "o1"

    /// `GET /queries/orders?customerId=&status=&cursor=&limit=`: creation order, cursor paging.
    /// - Throws: `QueryError` for bad paging input (`limit`, `cursor`).
    public func orders(customerId: String? = nil, status: OrderStatus? = nil, cursor: String? = nil, limit: Int? = nil) throws -> OrderPage {
        let limit = try Paging.limit(limit)
        var after: UInt64 = 0
        if let key = try Paging.key(of: cursor, kind: Self.cursorKind) {
            guard let p = UInt64(key) else { throw QueryError(parameter: "cursor", message: "cursor is not one this view issued") }
            after = p
        }
        return views.page(customerId: customerId, status: status, after: after, limit: limit)
    }

    /// `GET /queries/stats`.
    public func stats() -> OrderStatsView { views.stats }

    /// The replica's copy of a customer (diagnostics).
    public func replicaCustomer(_ customerId: String) -> ReplicaCustomer? { replica.customers[customerId] }

    /// Temporal view, computed from the stream (read off the loop): the order after its events
    /// up to `version` (inclusive) and committed at or before `asOf`. nil if no event qualifies.
    /// The customer name is the replica's current one.
    public func order(_ orderId: String, atVersion version: Int64?, asOf: Date?,
                      completion: @escaping (Result<OrderView?, Error>) -> Void) {
        guard OrderValidation.isValidOrderId(orderId) else { return completion(.success(nil)) }
        if let version, version < 0 { return completion(.failure(QueryError(parameter: "version", message: "version must be ≥ 0"))) }
        runtime.events(of: OrdersService.stream(orderId), upToVersion: version, asOf: asOf) { [self] read in
            completion(read.map { events in
                var view: OrderView? = nil
                for (event, recorded) in events { view = OrderView.evolve(view, event, recorded, customerName: nil) }
                if let v = view { view?.customerName = replica.customers[v.customerId]?.name }
                return view
            })
        }
    }

    /// `GET /queries/orders/{id}/history`: the stream's events, oldest first (read off the
    /// loop); nil if unknown.
    public func history(_ orderId: String, completion: @escaping (Result<[HistoryEntry]?, Error>) -> Void) {
        guard OrderValidation.isValidOrderId(orderId) else { return completion(.success(nil)) }
        runtime.history(of: OrdersService.stream(orderId), completion: completion)
    }

    // MARK: - Consistency tokens

    /// What the order views reflect, per store.
    public var positions: ServicePositions { ServicePositions(runtime) }

    /// Completes once the read models fed by `feed` reflect `position` (or time out / fail).
    public func wait(forPosition position: LogPosition, in feed: Feed, timeout: Duration,
                     completion: @escaping (PositionWaitResult) -> Void) {
        runtime.wait(forPosition: position, in: feed, timeout: timeout, completion: completion)
    }
}
