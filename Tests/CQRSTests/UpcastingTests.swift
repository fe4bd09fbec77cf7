import Testing
import TributaryTesting
import Foundation
import EventStore
@testable import CQRS

/// Stored v1 events are upcast on every read; the stored bytes stay as written.
@Suite struct UpcastingTests {
    let v1 = json(#"{"owner":"Ada Lovelace"}"#)

    @Test func handlerLoadsV1EventsAsV2State() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        _ = try rawAppend(store, "account-1", [NewEvent(type: "AccountOpened", schemaVersion: 1, data: v1),
                                               NewEvent(type: "Deposited", data: json(#"{"amount":3}"#))])
        let handler = try CommandHandler(decider: account, store: store)
        let outcome = try await handler.send(.deposit(4), on: "account-1", loop: loop).get()
        #expect(outcome.version == StreamVersion(2))
        let state = try handler.state(of: "account-1").state
        #expect(state.given == "Ada" && state.family == "Lovelace" && state.balance == 7)
        // Original bytes untouched; history shows the upcast form.
        let stored = try store.readStream("account-1")[0]
        #expect(stored.schemaVersion == 1 && stored.data == v1)
        let history = try handler.history(of: "account-1")
        #expect(history[0].recorded.schemaVersion == 2)
        #expect(history[0].event == .opened(given: "Ada", family: "Lovelace"))
        // New events are written at the current version.
        _ = try await handler.send(.open(given: "X", family: "Y"), on: "account-2", loop: loop).get()
        #expect(try store.readStream("account-2")[0].schemaVersion == 2)
    }

    @Test func chainAppliesEveryStepInOrder() throws {
        var chain = UpcasterChain()
        chain.registerObject(type: "T", from: 1) { $0["b"] = ($0["a"] as? Int ?? 0) + 1 }
        chain.registerObject(type: "T", from: 2) { $0["c"] = ($0["b"] as? Int ?? 0) * 10; $0["a"] = nil }
        let up = try chain.upcast(type: "T", version: 1, data: json(#"{"a":1}"#))
        #expect(up.version == 3)
        #expect(String(decoding: up.data, as: UTF8.self) == #"{"b":2,"c":20}"#)
        #expect(chain.currentVersion(of: "T") == 3)
        // Already current, or another type: untouched.
        #expect(try chain.upcast(type: "T", version: 3, data: json("{}")).data == json("{}"))
        #expect(try chain.upcast(type: "U", version: 1, data: json("[]")).version == 1)
    }

    @Test func failingStepNamesTypeAndVersion() {
        var chain = UpcasterChain()
        chain.registerObject(type: "T", from: 1) { _ in }
        #expect(throws: UpcastError.self) { try chain.upcast(type: "T", version: 1, data: json("[1]")) }
    }

    @Test func undecodableEventIsReportedAsCorruptState() async throws {
        let loop = TestLoop()
        let store = loop.makeStore()
        _ = try rawAppend(store, "account-1", [NewEvent(type: "Mystery", data: json("{}"))])
        let handler = try CommandHandler(decider: account, store: store)
        let r = await handler.send(.deposit(1), on: "account-1", loop: loop)
        guard case .failure(.corruptState(let stream, _)) = r else { Issue.record("got \(r)"); return }
        #expect(stream == "account-1")
    }
}

@Suite("RFC 3339 parsing (by hand, no time-zone files)")
struct RFC3339ParsingTests {
    @Test("agrees with Foundation's ISO 8601 formatter on valid and invalid texts")
    func agreesWithFoundation() {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // (Foundation keeps milliseconds, and its calendar is not proleptic Gregorian before 1582.)
        let texts = ["2026-11-26T16:00:00Z", "2026-11-26T16:00:00.123Z", "2026-11-26T16:00:00+02:00", "2026-11-26T16:00:00-05:30",
                     "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "1999-12-31T23:59:59.999999+14:00", "1600-03-01T00:00:00Z",
                     "9999-12-31T23:59:59Z"]
        let millis = { (d: Date?) in d.map { ($0.timeIntervalSince1970 * 1000).rounded(.down) } }
        for t in texts {
            let expected = plain.date(from: t) ?? fractional.date(from: t)
            #expect(expected != nil, "\(t)")
            #expect(millis(RFC3339.parse(t)) == millis(expected), "\(t)")
        }
        // RFC 3339 allows "t" and "z" in lower case (Foundation does not).
        #expect(RFC3339.parse("2026-11-26t16:00:00z") == RFC3339.parse("2026-11-26T16:00:00Z"))
        for bad in ["", "2026-11-26", "2026-11-26T16:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-26T24:00:00Z",
                    "2026-11-26T16:00:00.Z", "2026-11-26 16:00:00Z", "2026-11-26T16:00:00+0200", "x2026-11-26T16:00:00Z", "2026-11-26T16:00:00Zjunk"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
        #expect(RFC3339.parse("2026-11-26T16:25:47.123Z").map { RFC3339.format($0) } == "2026-11-26T16:25:47.123Z")
    }
}
