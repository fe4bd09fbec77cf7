import Foundation
import Testing
import EventStore
@testable import App

@Suite struct StoreSetTests {
    private func tempDirectory() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-stores-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("the three stores open in parallel, each in its own subdirectory")
    func opensEveryStore() throws {
        let dir = tempDirectory(); defer { try? FileManager.default.removeItem(atPath: dir) }
        let set = try StoreSet(dataDirectory: dir, durability: .none, executor: InlineExecutor())
        #expect(set.stores.map(\.name) == StoreSet.names)
        for name in StoreSet.names {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue)
        }
        set.close()
    }

    @Test("when one store cannot open, the others are closed again (their locks released) and the error is thrown")
    func oneFailureClosesTheOthers() throws {
        let dir = tempDirectory(); defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(FileManager.default.createFile(atPath: dir + "/orders", contents: Data("not a directory".utf8)))
        #expect(throws: (any Error).self) { _ = try StoreSet(dataDirectory: dir, durability: .none, executor: InlineExecutor()) }
        try FileManager.default.removeItem(atPath: dir + "/orders")
        // Had `customers` or `public` stayed open, their directory locks would refuse this.
        let set = try StoreSet(dataDirectory: dir, durability: .none, executor: InlineExecutor())
        set.close()
    }
}
