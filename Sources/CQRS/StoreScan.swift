import EventStore

/// One pass over a whole store, in position order, for startup: feed every event to the
/// `IdempotencyIndex.observe`, `Consumer.watermark(in:name:)` and anything else that needs a
/// full scan, instead of scanning once per component.
public enum StoreScan {
    /// Calls `body` for each event after `from`, reading `chunk` events at a time.
    /// Returns the number of events scanned.
    @discardableResult
    public static func forEach(in store: EventStore, from: LogPosition = .start, chunk: Int = 4096,
                               _ body: (RecordedEvent) throws -> Void) throws -> Int {
        var cursor = from
        var scanned = 0
        while true {
            let batch = try store.readAll(from: cursor, maxCount: chunk, filter: nil)
            guard let last = batch.last else { return scanned }
            for e in batch { try body(e) }
            scanned += batch.count
            cursor = last.position
        }
    }
}
