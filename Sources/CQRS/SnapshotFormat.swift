import EventStore

/// The runtime's snapshot envelope: a one-line ASCII header then the state bytes.
///
/// `tributary-snapshot 1 <stateSchemaVersion> <position>\n<state bytes>`. The header's format
/// version (1) and the owner's `stateSchemaVersion` let a loader ignore snapshots it cannot
/// read (they are an optimisation: replaying events is always correct). `position` is the
/// global position of the last event the state reflects.
enum SnapshotFormat {
    static let magic = "tributary-snapshot 1"

    static func encode(schemaVersion: Int, position: LogPosition, state: [UInt8]) -> [UInt8] {
        Array("\(magic) \(schemaVersion) \(position.value)\n".utf8) + state
    }

    /// The state bytes and position if the header matches `schemaVersion`, else nil.
    static func decode(_ bytes: [UInt8], schemaVersion: Int) -> (position: LogPosition, state: [UInt8])? {
        guard let nl = bytes.firstIndex(of: 0x0A), nl < 128 else { return nil }
        let header = String(decoding: bytes[..<nl], as: UTF8.self)
        guard header.hasPrefix(magic + " ") else { return nil }
        let fields = header.dropFirst(magic.count + 1).split(separator: " ")
        guard fields.count == 2, let v = Int(fields[0]), v == schemaVersion, let p = UInt64(fields[1]) else { return nil }
        return (LogPosition(p), Array(bytes[(nl + 1)...]))
    }
}
