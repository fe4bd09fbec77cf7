import Testing
import TributaryTesting
@testable import CQRS

@Suite("ReadModelDictionary: a persistent hash trie for snapshotted read models")
struct ReadModelDictionaryTests {
    @Test("random inserts, updates, removals and in-place changes agree with a Dictionary")
    func agreesWithDictionary() {
        var rng = SplitMix64(state: 11)
        var model: [String: Int] = [:]
        var tree = ReadModelDictionary<String, Int>()
        for step in 0..<20_000 {
            let key = "c-\(rng.below(3_000))"
            switch rng.below(5) {
            case 0, 1:
                tree[key] = step
                model[key] = step
            case 2:
                #expect(tree.removeValue(forKey: key) == model.removeValue(forKey: key))
            case 3:
                let changed = tree.modifyValue(forKey: key) { v -> Int in v += 1; return v }
                if model[key] != nil { model[key]! += 1 }
                #expect(changed == model[key])
            default:
                tree[key, default: 0] += 2
                model[key, default: 0] += 2
            }
            #expect(tree.count == model.count && tree.isEmpty == model.isEmpty)
        }
        #expect(Dictionary(uniqueKeysWithValues: tree.map { ($0.key, $0.value) }) == model)
        #expect(Set(tree.keys) == Set(model.keys) && tree.values.sorted() == model.values.sorted())
        for (k, v) in model { #expect(tree[k] == v) }
        #expect(tree.modifyValue(forKey: "absent") { _ in 1 } == nil && tree["absent"] == nil)
    }

    @Test("a snapshot's copy keeps what it captured while the original is written")
    func copiesAreValues() {
        var live = ReadModelDictionary<String, [Int]>()
        for i in 0..<100_000 { live["k\(i)"] = [i] }
        let snapshot = live
        for i in stride(from: 0, to: 100_000, by: 7) { live["k\(i)"]!.append(-1) }
        live.removeValue(forKey: "k1")
        live["new"] = [5]
        _ = live.modifyValue(forKey: "k3") { $0 = [] }
        live["k4", default: []].append(4)
        #expect(snapshot.count == 100_000 && snapshot["new"] == nil)
        for i in 0..<100_000 { #expect(snapshot["k\(i)"] == [i]) }
        #expect(live.count == 100_000 && live["k1"] == nil && live["k7"] == [7, -1] && live["k3"] == [] && live["k4"] == [4, 4])
        #expect(live != snapshot)
        var emptied = live
        emptied.removeAll()
        #expect(emptied.isEmpty && live.count == 100_000)
        #expect(["a": 1, "b": 2] as ReadModelDictionary<String, Int> == ["b": 2, "a": 1])
    }
}
