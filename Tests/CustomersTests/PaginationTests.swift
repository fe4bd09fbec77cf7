import Testing
import CQRS
import Foundation
@testable import Customers

/// Listing customers: stable id order, status filter, cursor pages, limit bounds.
@Suite struct PaginationTests {
    func harness(_ ids: [String]) async throws -> ServiceHarness {
        let h = ServiceHarness()
        try await h.start()
        for id in ids { try await h.ok(register(id), id) }
        #expect(await h.settle())
        return h
    }

    @Test func pagesThroughEveryCustomerInIdOrder() async throws {
        let ids = (0..<23).map { String(format: "cust-%02d", ($0 * 7) % 23) }
        let h = try await harness(ids)
        var seen: [String] = []
        var cursor: String? = nil
        var pages = 0
        repeat {
            let page = try await h.loop.run { try h.service.listCustomers(cursor: cursor, limit: 5) }
            #expect(page.items.count <= 5)
            seen += page.items.map(\.customerId)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil
        #expect(seen == ids.sorted())
        #expect(pages == 5)
    }

    @Test func registrationsBetweenPagesKeepTheOrder() async throws {
        let h = try await harness(["b", "d", "f"])
        let first = try await h.loop.run { try h.service.listCustomers(limit: 2) }
        #expect(first.items.map(\.customerId) == ["b", "d"])
        try await h.ok(register("a"), "a")
        try await h.ok(register("e"), "e")
        #expect(await h.settle())
        let second = try await h.loop.run { try h.service.listCustomers(cursor: first.nextCursor, limit: 2) }
        #expect(second.items.map(\.customerId) == ["e", "f"])
        #expect(second.nextCursor == nil)
    }

    @Test func filtersByStatus() async throws {
        let h = try await harness(["a", "b", "c", "d"])
        try await h.ok(.deactivate, "b")
        try await h.ok(.deactivate, "d")
        #expect(await h.settle())
        let active = try await h.loop.run { try h.service.listCustomers(status: .active) }
        #expect(active.items.map(\.customerId) == ["a", "c"])
        let inactive = try await h.loop.run { try h.service.listCustomers(status: .deactivated, limit: 1) }
        #expect(inactive.items.map(\.customerId) == ["b"])
        let rest = try await h.loop.run { try h.service.listCustomers(status: .deactivated, cursor: inactive.nextCursor, limit: 1) }
        #expect(rest.items.map(\.customerId) == ["d"])
        #expect(rest.nextCursor == nil)
    }

    @Test func defaultLimitIsFifty() async throws {
        let h = try await harness((0..<55).map { "c\(1000 + $0)" })
        let page = try await h.loop.run { try h.service.listCustomers() }
        #expect(page.items.count == 50)
        #expect(try Paging.key(of: page.nextCursor, kind: "c1") == "c1049")
    }

    @Test(arguments: [0, -1, 501])
    func limitOutsideOneTo500IsRefused(_ limit: Int) async throws {
        let h = try await harness(["a"])
        await #expect(throws: QueryError.self) { try await h.loop.run { try h.service.listCustomers(limit: limit) } }
    }

    @Test func malformedCursorIsRefused() async throws {
        let h = try await harness(["a"])
        await #expect(throws: QueryError.self) { try await h.loop.run { try h.service.listCustomers(cursor: "not a cursor") } }
    }
}
