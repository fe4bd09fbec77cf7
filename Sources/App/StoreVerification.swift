import API
import EventStore
import Foundation
import PostgresStore

/// `tributary verify`: checks every store (on files: every record's CRC and the SHA-256 chain;
/// on PostgreSQL: every row's CRC and digest, the chain, the head and the streams table) and
/// prints one line per store.
public enum StoreVerification {
    /// Returns true when every store is intact. A torn final record (what a crash mid-write
    /// leaves, and what the next start truncates) is reported but is not a failure.
    public static func run(dataDirectory: String, postgres: String? = nil, storeLocations: [String: StoreLocation] = [:]) throws -> Bool {
        let locations = StoreSet.locations(dataDirectory: dataDirectory, postgres: postgres, overrides: storeLocations)
        let onFiles = locations.contains { if case .directory = $0.1 { return true } else { return false } }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if onFiles, postgres == nil, storeLocations.isEmpty,
           !(fm.fileExists(atPath: dataDirectory, isDirectory: &isDir) && isDir.boolValue) {
            throw ConfigurationError("no data directory at '\(dataDirectory)'")
        }
        var ok = true
        var checked = 0
        for (name, location) in locations {
            let report: VerifyReport
            switch location {
            case .directory(let dir):
                guard fm.fileExists(atPath: dir) else { continue }
                report = try EventStoreVerifier.verify(directory: dir)
            case .postgres(let url):
                report = try PostgresVerifier.verify(url: url, schema: StoreSet.schemaName(name))
            }
            checked += 1
            print("\(name): \(report)")
            if !report.isIntact && !report.tornTailOnly { ok = false }
        }
        if checked == 0 { throw ConfigurationError("no store found under '\(dataDirectory)' (expected \(StoreSet.names.joined(separator: ", ")))") }
        return ok
    }
}
