import EventStore

/// The envelope of a read-model snapshot: a one-line ASCII header then the state bytes.
///
/// `tributary-projection-snapshot 1 <stateSchemaVersion> <position> <anchor>\n<state bytes>`.
/// `position` is the global position of the last event the state reflects and `anchor`
/// identifies that event (`ProjectionSnapshotFormat.anchor(of:)`: its id and commit time). On
/// load the runner checks that the store still holds that very event at that position, so a
/// snapshot taken before a crash that cost the store its tail (durability `none`/`batch`) —
/// even if the log has grown past it again since — is never trusted.
enum ProjectionSnapshotFormat {
    static let magic = "tributary-projection-snapshot 1"

    /// What identifies an event across a crash: positions are reused after a truncated tail,
    /// ids of public events are deterministic, but a commit time (µs) is not repeated.
    static func anchor(of event: RecordedEvent) -> String {
        let micros = Int64((event.timestamp.timeIntervalSince1970 * 1_000_000).rounded())
        return "\(event.id)@\(micros)"
    }

    static func encode(schemaVersion: Int, position: LogPosition, anchor: String, state: [UInt8]) -> [UInt8] {
        var bytes = Array("\(magic) \(schemaVersion) \(position.value) \(anchor)\n".utf8)
        bytes.reserveCapacity(bytes.count + state.count)
        bytes.append(contentsOf: state)
        return bytes
    }

    enum Decoded {
        case snapshot(position: LogPosition, anchor: String, state: ArraySlice<UInt8>)
        /// Readable header of another state schema version.
        case otherSchema(Int)
        /// Not this envelope (an older format, or damaged).
        case unreadable
    }

    static func decode(_ bytes: [UInt8], schemaVersion: Int) -> Decoded {
        guard let nl = bytes.prefix(256).firstIndex(of: 0x0A) else { return .unreadable }
        let header = String(decoding: bytes[..<nl], as: UTF8.self)
        guard header.hasPrefix(magic + " ") else { return .unreadable }
        let fields = header.dropFirst(magic.count + 1).split(separator: " ")
        guard fields.count == 3, let v = Int(fields[0]), let p = UInt64(fields[1]) else { return .unreadable }
        guard v == schemaVersion else { return .otherSchema(v) }
        return .snapshot(position: LogPosition(p), anchor: String(fields[2]), state: bytes[(nl + 1)...])
    }
}
