import Testing
@testable import CQRS

/// `traceparent` values are read strictly (W3C Trace Context, version 00) and a malformed one
/// is refused, not repaired; a child span keeps the trace and flags with a new span id.
@Suite struct TraceParentTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func readsAVersion00Value() throws {
        let t = try #require(TraceParent(Self.valid))
        #expect(t.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(t.spanID == "00f067aa0ba902b7")
        #expect(t.flags == "01")
        #expect(t.description == Self.valid)
    }

    @Test(arguments: [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",       // short flags
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",      // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",      // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",      // zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // version 00 has no more fields
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",      // not hex
    ])
    func refusesMalformedValues(_ text: String) {
        #expect(TraceParent(text) == nil)
    }

    @Test func readsALaterVersionByItsFirstFields() throws {
        let t = try #require(TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-something"))
        #expect(t.description == Self.valid)
    }

    @Test func aChildKeepsTraceAndFlagsWithANewSpan() throws {
        let parent = try #require(TraceParent(Self.valid))
        let children = (0..<50).map { _ in parent.child() }
        for child in children {
            #expect(child.traceID == parent.traceID && child.flags == parent.flags)
            #expect(child.spanID != parent.spanID && child.spanID.utf8.count == 16)
            #expect(TraceParent(child.description) == child)
        }
        #expect(Set(children.map(\.spanID)).count == children.count)
    }
}
