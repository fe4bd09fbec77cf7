import CQRS

/// Keeps the encoded JSON of recently served read-model documents, so a read of an
/// unchanged document costs an equality check instead of a JSON encoding and a hash.
///
/// Keyed by document id; an entry is reused only while the view it was encoded from is
/// equal to the current one, so it can never serve stale bytes. Bounded: when full, one
/// arbitrary entry is dropped per insert. Loop-confined.
final class DocumentCache<View: Encodable & Equatable> {
    private struct Entry {
        var view: View
        var document: QueryEndpoint.Document
    }

    private var entries: [String: Entry] = [:]
    let capacity: Int

    init(capacity: Int = 20_000) { self.capacity = capacity }

    func document(for key: String, view: View, version: Int64?) throws -> QueryEndpoint.Document {
        if let entry = entries[key], entry.view == view { return entry.document }
        let document = try QueryEndpoint.Document.json(view, version: version)
        if entries.count >= capacity, entries[key] == nil, let victim = entries.keys.first {
            entries.removeValue(forKey: victim)
        }
        entries[key] = Entry(view: view, document: document)
        return document
    }

    var count: Int { entries.count }
}
