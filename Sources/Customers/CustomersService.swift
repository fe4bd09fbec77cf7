import Foundation
import CQRS
import EventStore

/// The Customers service: its domain declared over the shared `ServiceRuntime` — the customer
/// decider, two read models (the directory of the customers store, order activity from the
/// public log), the public mapping (source `customers`) and the credit saga's reactions to
/// order public events.
///
/// Loop-confined: create, start, command, query and stop on the loop thread; `executor` must
/// run store completions and subscription deliveries on that thread.
public final class CustomersService {
    public typealias Options = ServiceOptions

    /// The service's name: public-event source, store name, position-token prefix.
    public static let name = CustomerPublicMapping.source

    /// Production defaults: aggregate snapshots every 100 events, 100k cached customers, 64
    /// public events in flight in the credit saga.
    public static var defaultOptions: Options {
        var o = Options()
        o.aggregateSnapshotEvery = 100
        o.cacheCapacity = 100_000
        o.consumerMaxInFlight = 64
        return o
    }

    public let runtime: ServiceRuntime<CustomerDecider>
    /// Read model of the customers store.
    public let directory: CustomerDirectoryProjection
    /// Read model of the public log (order activity per customer).
    public let orderActivity: CustomerOrderActivityProjection
    public let directoryRunner: ProjectionRunner
    public let orderActivityRunner: ProjectionRunner

    public var store: EventStore { runtime.store }
    public var publicLog: EventStore { runtime.publicLog }
    public var handler: CommandHandler<CustomerDecider> { runtime.handler }
    public var publisher: Publisher { runtime.publisher }
    public var consumer: Consumer<CustomerDecider> { runtime.consumer! }

    /// - Parameters:
    ///   - store: the customers store; `publicLog`: the shared public log.
    ///   - idempotency: the customers store's index if the app fills it from its startup scan;
    ///     nil scans `store` now (synchronously).
    ///   - progress: replay progress of both read models (for startup logging).
    /// - Throws: store read errors while rebuilding the idempotency index.
    public init(store: EventStore, publicLog: EventStore, executor: CompletionExecutor, scheduler: Scheduler,
                options: Options = CustomersService.defaultOptions, idempotency: IdempotencyIndex? = nil,
                logger: @escaping CQRSLogger = { _, _ in }, progress: ((ReplayProgress) -> Void)? = nil) throws {
        runtime = try ServiceRuntime(name: Self.name, decider: CustomerDecider(), store: store, publicLog: publicLog,
                                     executor: executor, scheduler: scheduler, options: options, idempotency: idempotency,
                                     logger: logger, progress: progress, publish: CustomerPublicMapping.map,
                                     reactions: CustomerSagaMapping.reactions)
        directory = CustomerDirectoryProjection()
        orderActivity = CustomerOrderActivityProjection()
        directoryRunner = runtime.addReadModel(directory, follows: .own)
        orderActivityRunner = runtime.addReadModel(orderActivity, follows: .publicLog)
    }

    /// Starts both read models, the publisher and the consumer (after `consumerFrom`, else the
    /// watermark found by scanning the customers store). Call once.
    public func start(consumerFrom: LogPosition? = nil) throws { try runtime.start(consumerFrom: consumerFrom) }

    /// Starts the read models alone (restore, then catch up). Idempotent.
    public func startReadModels() { runtime.startReadModels() }

    /// Stops consumer, publisher and read models (views keep their data). Idempotent.
    public func stop() { runtime.stop() }

    /// True once both read models have caught up with their stores (for `/ready`).
    public var isReady: Bool { runtime.isReady }

    /// Every runtime component in the common health shape.
    public var components: [ComponentHealth] { runtime.components }
    public func appendHealthStamp(to stamp: inout [UInt64]) { runtime.appendHealthStamp(to: &stamp) }

    /// Handles a command for customer `customerId`; `completion` runs once, on the loop.
    ///
    /// - An invalid `customerId` fails `.domain(.validation)` for register (field `customerId`)
    ///   and `.domain(.notFound)` (`customer-not-found`) otherwise; for register it must equal
    ///   the command's `customerId`.
    /// - Register's existence check is the decider's (409 `customer-exists`), so `.noStream` is
    ///   treated as `.retrying` (a stream may hold saga rejections before registration).
    /// - Success: `outcome.position` is a position of the customers store;
    ///   `CustomersService.isCreation(outcome)` tells 201 from 200.
    public func handle(_ command: CustomerCommand, customerId: String, context: CommandContext = CommandContext(),
                       concurrency: ConcurrencyMode = .retrying, completion: @escaping CommandCompletion<CustomerEvent>) {
        var mode = concurrency
        if case .register(let r) = command {
            if r.customerId != customerId || !CustomerID.isValid(customerId) {
                let field = CustomerValidation.customerId(customerId)
                    ?? FieldError(field: "customerId", code: "mismatch", message: "customerId does not match the target customer")
                return completion(.failure(.domain(.validation("invalid-customer", "the command has invalid fields", fields: [field]))))
            }
            if case .noStream = mode { mode = .retrying }
        } else if !CustomerID.isValid(customerId) {
            return completion(.failure(.domain(.notFound("customer-not-found", "customer does not exist"))))
        }
        handler.handle(command, on: CustomerID.stream(customerId), concurrency: mode, context: context, completion: completion)
    }

    /// Whether a successful outcome registered the customer (answer 201 rather than 200).
    public static func isCreation(_ outcome: CommandOutcome<CustomerEvent>) -> Bool {
        outcome.events.contains { if case .registered = $0 { return true } else { return false } }
    }

    /// Positions the read models reflect: the customers store's and the public log's.
    public var positions: ServicePositions { ServicePositions(runtime) }

    /// Completes once the read models fed by `feed` reflect `position` (see `ProjectionRunner.wait`).
    public func wait(forPosition position: LogPosition, in feed: Feed, timeout: Duration,
                     completion: @escaping (PositionWaitResult) -> Void) {
        runtime.wait(forPosition: position, in: feed, timeout: timeout, completion: completion)
    }
}
