import CQRS
import HTTP
import JSON
import Logging

/// The lines a request causes, each carrying the request's id and, where it has them, its
/// correlation and trace ids: the server's `ExchangeObserver`, told of every answer.
///
/// - At `debug` (`--log-level debug`) every request gets one access line: method, target,
///   route, status, bytes, milliseconds.
/// - At any level a server error (5xx other than the 503s that ask the client to retry: not
///   ready, overloaded, position not reached, store unavailable, which the components that
///   decide them log themselves) gets an `error` line with the problem's detail.
///
/// The request id is the client's `X-Request-ID` (a gateway's, e.g. nginx's `$request_id`)
/// when it is 1–128 visible ASCII characters, else made here when a line needs one. A response
/// carries `X-Request-ID` when the client sent one or a line was logged for it, so whoever
/// reports an error can quote the id its line has.
public final class RequestLog: ExchangeObserver {
    public static let header = "X-Request-ID"
    private let log: Logger
    private let everyRequest: Bool

    public init(log: Logger) {
        self.log = log
        everyRequest = log.logLevel <= .debug
    }

    public func answering(_ head: HTTPRequestHead, route: String, response: inout HTTPResponse, elapsedNanos: UInt64) {
        let given = head.headers[Self.header].flatMap(Self.acceptable)
        let failed = response.status >= 500 && response.status != 503
        guard everyRequest || failed else {
            if let given { response.headers.set(name: Self.header, value: given) }
            return
        }
        let id = given ?? RequestID.make()
        response.headers.set(name: Self.header, value: id)
        var metadata: Logger.Metadata = [
            "component": "http", "request_id": .string(id), "method": .string(head.method), "target": .string(head.target),
            "route": .string(route), "status": .stringConvertible(response.status),
            "duration_ms": .string(Self.millis(elapsedNanos)),
        ]
        if !response.body.isEmpty { metadata["bytes"] = .stringConvertible(response.body.count) }
        // A command answers with the correlation id it used (the client's, the trace's or a new one).
        if let correlation = response.headers["X-Correlation-ID"] ?? head.headers["X-Correlation-ID"] {
            metadata["correlation_id"] = .string(String(correlation.prefix(128)))
        }
        if let trace = head.headers["traceparent"].flatMap(TraceParent.init) { metadata["trace_id"] = .string(trace.traceID) }
        if failed {
            if let detail = Self.problemDetail(response) { metadata["detail"] = .string(detail) }
            log.error("\(head.method) \(route) answered \(response.status)", metadata: metadata)
        } else {
            log.debug("\(head.method) \(head.target) \(response.status)", metadata: metadata)
        }
    }

    /// The client's id if it is 1–128 visible ASCII characters (it is echoed in a header and
    /// written to logs), else nil.
    static func acceptable(_ value: String) -> String? {
        let bytes = value.utf8
        guard (1...128).contains(bytes.count), bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return value
    }

    private static func millis(_ nanos: UInt64) -> String {
        let micros = nanos / 1_000
        let fraction = micros % 1_000
        return "\(micros / 1_000)." + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + "\(fraction)"
    }

    /// The `detail` of a problem+json body.
    private static func problemDetail(_ response: HTTPResponse) -> String? {
        guard let type = response.headers["Content-Type"], type.hasPrefix("application/problem+json"),
              case .object(let fields)? = try? JSONCoding.decode(JSONValue.self, from: response.body),
              case .string(let detail)? = fields["detail"] else { return nil }
        return detail
    }
}
