import Foundation
import HTTP
import JSON

/// What this process is in a deployment (`tributary serve --role`), and whether it may write
/// now. One process (`all`, the default) hosts every service and always writes; a service's
/// process (`customers`, `orders`) writes only while it holds that service's writer lease and
/// is a hot standby otherwise; a query replica (`query`) never writes. Commands and operator
/// moves ask it first. Loop-confined.
public final class ProcessRole {
    /// Whether this process writes its service's store now.
    public enum Writer: String, Sendable {
        /// It writes: the single process, or a service's process holding the lease.
        case leader
        /// A service's process waiting for the lease; it serves queries meanwhile.
        case standby
        /// A query replica: it never writes.
        case none
    }

    /// `all`, `customers`, `orders` or `query`.
    public let name: String
    /// The service a `query` replica serves (nil for the other roles).
    public let service: String?
    public private(set) var writer: Writer
    /// Why it does not write now, for the problems it answers with.
    private var waitingFor: String

    public init(name: String, service: String? = nil, writer: Writer, waitingFor: String = "") {
        self.name = name
        self.service = service
        self.writer = writer
        self.waitingFor = waitingFor
    }

    /// The single process: every service, always the writer.
    public static var single: ProcessRole { ProcessRole(name: "all", writer: .leader) }

    /// The lease was taken: this process writes from now on.
    public func becameLeader() {
        writer = .leader
        waitingFor = ""
    }

    /// The problem to answer a write (a command, an operator move) with, nil when this process
    /// writes. A standby answers 503 + `Retry-After` (the lease comes back within seconds); a
    /// query replica 421 (the request reached the wrong process: commands go to the service's).
    public func writeRefusal() -> Problem? {
        switch writer {
        case .leader:
            return nil
        case .standby:
            var problem = Problem(status: 503, type: ProblemType.uri("standby"), title: "Standby",
                                  detail: "This \(name) process is a standby: \(waitingFor) Retry shortly; it takes over within seconds of the writer's end.")
            problem.headers.add(name: "Retry-After", value: "1")
            return problem
        case .none:
            return Problem(status: 421, type: ProblemType.uri("read-only-replica"), title: "Read-only replica",
                           detail: "This process is a query replica of '\(service ?? name)' and never writes; send commands and operator moves to the \(service ?? name) service's process.")
        }
    }

    /// The role as `/health` and `/ready` report it.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "writer": .string(writer.rawValue)]
        if let service { o["service"] = .string(service) }
        return .object(o)
    }
}
