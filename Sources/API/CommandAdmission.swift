import HTTP
import Metrics

/// Admission control for client commands, as middleware on the command routes: at most
/// `limit` accepted and not yet answered. One more is shed with 503 + `Retry-After` before its
/// body is decoded into the runtime, so a flood of (pipelined) commands costs a bounded queue
/// instead of unbounded memory and latency. Commands issued by consumers bypass it: their
/// window is bounded by the consumer. A process that does not write now (a standby, a query
/// replica: `ProcessRole`) refuses every command here. Loop-confined.
public final class CommandAdmission: HTTPMiddleware {
    public let limit: Int
    public private(set) var inFlight = 0
    private let inFlightGauge: Gauge
    private let shed: Counter
    private let role: ProcessRole

    public init(limit: Int, registry: MetricsRegistry, role: ProcessRole = .single) {
        self.limit = max(1, limit)
        self.role = role
        inFlightGauge = registry.gauge("tributary_commands_in_flight", help: "Client commands accepted and not yet answered")
        shed = registry.counter("tributary_commands_shed_total", help: "Client commands refused with 503 because the command queue was full")
    }

    public func handle(_ context: RequestContext, _ responder: Responder, next: @escaping HTTPHandler) {
        if let refused = role.writeRefusal() { return responder.respond(refused.response) }
        if let overloaded = admit() { return responder.respond(overloaded.response) }
        responder.whenAnswered { [self] _ in release() }
        next(context, responder)
    }

    /// Takes a slot, or returns the 503 problem to answer instead.
    func admit() -> Problem? {
        guard inFlight < limit else {
            shed.increment()
            var problem = Problem(status: 503, type: ProblemType.uri("overloaded"), title: "Overloaded",
                                  detail: "\(inFlight) commands are queued (the limit is \(limit)); retry later.")
            problem.headers.add(name: "Retry-After", value: "1")
            return problem
        }
        inFlight += 1
        inFlightGauge.set(Double(inFlight))
        return nil
    }

    /// Gives back a slot taken by `admit`.
    func release() {
        inFlight -= 1
        inFlightGauge.set(Double(inFlight))
    }
}
