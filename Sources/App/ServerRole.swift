import API
import Foundation

/// What one `tributary serve` process runs (`--role`, docs/deployment.md).
///
/// - `all`: every service, its stores and the public log in one process (the default).
/// - `service(NAME)`: one service's writer: its commands, publisher, saga consumer and read
///   models, over its own store and the shared public log. Several may run; the one holding
///   the service's writer lease writes, the others wait as hot standbys serving its queries.
/// - `query(NAME)`: a read-only replica of one service: its read models, queries, history and
///   streams, plus the public log and its stream. It never writes.
///
/// Services meet only on the public log, so a split deployment keeps every store it opens on
/// PostgreSQL, where the processes (and machines) share them.
public enum ServerRole: Equatable, Sendable, CustomStringConvertible {
    case all
    case service(String)
    case query(String)

    /// The services a role may name.
    public static let serviceNames = ["customers", "orders"]

    /// `--role ROLE [--service NAME]`, or the error to print.
    public init(role: String, service: String?) throws {
        let known = Self.serviceNames.joined(separator: ", ")
        switch role {
        case "all":
            guard service == nil else { throw ConfigurationError("--service goes with --role query only (--role all hosts every service)") }
            self = .all
        case "query":
            guard let service else { throw ConfigurationError("--role query needs --service NAME (one of: \(known))") }
            guard Self.serviceNames.contains(service) else { throw ConfigurationError("no service named '\(service)' (services: \(known))") }
            self = .query(service)
        case let name where Self.serviceNames.contains(name):
            guard service == nil || service == name else { throw ConfigurationError("--role \(name) runs the \(name) service; --service \(service!) contradicts it") }
            self = .service(name)
        default:
            throw ConfigurationError("unknown role '\(role)' (roles: all, \(known), query)")
        }
    }

    public var description: String {
        switch self {
        case .all: return "all"
        case .service(let name): return name
        case .query(let name): return "query --service \(name)"
        }
    }

    /// The services this process hosts.
    var services: [String] {
        switch self {
        case .all: return Self.serviceNames
        case .service(let name), .query(let name): return [name]
        }
    }

    /// The stores this process opens: its services' own stores and the public log.
    var storeNames: [String] { services + ["public"] }

    /// Whether this process may write (at once, or once it holds the lease).
    var writes: Bool {
        if case .query = self { return false }
        return true
    }

    /// The role as `/health` reports it: the single process writes from the start, a service's
    /// process once it holds the lease, a replica never.
    func makeProcessRole() -> ProcessRole {
        switch self {
        case .all: return .single
        case .service(let name):
            return ProcessRole(name: name, service: name, writer: .standby, waitingFor: "another process holds the \(name) writer lease.")
        case .query(let name): return ProcessRole(name: "query", service: name, writer: .none)
        }
    }
}
