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
        let method = HTTPMetrics.label(rawMethod)
        let key = Key(route: route, method: method, status: status)
        let pair: (Counter.Child, Histogram.Series)
        if let cached = cache[key] { pair = cached } else {
            pair = (requests.child([route, method, HTTPMetrics.statusText(status)]), latency.child([route]))
            cache[key] = pair
        }
        pair.0.increment()
        pair.1.observe(seconds)
    }

    /// Records one answered request of a matched route: its (method, status) series are found
    /// in the route's own short list, without hashing the route's name.
    func record(route: String, series: RouteSeries, method rawMethod: String, status: Int, seconds: Double) {
        let method = HTTPMetrics.label(rawMethod)
        for entry in series.entries where entry.status == status && entry.method == method {
            entry.counter.increment()
            entry.latency.observe(seconds)
            return
        }
        let counter = requests.child([route, method, HTTPMetrics.statusText(status)]), latency = self.latency.child([route])
        series.entries.append((method, status, counter, latency))
        counter.increment()
        latency.observe(seconds)
    }

    /// Clients choose the method token: the label's values are bounded.
    static func label(_ method: String) -> String {
        switch method {
        case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS": return method
        default: return "OTHER"
        }
    }

    private static let statusStrings: [String] = (0..<600).map(String.init)
    static func statusText(_ s: Int) -> String { s >= 0 && s < 600 ? statusStrings[s] : String(s) }
}

/// A route's request series by (method, status): a few per route, scanned. Loop-confined.
final class RouteSeries: @unchecked Sendable {
    var entries: [(method: String, status: Int, counter: Counter.Child, latency: Histogram.Series)] = []
}
