import Testing
import TributaryTesting
@testable import EventStore

@Suite("ShardedDictionary: a Dictionary in 64 parts")
struct ShardedDictionaryTests {
    @Test("random inserts, updates, in-place changes and removals agree with a Dictionary")
    func agreesWithDictionary() {
        var rng = SplitMix64(state: 7)
        var model: [String: Int] = [:]
        var sharded = ShardedDictionary<String, Int>()
        for step in 0..<20_000 {
            let key = "c-\(rng.below(3_000))"
            switch rng.below(5) {
            case 0, 1:
                sharded[key] = step
                model[key] = step
            case 2:
                #expect(sharded[key] == model[key])
                sharded[key] = nil
                model[key] = nil
            case 3:
                sharded[key]? += 1
                model[key]? += 1
                #expect(sharded[key] == model[key])
            default:
                sharded[key] = (sharded[key] ?? 0) + 2
                model[key, default: 0] += 2
            }
            #expect(sharded.count == model.count)
        }
        #expect(Dictionary(uniqueKeysWithValues: sharded.map { ($0.key, $0.value) }) == model)
        for (k, v) in model { #expect(sharded[k] == v) }
        #expect(sharded["absent"] == nil)
    }

    @Test("the entries spread over the parts, so no growth rehashes them all")
    func entriesSpread() {
        var d = ShardedDictionary<StreamName, Int>()
        for i in 0..<64_000 { d[StreamName("customer-\(i)")] = i }
        var perShard = [Int](repeating: 0, count: ShardedDictionary<StreamName, Int>.shardCount)
        for (k, _) in d { perShard[Int((k.shardHash &* 0x9E37_79B9_7F4A_7C15) >> 58)] += 1 }
        // 1,000 a part on average; none holds more than twice that.
        #expect(perShard.allSatisfy { $0 > 500 && $0 < 2_000 })
        var ids = ShardedDictionary<EventID, UInt64>()
        for i in 0..<10_000 { ids[EventID()] = UInt64(i) }
        #expect(ids.count == 10_000)
    }

    @Test("a copy is independent of the original (copy on write, part by part)")
    func copiesAreValues() {
        var a = ShardedDictionary<String, Int>()
        for i in 0..<1_000 { a["k\(i)"] = i }
        let snapshot = a
        a["k1"] = -1
        a["k2"] = nil
        a["new"] = 5
        #expect(snapshot["k1"] == 1 && snapshot["k2"] == 2 && snapshot["new"] == nil && snapshot.count == 1_000)
        #expect(a["k1"] == -1 && a["k2"] == nil && a["new"] == 5 && a.count == 1_000)
        #expect(a != snapshot)
    }
}
