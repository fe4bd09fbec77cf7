import Testing
import Foundation
import CQRS
import EventStore
import PublicEvents
@testable import Orders

/// `GET /queries/orders`: creation order, filters, opaque cursors, limit bounds.
@Suite struct PaginationTests {
    func setUp() async throws -> Harness {
        let h = Harness()
        try await h.start()
        try h.register("c1")
        try h.register("c2", name: "Bob")
        #expect(await h.waitForViews())
        for i in 0..<7 {
            let customer = i % 2 == 0 ? "c1" : "c2"
            _ = try await h.send(.place(PlaceOrder(customerId: customer, currency: "EUR", lines: [lineA])), "z\(9 - i)").get()
        }
        _ = try await h.send(.cancel(reason: "x"), "z9").get()
        #expect(await h.waitForViews())
        return h
    }

    func all(_ h: Harness, customerId: String? = nil, status: OrderStatus? = nil, limit: Int) async throws -> [[String]] {
        var pages: [[String]] = []
        var cursor: String? = nil
        repeat {
            let page = try await h.run { try h.service.orders(customerId: customerId, status: status, cursor: cursor, limit: limit) }
            pages.append(page.items.map(\.orderId))
            cursor = page.nextCursor
        } while cursor != nil
        return pages
    }

    @Test func pagesInCreationOrderWithoutGapsOrRepeats() async throws {
        let h = try await setUp()
        #expect(try await all(h, limit: 3) == [["z9", "z8", "z7"], ["z6", "z5", "z4"], ["z3"]])
        #expect(try await all(h, limit: 50) == [["z9", "z8", "z7", "z6", "z5", "z4", "z3"]])
        #expect(try await all(h, limit: 7) == [["z9", "z8", "z7", "z6", "z5", "z4", "z3"]])
    }

    @Test func filtersByCustomerAndStatus() async throws {
        let h = try await setUp()
        #expect(try await all(h, customerId: "c1", limit: 2) == [["z9", "z7"], ["z5", "z3"]])
        #expect(try await all(h, customerId: "c2", limit: 10) == [["z8", "z6", "z4"]])
        #expect(try await all(h, customerId: "c1", status: .pending, limit: 10) == [["z7", "z5", "z3"]])
        #expect(try await all(h, status: .cancelled, limit: 10) == [["z9"]])
        #expect(try await all(h, customerId: "nobody", limit: 10) == [[]])
    }

    @Test func defaultLimitIs50AndBoundsAre1To500() async throws {
        let h = try await setUp()
        #expect(try await h.run { try h.service.orders().items.count } == 7)
        for bad in [0, 501, -3] {
            await #expect(throws: QueryError.self) { try await h.run { try h.service.orders(limit: bad) } }
        }
        #expect(try await h.run { try h.service.orders(limit: 500).items.count } == 7)
        #expect(try await h.run { try h.service.orders(limit: 1).nextCursor } != nil)
    }

    @Test func foreignCursorsAreRejected() async throws {
        let h = try await setUp()
        await #expect(throws: QueryError.self) { try await h.run { try h.service.orders(cursor: "not-a-cursor!") } }
        await #expect(throws: QueryError.self) { try await h.run { try h.service.orders(cursor: "MTIz") } }   // base64 "123"
    }

    @Test func cursorRoundTrips() throws {
        #expect(try Paging.key(of: Paging.cursor(kind: "o1", key: "12345"), kind: "o1") == "12345")
        #expect(try Paging.key(of: Paging.cursor(kind: "o1", key: "0"), kind: "o1") == "0")
        #expect(Paging.cursor(kind: "o1", key: "2") == "bzE6Mg")   // the cursors issued before stay valid
    }
}
