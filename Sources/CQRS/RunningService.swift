import Foundation
import EventStore
import JSON

/// A service's runtime as the composition root sees it, whatever its domain types: what the
/// app needs to start, stop, probe and snapshot every service the same way.
public protocol RunningService: AnyObject {
    var name: String { get }
    var store: EventStore { get }
    var publicLog: EventStore { get }
    /// The command handler's idempotency index (filled by a `ServiceStartupScan`).
    var idempotency: IdempotencyIndex { get }
    /// The saga consumer's name, nil when the service has none.
    var consumerName: String? { get }
    var projectionRunners: [ProjectionRunner] { get }
    var components: [ComponentHealth] { get }
    /// Numbers that change whenever `components` does (and at times when it does not): a
    /// `/health` probe compares them and reads `components` only when they differ.
    func appendHealthStamp(to stamp: inout [UInt64])
    var isReady: Bool { get }
    /// False in a query replica or a standby: read models only (see `ServiceRuntime.writes`).
    var writes: Bool { get set }
    var feeds: [Feed] { get }
    func position(_ feed: Feed) -> LogPosition
    /// Changes whenever any read model moves; answers rendered at one value stay true until it does.
    var generation: UInt64 { get }
    func tokenName(_ feed: Feed) -> String
    func wait(forPosition position: LogPosition, in feed: Feed, timeout: Duration, completion: @escaping (PositionWaitResult) -> Void)
    func startReadModels()
    /// Reads the operations journal again before `start` (a standby taking over).
    func reloadOperations(completion: @escaping () -> Void)
    func start(consumerFrom: LogPosition?) throws
    func stop()
}

/// A service whose components an operator can act on (ServiceRuntime+Operations): every move
/// is recorded in the service's operations journal.
public protocol OperatedService: RunningService {
    var parkedEvents: [OperationEntry] { get }
    func retryParked(component: String, position: LogPosition?, note: OperatorNote,
                     completion: @escaping (Result<[OperationEntry], OperationError>) -> Void)
    func skipParked(component: String, position: LogPosition, note: OperatorNote,
                    completion: @escaping (Result<OperationEntry, OperationError>) -> Void)
    func resume(component: String, skipping: Bool, note: OperatorNote,
                completion: @escaping (Result<OperationEntry, OperationError>) -> Void)
    func rebuild(component: String, note: OperatorNote, completion: @escaping (Result<OperationEntry, OperationError>) -> Void)
    func operations(completion: @escaping (Result<[OperationEntry], OperationError>) -> Void)
}

extension RunningService {
    public func reloadOperations(completion: @escaping () -> Void) { completion() }
}

extension ServiceRuntime: OperatedService {
    public var idempotency: IdempotencyIndex { handler.idempotency }
    public var consumerName: String? { consumer?.name }
}

/// One read model of a service: its runner and the feed it follows. Not nested in the generic
/// `ServiceRuntime`: the per-request loops over a service's read models (`isReady`,
/// `position(_:)`, `generation`) would otherwise look the nested type's generic metadata up at
/// run time on every call.
public struct ServiceReadModel {
    public let runner: ProjectionRunner
    public let feed: Feed
}
