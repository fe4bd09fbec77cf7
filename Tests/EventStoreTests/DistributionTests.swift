import EventStore
import Testing

/// A distribution counts each observation in the first bucket whose bound is at least the
/// value, or in the bucket above every bound.
@Suite struct DistributionTests {
    @Test func observationsLandInTheirBuckets() {
        var d = Distribution(bounds: [1, 10, 100])
        for v in [0.5, 1, 1.5, 10, 99, 100, 101, 5_000] { d.observe(v) }
        #expect(d.counts == [2, 2, 2, 2])
        #expect(d.count == 8)
        #expect(d.sum == 0.5 + 1 + 1.5 + 10 + 99 + 100 + 101 + 5_000)
    }
}
