import Foundation
import Testing
import TributaryTesting
@testable import EventStore

/// Segment file bytes, for tests that damage the log on purpose.
func segmentBytes(_ dir: String, _ n: Int = 0) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: dir + "/" + SegmentFile.name(n))!)
}

func writeSegment(_ dir: String, _ n: Int = 0, _ bytes: [UInt8]) {
    try! Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + SegmentFile.name(n)))
}

func copyDirectory(_ from: String, _ to: String) {
    try? FileManager.default.removeItem(atPath: to)
    try! FileManager.default.copyItem(atPath: from, toPath: to)
}

/// Opens, runs `body`, closes.
@discardableResult
func withFileStore<T>(_ dir: String, _ options: FileEventStoreOptions = fileOptions(), _ body: (FileEventStore) async throws -> T) async throws -> T {
    let store = try FileEventStore(directory: dir, options: options)
    defer { store.close() }
    return try await body(store)
}

/// Record (offset, length) of every event in segment 0, read from a store's index.
func recordLocations(_ dir: String) async throws -> [(offset: Int, length: Int)] {
    try await withFileStore(dir) { store async throws in snapshotLocations(store) }
}

func snapshotLocations(_ store: FileEventStore) -> [(offset: Int, length: Int)] {
    store.stateLock.lock(); defer { store.stateLock.unlock() }
    return zip(store.locations, store.lengths).map { (Int(RecordLocation.offset($0)), Int($1)) }
}

/// A pass-through `FileIO` whose log fdatasync can be held closed, to observe group commit
/// and durability deterministically.
final class GatedFileIO: FileIO, @unchecked Sendable {
    let base = SystemFileIO()
    private let lock = NSLock()
    private var paths: [Int32: String] = [:]
    private var gate: DispatchSemaphore?
    /// Signalled each time a log fdatasync starts waiting at the gate.
    let arrived = DispatchSemaphore(value: 0)

    func hold() { lock.lock(); gate = DispatchSemaphore(value: 0); lock.unlock() }
    func release() {
        lock.lock(); let g = gate; gate = nil; lock.unlock()
        for _ in 0..<64 { g?.signal() }  // every sync waiting at the gate
    }

    func open(_ path: String, flags: Int32, mode: UInt32) throws -> Int32 {
        let fd = try base.open(path, flags: flags, mode: mode)
        lock.lock(); paths[fd] = path; lock.unlock()
        return fd
    }
    func pwrite(_ fd: Int32, _ bytes: [UInt8], offset: Int64) throws { try base.pwrite(fd, bytes, offset: offset) }
    func pread(_ fd: Int32, into buffer: inout [UInt8], count: Int, offset: Int64) throws -> Int {
        try base.pread(fd, into: &buffer, count: count, offset: offset)
    }
    func fdatasync(_ fd: Int32) throws {
        lock.lock()
        let g = (paths[fd]?.hasSuffix(".seg") ?? false) ? gate : nil
        lock.unlock()
        if let g {
            arrived.signal()
            g.wait()
        }
        try base.fdatasync(fd)
    }
    func fsync(_ fd: Int32) throws { try base.fsync(fd) }
    func ftruncate(_ fd: Int32, length: Int64) throws { try base.ftruncate(fd, length: length) }
    func fileSize(_ fd: Int32) throws -> Int64 { try base.fileSize(fd) }
    func close(_ fd: Int32) { lock.lock(); paths[fd] = nil; lock.unlock(); base.close(fd) }
    func rename(_ from: String, _ to: String) throws { try base.rename(from, to) }
    func unlink(_ path: String) throws { try base.unlink(path) }
    func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    func makeDirectory(_ path: String) throws { try base.makeDirectory(path) }
    func lockExclusive(_ fd: Int32) throws { try base.lockExclusive(fd) }
}
