import CQRS

/// The answers a query route rendered, kept while the read models they came from stand still:
/// a repeated read of an unchanged page, document or history costs a lookup, not a render.
/// (The public log's pages use it too, stamped with the log's head.)
///
/// An answer is keyed by what the request asked (`QueryRequest.memoKey`: the entity id and
/// every argument but `minPosition`, which only says how long to wait) and stamped with the
/// service's `generation` when it was rendered; it is served only while the generation is the
/// same, so it can never be older than what a fresh render would show. Bounded by bytes: past
/// the budget, entries are dropped (arbitrary ones first) until it fits. Loop-confined.
final class QueryMemo<Answer> {
    private struct Entry {
        var generation: UInt64
        var answer: Answer
        var size: Int
        /// Valid at any generation: an answer nothing can change (a full page of an append-only log).
        var final: Bool
    }

    private var entries: [String: Entry] = [:]
    private var bytes = 0
    /// The most body bytes kept at once.
    let budget: Int
    /// The largest answer kept: a bigger one would push out many small ones.
    let largest: Int
    /// An answer's body bytes.
    let size: (Answer) -> Int

    init(budget: Int = 8 << 20, largest: Int = 1 << 20, size: @escaping (Answer) -> Int) {
        self.budget = budget
        self.largest = largest
        self.size = size
    }

    /// The answer kept for `key` if it was rendered at `generation` (or is final).
    func answer(for key: String, generation: UInt64) -> Answer? {
        guard let entry = entries[key], entry.final || entry.generation == generation else { return nil }
        return entry.answer
    }

    /// Keeps `answer`, rendered at `generation`, for `key`; a `final` one for good.
    func keep(_ answer: Answer, for key: String, generation: UInt64, final: Bool = false) {
        let size = size(answer)
        guard size <= largest else { return }
        if let old = entries.removeValue(forKey: key) { bytes -= old.size }
        while bytes + size > budget, let victim = entries.first {
            entries.removeValue(forKey: victim.key)
            bytes -= victim.value.size
        }
        entries[key] = Entry(generation: generation, answer: answer, size: size, final: final)
        bytes += size
    }

    var count: Int { entries.count }
    var byteCount: Int { bytes }
}

extension QueryRequest {
    /// What the request asks, as a memo key: its id and its arguments in order, `minPosition`
    /// left out.
    var memoKey: String {
        var key = id ?? ""
        key.append("?")
        for pair in arguments.pairs where pair.name != "minPosition" {
            key.append(pair.name)
            key.append("=")
            key.append(pair.value)
            key.append("&")
        }
        return key
    }
}
