import Testing
import Foundation
import CQRS
@testable import Customers

/// v1 → v2 upcasting of `CustomerRegistered` / `CustomerRenamed` (name → given/family).
@Suite struct NameUpcastingTests {
    @Test(arguments: [("Ada Lovelace", "Ada", "Lovelace"), ("Ada King Lovelace", "Ada King", "Lovelace"), ("Plato", "Plato", ""),
                      ("  Grace   Hopper ", "Grace", "Hopper"), ("", "", "")])
    func splitsAtTheLastSpace(_ name: String, _ given: String, _ family: String) {
        let parts = PersonName.split(name)
        #expect(parts.given == given)
        #expect(parts.family == family)
    }

    @Test(arguments: [("Ada", "Lovelace"), ("", "Lovelace"), ("Ada", ""), ("", ""), (" Ada", "Lovelace "), ("Ada\t", " "),
                      ("\u{00A0}Ada", "Lovelace"), ("Ada King", "Lovelace"), ("Zoë", "Ångström\u{2003}"), ("Ada\n", "\rKing"),
                      ("\u{000B}Ada", "Lovelace\u{000C}")])
    func displayIsTheTrimmedJoin(_ given: String, _ family: String) {
        #expect(PersonName.display(given: given, family: family) == (given + " " + family).trimmingCharacters(in: .whitespaces))
    }

    @Test func registeredV1BecomesV2() throws {
        let v1 = Array(#"{"creditLimit":100,"currency":"EUR","customerId":"c1","email":"a@b.co","name":"Ada King Lovelace"}"#.utf8)
        let up = try CustomerUpcasters.chain.upcast(type: "CustomerRegistered", version: 1, data: v1)
        #expect(up.version == 2)
        let e = try CustomerEvent.decode(EncodedEvent(type: "CustomerRegistered", schemaVersion: up.version, data: up.data))
        #expect(e == registered("c1", given: "Ada King", family: "Lovelace", email: "a@b.co", limit: 100))
    }

    @Test func renamedV1BecomesV2() throws {
        let up = try CustomerUpcasters.chain.upcast(type: "CustomerRenamed", version: 1, data: Array(#"{"name":"Plato"}"#.utf8))
        let e = try CustomerEvent.decode(EncodedEvent(type: "CustomerRenamed", schemaVersion: up.version, data: up.data))
        #expect(e == .renamed(CustomerRenamed(givenName: "Plato", familyName: "")))
    }

    @Test func currentVersionsAreUntouched() throws {
        let enc = try registered().encoded()
        #expect(enc.schemaVersion == 2)
        let up = try CustomerUpcasters.chain.upcast(type: enc.type, version: enc.schemaVersion, data: enc.data)
        #expect(up.data == enc.data)
    }

    @Test func aV1EventWithoutNameFailsLoudly() {
        #expect(throws: UpcastError.self) {
            try CustomerUpcasters.chain.upcast(type: "CustomerRenamed", version: 1, data: Array("{}".utf8))
        }
    }
}
