import Foundation
import EventStore

/// What a service needs from a full scan of its own store before it may take commands: the
/// idempotency index and its consumer's watermark. As a projection (every event, `$` streams
/// included) it gets snapshots like the read models, so a start scans only the events after
/// the snapshot instead of the whole store.
///
/// Use: run it with a `ProjectionRunner` (`deliversInternalEvents`, snapshots on), call the
/// runner's `prepareSynchronously()` (snapshot + the events after it, before serving), take
/// `copyKeys(into:)` for the handler and `watermark` for the consumer, then `start()` the runner so
/// it keeps following the store for the next snapshot.
public final class StartupScanProjection: Projection {
    public let name: String
    /// Metadata property holding the consumer's watermark (`Consumer.watermarkProperty(_:)`).
    public let watermarkProperty: String
    /// Keys seen (retention and clock as the handler's index).
    public let index: IdempotencyIndex
    /// The highest watermark found under `watermarkProperty` (see `Consumer.watermark(in:name:)`).
    public private(set) var watermark: LogPosition = .start
    public var snapshotSchemaVersion: Int { 1 }

    public init(name: String, watermarkProperty: String, clock: @escaping () -> Date = Date.init) {
        self.name = name
        self.watermarkProperty = watermarkProperty
        index = IdempotencyIndex(clock: clock)
    }

    public func apply(_ event: RecordedEvent) throws {
        let properties = event.metadata.properties   // decoded once (see RecordedEvent.metadata)
        index.observe(event, properties: properties)
        if let w = properties[watermarkProperty].flatMap(UInt64.init),
           w > watermark.value {
            watermark = LogPosition(w)
        }
    }

    /// Copies the scanned keys into `target`: the command handler's own index (made before the
    /// scan; it takes no commands until the scan is done), which then records live commands
    /// while this one keeps following the store.
    public func copyKeys(into target: IdempotencyIndex) {
        target.entries = index.entries
    }

    public func captureSnapshot() throws -> SnapshotEncoding? {
        let entries = index.entries, watermark = self.watermark
        return SnapshotWriter.encoding(capacity: entries.count * 128) { w in
            w.write(watermark.value)
            w.writeCount(entries.count)
            for (key, e) in entries {
                w.write(key); w.write(e.fingerprint); w.write(e.stream.value)
                w.write(e.firstVersion != nil); w.write(e.firstVersion?.value ?? 0)
                w.write(e.eventCount)
                w.write(e.version != nil); w.write(e.version?.value ?? 0)
                w.write(e.position.value); w.write(e.handledAt.timeIntervalSince1970.bitPattern)
            }
        }
    }

    public func restore(from bytes: [UInt8]) throws {
        let (watermark, entries) = try SnapshotReader.readAll(bytes) { r in
            let watermark = LogPosition(try r.readUInt64())
            let n = try r.readCount()
            var entries = [String: IdempotencyIndex.Entry](minimumCapacity: n)
            for _ in 0..<n {
                let key = try r.readString(), fingerprint = try r.readString(), stream = StreamName(try r.readString())
                let hasFirst = try r.readBool(), first = try r.readInt64()
                let count = try r.readInt()
                let hasVersion = try r.readBool(), version = try r.readInt64()
                let position = LogPosition(try r.readUInt64())
                let handledAt = Date(timeIntervalSince1970: Double(bitPattern: try r.readUInt64()))
                entries[key] = IdempotencyIndex.Entry(fingerprint: fingerprint, stream: stream,
                                                      firstVersion: hasFirst ? StreamVersion(first) : nil, eventCount: count,
                                                      version: hasVersion ? StreamVersion(version) : nil, position: position,
                                                      handledAt: handledAt)
            }
            return (watermark, entries)
        }
        index.entries = entries
        self.watermark = watermark
    }
}
