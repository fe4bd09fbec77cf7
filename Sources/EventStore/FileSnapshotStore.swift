import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Snapshots of the file engine: one file per stream under `snapshots/`, named by the SHA-256
/// of the stream name (any name is a safe file name that way), replaced atomically
/// (temp file, fdatasync, rename, directory fsync). A damaged file reads as "no snapshot".
///
/// Which snapshots exist is kept in memory (the directory is listed once, at open, and every
/// save adds its file), so a stream that never had one costs no lookup on disk.
///
/// File: "TRIBSNP1", u32 nameLength, name, i64 version, u32 dataLength, data, u32 CRC-32C.
final class FileSnapshotStore: @unchecked Sendable {
    let directory: String
    let io: FileIO
    static let magic: [UInt8] = Array("TRIBSNP1".utf8)
    private let lock = NSLock()
    /// Names of the snapshot files present.
    private var present: Set<String>

    /// Lists the existing snapshots of `directory` (which must exist).
    init(directory: String, io: FileIO) throws {
        self.directory = directory
        self.io = io
        present = Set(try io.listDirectory(directory).filter { $0.hasSuffix(".snap") })
    }

    private func fileName(_ stream: StreamName) -> String {
        SHA256.hash(Array(stream.value.utf8)).hexString + ".snap"
    }

    private func path(_ stream: StreamName) -> String { directory + "/" + fileName(stream) }

    /// Whether a snapshot file of `stream` exists (from memory).
    func mayHave(_ stream: StreamName) -> Bool {
        let name = fileName(stream)
        lock.lock(); defer { lock.unlock() }
        return present.contains(name)
    }

    /// Bytes of a snapshot written and flushed at a time.
    static let flushPiece = 1 << 20

    func save(_ stream: StreamName, version: StreamVersion, data: [UInt8]) throws {
        var b = FileSnapshotStore.magic
        RecordFormat.put32(&b, UInt32(stream.value.utf8.count))
        b.append(contentsOf: stream.value.utf8)
        RecordFormat.put64(&b, UInt64(bitPattern: version.value))
        RecordFormat.put32(&b, UInt32(data.count))
        b.append(contentsOf: data)
        RecordFormat.put32(&b, CRC32C.checksum(b))
        let final = path(stream)
        let tmp = final + ".tmp-" + EventID().description  // concurrent saves never share a temp file
        let fd = try io.open(tmp, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        do {
            // A piece at a time, each flushed before the next is written: one flush of a whole
            // large snapshot (18 MB for 150,000 customers) kept the device busy for 100-200 ms,
            // and the log's own flushes, which every acknowledgement waits for, queued behind it
            // (bench/REPORT.md, the open model).
            var offset = 0
            repeat {
                let end = min(b.count, offset + Self.flushPiece)
                try io.pwrite(fd, offset == 0 && end == b.count ? b : Array(b[offset..<end]), offset: Int64(offset))
                try io.fdatasync(fd)
                offset = end
            } while offset < b.count
        } catch {
            io.close(fd)
            try? io.unlink(tmp)
            throw error
        }
        io.close(fd)
        try io.rename(tmp, final)
        lock.lock()
        present.insert(fileName(stream))
        lock.unlock()
        let dfd = try io.open(directory, flags: O_RDONLY, mode: 0)
        defer { io.close(dfd) }
        try io.fsync(dfd)
    }

    func load(_ stream: StreamName) throws -> Snapshot? {
        guard mayHave(stream) else { return nil }
        let fd: Int32
        do { fd = try io.open(path(stream), flags: O_RDONLY, mode: 0) } catch EventStoreError.io(let code, _) where code == ENOENT { return nil }
        defer { io.close(fd) }
        let size = Int(try io.fileSize(fd))
        guard size >= 28 else { return nil }
        var b = [UInt8](repeating: 0, count: size)
        guard try io.pread(fd, into: &b, count: size, offset: 0) == size else { return nil }
        guard Array(b[0..<8]) == FileSnapshotStore.magic,
              CRC32C.checksum(b, range: 0..<(size - 4)) == RecordFormat.u32(b, size - 4) else { return nil }
        let nameLength = Int(RecordFormat.u32(b, 8))
        guard 12 + nameLength + 12 + 4 <= size, RecordFormat.string(b, 12..<(12 + nameLength)) == stream.value else { return nil }
        var i = 12 + nameLength
        let version = Int64(bitPattern: RecordFormat.u64(b, i)); i += 8
        let n = Int(RecordFormat.u32(b, i)); i += 4
        guard i + n + 4 == size else { return nil }
        return Snapshot(version: StreamVersion(version), data: Array(b[i..<(i + n)]))
    }
}
