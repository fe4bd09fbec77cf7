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

/// A histogram copied from counts kept elsewhere renders them cumulatively, with +Inf, sum and
/// count.
@Suite struct MetricsHistogramCopyTests {
    @Test func aHistogramTakesCountsKeptElsewhere() {
        let registry = MetricsRegistry()
        let h = registry.histogram("x_batch_events", help: "Events per batch", labelNames: ["store"], buckets: [1, 10])
        h.set(counts: [3, 2, 1], sum: 40, count: 6, ["a"])
        let text = registry.render()
        #expect(text.contains("x_batch_events_bucket{store=\"a\",le=\"1\"} 3\n"))
        #expect(text.contains("x_batch_events_bucket{store=\"a\",le=\"10\"} 5\n"))
        #expect(text.contains("x_batch_events_bucket{store=\"a\",le=\"+Inf\"} 6\n"))
        #expect(text.contains("x_batch_events_sum{store=\"a\"} 40.0\n"))
        #expect(text.contains("x_batch_events_count{store=\"a\"} 6\n"))
    }
}
