import Testing
import JSON
@testable import CQRS

/// Pages built from cached item bytes are the bytes the encoder writes for the whole page,
/// and their tag follows every item.
@Suite struct DocumentCacheTests {
    struct Item: Codable, Hashable, Sendable {
        var id: String
        var name: String
        var count: Int
        var note: String?
    }

    static let items = [
        Item(id: "a", name: "Ada \"the\" first\n", count: 1, note: nil),
        Item(id: "b", name: "Bé \u{1F600} / \\", count: -7, note: "x"),
        Item(id: "c", name: "", count: 0, note: "\u{0}\u{1F}"),
    ]

    @Test(arguments: [0, 1, 3])
    func pagesAreTheEncodersBytes(count: Int) throws {
        let cache = DocumentCache<Item>()
        for cursor in [nil, "YzE6Yw", "odd \"cursor\""] as [String?] {
            let page = Page(items: Array(Self.items.prefix(count)), nextCursor: cursor)
            let built = try cache.document(for: page, key: { $0.id }, version: { _ in nil })
            #expect(built.body == (try JSONCoding.encode(page)), "\(count) items, cursor \(cursor ?? "none")")
            #expect(built.version == nil)
            // Again, from the cache: the same bytes and tag.
            let again = try cache.document(for: page, key: { $0.id }, version: { _ in nil })
            #expect(again == built)
        }
    }

    @Test func theTagChangesWithAnyItemAndTheCursor() throws {
        let cache = DocumentCache<Item>()
        let page = Page(items: Self.items, nextCursor: nil)
        let tag = try cache.document(for: page, key: { $0.id }, version: { _ in nil }).contentHash
        var changed = Self.items
        changed[2].count += 1
        let after = try cache.document(for: Page(items: changed, nextCursor: nil), key: { $0.id }, version: { _ in nil })
        #expect(after.contentHash != tag)
        #expect(after.body == (try JSONCoding.encode(Page(items: changed, nextCursor: nil))))
        let withCursor = try cache.document(for: Page(items: Self.items, nextCursor: "x"), key: { $0.id }, version: { _ in nil })
        #expect(withCursor.contentHash != tag)
        let fewer = try cache.document(for: Page(items: Array(Self.items.prefix(2)), nextCursor: nil), key: { $0.id }, version: { _ in nil })
        #expect(fewer.contentHash != tag)
        // The detail read of an item shares its cached bytes.
        #expect(try cache.document(for: "b", view: Self.items[1], version: 4).body == (try JSONCoding.encode(Self.items[1])))
    }
}
