import Testing
@testable import UV
@Test func placeholderUV() { #expect(Bool(true)) }
