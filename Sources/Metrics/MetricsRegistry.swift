/// A small Prometheus registry (text exposition format 0.0.4).
///
/// Loop-confined: update and render on one thread, the loop's (other threads hand updates
/// over to it, e.g. with `EventLoop.execute`).
public final class MetricsRegistry {
    private var families: [MetricFamily] = []

    public init() {}

    /// Registers a counter family. `labelNames` fix the label order of every child.
    public func counter(_ name: String, help: String, labelNames: [String] = []) -> Counter {
        let c = Counter(name: name, help: help, labelNames: labelNames)
        families.append(c)
        return c
    }

    public func gauge(_ name: String, help: String, labelNames: [String] = []) -> Gauge {
        let g = Gauge(name: name, help: help, labelNames: labelNames)
        families.append(g)
        return g
    }

    /// A histogram with fixed upper bounds (ascending; `+Inf` is implicit).
    public func histogram(_ name: String, help: String, labelNames: [String] = [],
                          buckets: [Double] = Histogram.defaultBuckets) -> Histogram {
        let h = Histogram(name: name, help: help, labelNames: labelNames, buckets: buckets)
        families.append(h)
        return h
    }

    /// The `Content-Type` of `render()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every family in registration order, children sorted by label values.
    public func render() -> String {
        var out = ""
        for f in families { f.render(into: &out) }
        return out
    }
}

protocol MetricFamily: AnyObject {
    func render(into out: inout String)
}

enum PrometheusText {
    static func escapeLabel(_ v: String) -> String {
        var s = ""
        for c in v {
            switch c {
            case "\\": s += "\\\\"
            case "\"": s += "\\\""
            case "\n": s += "\\n"
            default: s.append(c)
            }
        }
        return s
    }

    static func labels(_ names: [String], _ values: [String], extra: (String, String)? = nil) -> String {
        var parts = zip(names, values).map { "\($0)=\"\(escapeLabel($1))\"" }
        if let extra { parts.append("\(extra.0)=\"\(extra.1)\"") }
        return parts.isEmpty ? "" : "{" + parts.joined(separator: ",") + "}"
    }

    static func number(_ v: Double) -> String {
        if v == .infinity { return "+Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    static func header(_ out: inout String, _ name: String, _ help: String, _ type: String) {
        out += "# HELP \(name) \(help.replacingOccurrences("\n", " "))\n# TYPE \(name) \(type)\n"
    }
}

extension String {
    fileprivate func replacingOccurrences(_ a: Character, _ b: Character) -> String {
        String(map { $0 == a ? b : $0 })
    }
}

/// A monotonically increasing counter family.
public final class Counter: MetricFamily {
    public let name: String
    let help: String
    let labelNames: [String]
    /// One labelled series; keep it to update without a lookup.
    public final class Child {
        public private(set) var value: Double = 0
        /// Adds `amount` (≥ 0).
        public func increment(by amount: Double = 1) { value += amount }
    }
    private var children: [[String]: Child] = [:]

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// Adds `amount` (≥ 0) to the child with `labels` (values in `labelNames` order).
    public func increment(_ labels: [String] = [], by amount: Double = 1) {
        precondition(amount >= 0)
        child(labels).increment(by: amount)
    }

    /// The series for `labels` (values in `labelNames` order), created on first use.
    public func child(_ labels: [String] = []) -> Child {
        precondition(labels.count == labelNames.count)
        if let c = children[labels] { return c }
        let c = Child()
        children[labels] = c
        return c
    }

    public func value(_ labels: [String] = []) -> Double { children[labels]?.value ?? 0 }

    /// Sets the child with `labels` to `total`, a count kept elsewhere that only grows (a store's
    /// appends since it opened), read at scrape time. A smaller total is ignored: a counter
    /// never goes down within a process.
    public func set(total: Double, _ labels: [String] = []) {
        let c = child(labels)
        if total > c.value { c.increment(by: total - c.value) }
    }

    func render(into out: inout String) {
        PrometheusText.header(&out, name, help, "counter")
        for key in children.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            out += "\(name)\(PrometheusText.labels(labelNames, key)) \(PrometheusText.number(children[key]!.value))\n"
        }
    }
}

/// A gauge family (a value that goes up and down).
public final class Gauge: MetricFamily {
    public let name: String
    let help: String
    let labelNames: [String]
    private var values: [[String]: Double] = [:]

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    public func set(_ value: Double, _ labels: [String] = []) {
        precondition(labels.count == labelNames.count)
        values[labels] = value
    }

    public func add(_ delta: Double, _ labels: [String] = []) {
        precondition(labels.count == labelNames.count)
        values[labels, default: 0] += delta
    }

    public func value(_ labels: [String] = []) -> Double { values[labels] ?? 0 }

    func render(into out: inout String) {
        PrometheusText.header(&out, name, help, "gauge")
        if values.isEmpty && labelNames.isEmpty { out += "\(name) 0\n" }
        for key in values.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            out += "\(name)\(PrometheusText.labels(labelNames, key)) \(PrometheusText.number(values[key]!))\n"
        }
    }
}

/// A histogram family with fixed buckets (cumulative `_bucket`, `_sum`, `_count`).
public final class Histogram: MetricFamily {
    /// Latency buckets in seconds, 0.5 ms … 10 s.
    public static let defaultBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public let name: String
    let help: String
    let labelNames: [String]
    public let buckets: [Double]

    /// One labelled series; keep it to observe without a lookup.
    public final class Series {
        let bounds: [Double]
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
        init(bounds: [Double]) { self.bounds = bounds; counts = Array(repeating: 0, count: bounds.count) }

        /// Records one observation.
        public func observe(_ value: Double) {
            // Non-cumulative per bucket; cumulated when rendering.
            var i = 0
            while i < bounds.count && value > bounds[i] { i += 1 }
            if i < bounds.count { counts[i] += 1 }
            sum += value
            count += 1
        }
    }
    private var series: [[String]: Series] = [:]

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        precondition(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 }, "buckets must ascend")
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets
    }

    /// Records one observation.
    public func observe(_ value: Double, _ labels: [String] = []) {
        child(labels).observe(value)
    }

    /// The series for `labels`, created on first use.
    public func child(_ labels: [String] = []) -> Series {
        precondition(labels.count == labelNames.count)
        if let existing = series[labels] { return existing }
        let s = Series(bounds: buckets)
        series[labels] = s
        return s
    }

    /// The number of observations of the child with `labels`.
    public func count(_ labels: [String] = []) -> UInt64 { series[labels]?.count ?? 0 }

    /// Sets the child with `labels` to observations counted elsewhere (a store's writer thread),
    /// read at scrape time: `counts` per bucket of this family's bounds, not cumulative, plus
    /// one for what lies above the last bound.
    public func set(counts: [UInt64], sum: Double, count: UInt64, _ labels: [String] = []) {
        precondition(counts.count == buckets.count + 1, "one count per bucket and one above them")
        let s = child(labels)
        s.counts = Array(counts.prefix(buckets.count))
        s.sum = sum
        s.count = count
    }

    func render(into out: inout String) {
        PrometheusText.header(&out, name, help, "histogram")
        for key in series.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let s = series[key]!
            var cumulative: UInt64 = 0
            for (i, bound) in buckets.enumerated() {
                cumulative += s.counts[i]
                out += "\(name)_bucket\(PrometheusText.labels(labelNames, key, extra: ("le", PrometheusText.number(bound)))) \(cumulative)\n"
            }
            out += "\(name)_bucket\(PrometheusText.labels(labelNames, key, extra: ("le", "+Inf"))) \(s.count)\n"
            out += "\(name)_sum\(PrometheusText.labels(labelNames, key)) \(s.sum)\n"
            out += "\(name)_count\(PrometheusText.labels(labelNames, key)) \(s.count)\n"
        }
    }
}

