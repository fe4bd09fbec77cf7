import CQRS

/// The answers a query route rendered, kept while the read models they came from stand still:
/// a repeated read of an unchanged page, document or history costs a lookup, not a render.
/// (The public log's pages use it too, stamped with the log's head.)
///
/// An answer is keyed by what the request asked (the entity id and every argument but
/// `minPosition`, which only says how long to wait) and stamped with the service's
/// `generation` when it was rendered; it is served only while the generation is the same, so
/// it can never be older than what a fresh render would show. Bounded by bytes: past the
/// budget, entries are dropped (arbitrary ones first) until it fits. Loop-confined.
final class QueryMemo {
    private struct Entry {
        var generation: UInt64
        var document: QueryDocument
        /// Valid at any generation: an answer nothing can change (a full page of an append-only log).
        var final: Bool
    }

    private var entries: [String: Entry] = [:]
    private var bytes = 0
    /// The most body bytes kept at once.
    let budget: Int
    /// The largest answer kept: a bigger one would push out many small ones.
    let largest: Int

    init(budget: Int = 8 << 20, largest: Int = 1 << 20) {
        self.budget = budget
        self.largest = largest
    }

    /// The key of `request`: its id and its arguments in order, `minPosition` left out.
    static func key(_ request: QueryRequest) -> String {
        var key = request.id ?? ""
        key.append("?")
        for pair in request.arguments.pairs where pair.name != "minPosition" {
            key.append(pair.name)
            key.append("=")
            key.append(pair.value)
            key.append("&")
        }
        return key
    }

    /// The answer kept for `key` if it was rendered at `generation` (or is final).
    func document(for key: String, generation: UInt64) -> QueryDocument? {
        guard let entry = entries[key], entry.final || entry.generation == generation else { return nil }
        return entry.document
    }

    /// Keeps `document`, rendered at `generation`, for `key`; a `final` one for good.
    func keep(_ document: QueryDocument, for key: String, generation: UInt64, final: Bool = false) {
        guard document.body.count <= largest else { return }
        if let old = entries.removeValue(forKey: key) { bytes -= old.document.body.count }
        while bytes + document.body.count > budget, let victim = entries.first {
            entries.removeValue(forKey: victim.key)
            bytes -= victim.value.document.body.count
        }
        entries[key] = Entry(generation: generation, document: document, final: final)
        bytes += document.body.count
    }

    var count: Int { entries.count }
    var byteCount: Int { bytes }
}
