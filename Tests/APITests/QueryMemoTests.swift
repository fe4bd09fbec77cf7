import CQRS
import Testing
@testable import API

/// The query memo serves a kept answer only while the read models stand still (or for good,
/// when the answer is final), and stays within its byte budget.
@Suite("Query memo: answers kept while the read models stand still")
struct QueryMemoTests {
    static func document(_ text: String) -> [UInt8] { Array(text.utf8) }
    static func memo(budget: Int = 8 << 20, largest: Int = 1 << 20) -> QueryMemo<[UInt8]> {
        QueryMemo(budget: budget, largest: largest) { $0.count }
    }

    @Test func anAnswerIsServedOnlyAtTheGenerationItWasRenderedAt() {
        let memo = Self.memo()
        memo.keep(Self.document("[1]"), for: "k", generation: 7)
        #expect(memo.answer(for: "k", generation: 7) == Array("[1]".utf8))
        #expect(memo.answer(for: "k", generation: 8) == nil)
        #expect(memo.answer(for: "other", generation: 7) == nil)
        memo.keep(Self.document("[1,2]"), for: "k", generation: 8)
        #expect(memo.answer(for: "k", generation: 8) == Array("[1,2]".utf8))
        #expect(memo.answer(for: "k", generation: 7) == nil)
        #expect(memo.count == 1 && memo.byteCount == 5)
    }

    @Test func aFinalAnswerIsServedAtAnyGeneration() {
        let memo = Self.memo()
        memo.keep(Self.document("full"), for: "page", generation: 3, final: true)
        #expect(memo.answer(for: "page", generation: 3) != nil)
        #expect(memo.answer(for: "page", generation: 1_000) != nil)
    }

    @Test func theKeyLeavesOutMinPositionAndKeepsEverythingElse() {
        let a = QueryRequest(id: "c1", arguments: QueryArguments([("limit", "5"), ("minPosition", "customers:3")]))
        let b = QueryRequest(id: "c1", arguments: QueryArguments([("limit", "5")]))
        let c = QueryRequest(id: "c1", arguments: QueryArguments([("limit", "6")]))
        let d = QueryRequest(id: "c2", arguments: QueryArguments([("limit", "5")]))
        let e = QueryRequest(id: nil, arguments: QueryArguments([("cursor", "c1"), ("limit", "5")]))
        #expect(a.memoKey == b.memoKey)
        #expect(Set([b, c, d, e].map(\.memoKey)).count == 4)
    }

    @Test func theBudgetBoundsTheBytesKeptAndABigAnswerIsNotKept() {
        let memo = Self.memo(budget: 100, largest: 60)
        for i in 0..<10 { memo.keep(Self.document(String(repeating: "x", count: 30)), for: "k\(i)", generation: 1) }
        #expect(memo.byteCount <= 100)
        #expect(memo.count == 3)
        #expect(memo.answer(for: "k9", generation: 1) != nil)          // the newest is always kept
        memo.keep(Self.document(String(repeating: "y", count: 61)), for: "big", generation: 1)
        #expect(memo.answer(for: "big", generation: 1) == nil)
        #expect(memo.count == 3)
    }
}
