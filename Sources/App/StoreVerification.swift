import API
import EventStore
import Foundation

/// `tributary verify`: checks every store under a data directory (CRC of every record and
/// the SHA-256 chain) and prints one line per store.
public enum StoreVerification {
    /// Returns true when every store is intact. A torn final record (what a crash mid-write
    /// leaves, and what the next start truncates) is reported but is not a failure.
    public static func run(dataDirectory: String) throws -> Bool {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dataDirectory, isDirectory: &isDir), isDir.boolValue else {
            throw ConfigurationError("no data directory at '\(dataDirectory)'")
        }
        var ok = true
        var checked = 0
        for name in StoreSet.names {
            let dir = (dataDirectory as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: dir) else { continue }
            let report = try EventStoreVerifier.verify(directory: dir)
            checked += 1
            print("\(name): \(report)")
            if !report.isIntact && !report.tornTailOnly { ok = false }
        }
        if checked == 0 { throw ConfigurationError("no store found under '\(dataDirectory)' (expected \(StoreSet.names.joined(separator: ", ")))") }
        return ok
    }
}
