import CQRS
import EventStore

/// One read model's health (for `/health` and `/metrics`).
public struct ReadModelStatus: Codable, Hashable, Sendable {
    public var name: String
    /// `customers` or `public`.
    public var store: String
    /// `starting`, `catching-up`, `live`, `failed`, `stopped`.
    public var status: String
    public var position: UInt64
    public var lag: UInt64
    public var eventsApplied: UInt64
    /// The failure (with the event position), when `failed`.
    public var failure: String?
}

/// Health of the whole service: read models, publisher, consumer, command counters.
public struct CustomersServiceStatus: Codable, Hashable, Sendable {
    public var readModels: [ReadModelStatus]
    /// `idle`, `running`, `retrying`, `failed`, `stopped`.
    public var publisher: String
    public var publisherCheckpoint: UInt64
    public var published: UInt64
    public var publisherProblem: String?
    public var consumer: String
    public var consumerCheckpoint: UInt64
    public var consumerBacklog: Int
    public var consumerHandled: UInt64
    public var consumerRejected: UInt64
    public var consumerProblem: String?
    public var commands: Int
    public var commandsSucceeded: Int
    public var commandsRejected: Int
    public var commandsFailed: Int
    /// False when a read model, the publisher or the consumer has failed.
    public var healthy: Bool
    /// True once both read models have caught up.
    public var ready: Bool
}

extension CustomersService {
    /// Snapshot of every component's state.
    public var status: CustomersServiceStatus {
        func model(_ r: ProjectionRunner, _ store: String) -> ReadModelStatus {
            ReadModelStatus(name: r.projection.name, store: store, status: r.status.description, position: r.position.value,
                            lag: r.lag, eventsApplied: r.eventsApplied, failure: r.failure?.description)
        }
        var publisherProblem: String?
        let publisherState: String
        switch publisher.status {
        case .idle: publisherState = "idle"
        case .running: publisherState = "running"
        case .retrying(let reason): publisherState = "retrying"; publisherProblem = reason
        case let .failed(position, reason): publisherState = "failed"; publisherProblem = "at position \(position): \(reason)"
        case .stopped: publisherState = "stopped"
        }
        var consumerProblem: String?
        let consumerState: String
        switch consumer.status {
        case .idle: consumerState = "idle"
        case .running: consumerState = "running"
        case .retrying(let reason): consumerState = "retrying"; consumerProblem = reason
        case let .failed(position, reason): consumerState = "failed"; consumerProblem = "at public position \(position): \(reason)"
        case .stopped: consumerState = "stopped"
        }
        let models = [model(directoryRunner, CustomerStoreKind.customers.rawValue),
                      model(orderActivityRunner, CustomerStoreKind.publicLog.rawValue)]
        let stats = handler.stats
        return CustomersServiceStatus(
            readModels: models, publisher: publisherState, publisherCheckpoint: publisher.checkpoint.value,
            published: publisher.published, publisherProblem: publisherProblem, consumer: consumerState,
            consumerCheckpoint: consumer.checkpoint.value, consumerBacklog: consumer.backlog, consumerHandled: consumer.handled,
            consumerRejected: consumer.rejected, consumerProblem: consumerProblem, commands: stats.commands,
            commandsSucceeded: stats.succeeded, commandsRejected: stats.rejected, commandsFailed: stats.failed,
            healthy: models.allSatisfy { $0.status != "failed" } && publisherState != "failed" && consumerState != "failed",
            ready: isReady)
    }
}

extension CustomersService {
    /// Every runtime component in the runtime's common health shape (read models, publisher,
    /// consumer), for `/health` and `/metrics` alongside other services'.
    public var components: [ComponentHealth] {
        [directoryRunner.health, orderActivityRunner.health, publisher.health, consumer.health]
    }
}
