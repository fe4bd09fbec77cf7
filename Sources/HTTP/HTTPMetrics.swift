import Metrics

/// The HTTP server's metrics: requests by route/method/status, latency by route, open connections.
public final class HTTPMetrics {
    public let requests: Counter
    public let latency: Histogram
    public let openConnections: Gauge
    public let rejectedConnections: Counter

    public init(registry: MetricsRegistry) {
        requests = registry.counter("http_requests_total", help: "HTTP requests answered, by route, method and status.",
                                    labelNames: ["route", "method", "status"])
        latency = registry.histogram("http_request_duration_seconds", help: "Time from request parsed to response handed to the connection.",
                                     labelNames: ["route"])
        openConnections = registry.gauge("http_open_connections", help: "Currently open HTTP connections.")
        rejectedConnections = registry.counter("http_rejected_connections_total", help: "Connections refused with 503 because of the connection cap.")
    }

    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }
    /// Series per (route, method, status): one small-key lookup per request instead of
    /// building label arrays.
    private var cache: [Key: (Counter.Child, Histogram.Series)] = [:]

    /// Records one answered request.
    public func record(route: String, method rawMethod: String, status: Int, seconds: Double) {
        // Clients choose the method token: bound the label's cardinality.
        let method: String
        switch rawMethod {
        case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS": method = rawMethod
        default: method = "OTHER"
        }
        let key = Key(route: route, method: method, status: status)
        let pair: (Counter.Child, Histogram.Series)
        if let cached = cache[key] { pair = cached } else {
            pair = (requests.child([route, method, HTTPMetrics.statusText(status)]), latency.child([route]))
            cache[key] = pair
        }
        pair.0.increment()
        pair.1.observe(seconds)
    }

    private static let statusStrings: [String] = (0..<600).map(String.init)
    static func statusText(_ s: Int) -> String { s >= 0 && s < 600 ? statusStrings[s] : String(s) }
}
