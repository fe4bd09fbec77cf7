import Foundation
import EventStore
import CQRS
import PublicEvents
import JSON

/// Which store a position belongs to.
public enum OrdersFeed: String, Hashable, Sendable, Codable {
    /// The orders service's own store (`orders/`).
    case orders
    /// The shared public log (`public/`): customer events feed the replica and customer names.
    case publicLog = "public"
}

/// The positions the order read models reflect, one per store that feeds them.
public struct OrdersPositions: Codable, Hashable, Sendable {
    /// Orders store position reflected by the order views and stats.
    public var orders: UInt64
    /// Public-log position reflected by the customer replica (customer names).
    public var publicLog: UInt64
}

/// The Orders service: commands, the order read models, the customer replica, the publisher
/// (orders store → public log, source `orders`) and the saga consumer (customer credit events →
/// approve/reject). A facade for the App, which maps it to HTTP.
///
/// Loop-confined: create it and call everything on the loop thread; `executor` must run work
/// on that thread and the stores must complete through it.
public final class OrdersService {
    /// Stream category of orders (`order-<orderId>`).
    public static let category = "order"
    /// Public-event source name.
    public static let source = "orders"
    /// Consumer name (stored in event metadata: never change it).
    public static let consumerName = "orders-saga"

    /// The stream of an order.
    public static func stream(_ orderId: String) -> StreamName { StreamName("\(category)-\(orderId)") }

    /// Order ids: 1…64 characters of `[A-Za-z0-9_-]`.
    public static func isValidOrderId(_ id: String) -> Bool { OrderValidation.isValidOrderId(id) }

    public let store: EventStore
    public let publicLog: EventStore
    /// Order views + stats (orders store).
    public let viewsRunner: ProjectionRunner
    /// Customer replica (public log).
    public let replicaRunner: ProjectionRunner
    public let publisher: Publisher
    /// How long `place` waits for a customer it does not know yet to appear in the replica (a
    /// registration a moment ago may still be on its way through the public log); an unknown
    /// customer is a 422 after this.
    public var placeReplicaWait: Duration = .seconds(2)

    let handler: CommandHandler<OrderDecider>
    let consumer: Consumer<OrderDecider>
    let views: OrderViewsProjection
    let replica: CustomerReplica
    private let clock: () -> Date
    private let log: CQRSLogger

    /// - Parameters:
    ///   - store: the orders store; `publicLog`: the shared public log.
    ///   - idempotency: the orders store's index if the app rebuilt it already (nil: rebuilt now).
    ///   - snapshotEvery: aggregate snapshot interval (nil: none).
    ///   - viewsSnapshotEvery: snapshot the order views every this many orders-store events and
    ///     the customer replica every this many public-log events, and both on `stop` (nil: none,
    ///     full replay on start). Both snapshots are kept in the orders store, never in the
    ///     shared public log's. `viewsSnapshotMinInterval`: minimum seconds between two periodic ones.
    ///   - backgroundReplayAfter: a read model further behind than this many events on start
    ///     catches up off the loop (nil: always on the loop).
    ///   - progress: replay progress of the two projections.
    /// - Throws: when the idempotency index cannot be rebuilt from `store`.
    public init(store: EventStore, publicLog: EventStore, executor: CompletionExecutor, scheduler: Scheduler,
                clock: @escaping () -> Date = Date.init, log: @escaping CQRSLogger = { _, _ in },
                idempotency: IdempotencyIndex? = nil, snapshotEvery: Int? = nil, viewsSnapshotEvery: UInt64? = nil,
                viewsSnapshotMinInterval: Double = 0, backgroundReplayAfter: UInt64? = nil,
                progress: ((ReplayProgress) -> Void)? = nil) throws {
        self.store = store
        self.publicLog = publicLog
        self.clock = clock
        self.log = log
        var options = CommandHandler<OrderDecider>.Options()
        options.clock = clock
        options.snapshotEvery = snapshotEvery
        handler = try CommandHandler(decider: OrderDecider(), store: store, options: options, idempotency: idempotency, logger: log)
        let views = OrderViewsProjection()
        let replica = CustomerReplica()
        views.lookupName = { [unowned replica] id in replica.customers[id]?.name }
        // `replica.onNameChanged` is linked once both have caught up (`linkCustomerNames`).
        self.views = views
        self.replica = replica
        var runnerOptions = ProjectionRunner.Options()
        runnerOptions.clock = clock
        var viewsOptions = runnerOptions
        viewsOptions.snapshotEvery = viewsSnapshotEvery
        viewsOptions.snapshotMinInterval = viewsSnapshotMinInterval
        viewsOptions.enableBackgroundReplay(after: backgroundReplayAfter)
        viewsRunner = ProjectionRunner(projection: views, store: store, executor: executor, scheduler: scheduler,
                                       options: viewsOptions, logger: log, progress: progress)
        var replicaOptions = viewsOptions
        replicaOptions.snapshotStore = store
        replicaRunner = ProjectionRunner(projection: replica, store: publicLog, executor: executor, scheduler: scheduler,
                                         options: replicaOptions, logger: log, progress: progress)
        publisher = Publisher(source: OrdersService.source, store: store, publicLog: publicLog, executor: executor,
                              scheduler: scheduler, logger: log, map: OrderPublicMapping.map(recorded:))
        consumer = Consumer(name: OrdersService.consumerName, publicLog: publicLog, eventTypes: OrderSagaMapping.eventTypes,
                            handler: handler, executor: executor, scheduler: scheduler, logger: log,
                            map: OrderSagaMapping.commands(for:))
    }

    /// Starts the projections, the publisher and the consumer (each resumes from its checkpoint;
    /// the consumer's is `consumerFrom` if the app found it already, else a scan of the store).
    public func start(consumerFrom: LogPosition? = nil) throws {
        startReadModels()
        try publisher.start()
        try consumer.start(from: consumerFrom)
    }

    /// Starts the read models alone (restore, then catch up), e.g. while the app still scans
    /// the store for what commands need; `start` does it too. Idempotent.
    public func startReadModels() {
        replicaRunner.onCaughtUp = { [weak self] in self?.linkCustomerNames() }
        viewsRunner.onCaughtUp = { [weak self] in self?.linkCustomerNames() }
        replicaRunner.start()
        viewsRunner.start()
    }

    /// Once both read models have caught up: the order views take every customer name from
    /// the replica in one pass, and from then on each registration or rename the replica
    /// applies updates that customer's orders. Not before: while they replay (from snapshots
    /// taken at different moments, or from the start), pushing every rename in the history to
    /// every order of the customer cost a quarter of a full rebuild's loop time (perf).
    private func linkCustomerNames() {
        guard replicaRunner.isCaughtUp, viewsRunner.isCaughtUp, replica.onNameChanged == nil else { return }
        views.refreshCustomerNames()
        replica.onNameChanged = { [unowned views] id, name in views.customerNameChanged(id, name) }
    }

    /// Stops everything started by `start()`; read models keep their data.
    public func stop() {
        consumer.stop()
        publisher.stop()
        viewsRunner.stop()
        replicaRunner.stop()
    }

    /// The read models' runners (for shutdown snapshots).
    public var projectionRunners: [ProjectionRunner] { [viewsRunner, replicaRunner] }

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

    /// `GET /queries/orders?customerId=&status=&cursor=&limit=`: creation order, cursor paging.
    /// - Throws: `DomainError` validation (fields `limit`, `cursor`) for bad paging input.
    public func orders(customerId: String? = nil, status: OrderStatus? = nil, cursor: String? = nil, limit: Int? = nil) throws -> OrderPage {
        let limit = limit ?? 50
        var errors: [FieldError] = []
        if limit < 1 || limit > 500 { errors.append(FieldError(field: "limit", code: "out-of-range", message: "limit must be 1…500")) }
        var after: UInt64 = 0
        if let cursor, !cursor.isEmpty {
            if let p = OrderCursor.decode(cursor) { after = p } else {
                errors.append(FieldError(field: "cursor", code: "invalid-cursor", message: "cursor is not one this service issued"))
            }
        }
        if !errors.isEmpty { throw DomainError.validation("invalid-query", "invalid list parameters", fields: errors) }
        return views.page(customerId: customerId, status: status, after: after, limit: limit)
    }

    /// `GET /queries/stats`.
    public func stats() -> OrderStatsView { views.stats }

    /// The replica's copy of a customer (diagnostics).
    public func replicaCustomer(_ customerId: String) -> ReplicaCustomer? { replica.customers[customerId] }

    /// Temporal view, computed from the stream: the order after its events up to `version`
    /// (inclusive) and committed at or before `asOf`. nil if no event qualifies. The customer
    /// name is the replica's current one.
    public func order(_ orderId: String, atVersion version: Int64?, asOf: Date?) throws -> OrderView? {
        guard OrderValidation.isValidOrderId(orderId) else { return nil }
        var view: OrderView? = nil
        for r in try store.readStream(OrdersService.stream(orderId)) {
            if let version, r.streamVersion.value > version { break }
            if let asOf, r.timestamp > asOf { break }
            view = OrderView.evolve(view, try handler.decider.decodeRecorded(r), r, customerName: nil)
        }
        if let v = view { view?.customerName = replica.customers[v.customerId]?.name }
        return view
    }

    /// `GET /queries/orders/{id}/history`: the stream's events, oldest first; nil if unknown.
    public func history(_ orderId: String) throws -> OrderHistory? {
        guard OrderValidation.isValidOrderId(orderId) else { return nil }
        let events = try handler.history(of: OrdersService.stream(orderId))
        if events.isEmpty { return nil }
        return OrderHistory(orderId: orderId, events: try events.map { r, _ in
            OrderHistoryEntry(type: r.type, schemaVersion: r.schemaVersion, version: r.streamVersion.value, position: r.position.value,
                              time: RFC3339.format(r.timestamp), data: try JSONCoding.decode(JSONValue.self, from: r.data),
                              correlationId: r.metadata.correlationId, causationId: r.metadata.causationId,
                              eventId: r.id.description.lowercased())
        })
    }

    // MARK: - Consistency tokens

    /// What the order views reflect, per store.
    public var positions: OrdersPositions {
        OrdersPositions(orders: viewsRunner.position.value, publicLog: replicaRunner.position.value)
    }

    /// Completes once the read model fed by `feed` reflects `position` (or times out / fails).
    public func wait(forPosition position: LogPosition, in feed: OrdersFeed, timeout: Duration,
                     completion: @escaping (PositionWaitResult) -> Void) {
        switch feed {
        case .orders: viewsRunner.wait(forPosition: position, timeout: timeout, completion: completion)
        case .publicLog: replicaRunner.wait(forPosition: position, timeout: timeout, completion: completion)
        }
    }
}
