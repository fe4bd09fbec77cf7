import Metrics
import Testing

/// A counter copied at scrape time from a total kept elsewhere stays a counter: it follows the
/// total up and never goes down.
@Suite struct MetricsCounterTotalsTests {
    @Test func aCounterFollowsATotalUpAndNeverDown() {
        let registry = MetricsRegistry()
        let appends = registry.counter("x_appends_total", help: "Appends", labelNames: ["store"])
        appends.set(total: 0, ["a"])
        #expect(registry.render().contains("# TYPE x_appends_total counter\nx_appends_total{store=\"a\"} 0\n"))
        appends.set(total: 5, ["a"])
        appends.set(total: 3, ["a"])
        #expect(appends.value(["a"]) == 5)
        appends.set(total: 9, ["a"])
        #expect(appends.value(["a"]) == 9)
        #expect(registry.render().contains("x_appends_total{store=\"a\"} 9\n"))
    }
}
