import Foundation
import Testing
import TributaryTesting
import CQRS
import PublicEvents
@testable import Orders
import JSON

/// The hand-written readers of this service (its internal order events, the customer public
/// events it consumes) decode exactly what the types' `Decodable` conformances decode, and
/// leave anything else to Foundation.
@Suite struct EventCodingTests {
    static let awkward = "é \"q\" \\ / \u{1}\u{7F} 😀 \u{2028}"
    static let seeds = 0..<8

    static func lines(_ n: Int, _ seed: Int) -> [OrderLine] {
        (0..<n).map { OrderLine(sku: $0 == 1 ? awkward : "SKU-\(seed)-\($0)", quantity: $0 * 7 - 3 + seed, unitPrice: Int64.max - Int64($0 * seed)) }
    }
    static func id(_ seed: Int) -> String { seed % 3 == 0 ? awkward : "o-\(seed)" }

    static func check<T: Codable & Equatable>(_ read: (JSONObjectReader) throws -> T, _ sample: (Int) -> T) {
        let problems = JSONReaderCheck.disagreements(read, samples: seeds.map(sample))
        #expect(problems.isEmpty, "\(T.self): \(problems.prefix(3))")
    }

    @Test func orderEventReadersAgreeWithTheirConformances() {
        Self.check(OrderLine.init(json:)) { Self.lines(3, $0)[$0 % 3] }
        Self.check(OrderPlaced.init(json:)) {
            OrderPlaced(orderId: Self.id($0), customerId: "c-\($0)", currency: "EUR", lines: Self.lines($0 % 5, $0), total: Int64($0) - 50)
        }
        Self.check(LineAdded.init(json:)) {
            LineAdded(orderId: Self.id($0), customerId: "c", currency: "USD", line: Self.lines(2, $0)[1], lines: Self.lines($0 % 4, $0), total: .min)
        }
        Self.check(LineRemoved.init(json:)) {
            LineRemoved(orderId: Self.id($0), customerId: "c", currency: "JPY", sku: Self.awkward, lines: Self.lines($0 % 3, $0), total: 0)
        }
        Self.check(OrderApproved.init(json:)) { OrderApproved(orderId: Self.id($0), customerId: "c", total: Int64($0), currency: "EUR") }
        Self.check(OrderRejected.init(json:)) { OrderRejected(orderId: Self.id($0), customerId: "c", reason: Self.awkward) }
        Self.check(OrderCancelled.init(json:)) { OrderCancelled(orderId: Self.id($0), customerId: "c", reason: "", total: -1, currency: "EUR") }
        Self.check(OrderShipped.init(json:)) { OrderShipped(orderId: Self.id($0), customerId: "c", total: 12, currency: "GBP") }
    }

    @Test func theCodecDecodesWhatItWrites() throws {
        for seed in Self.seeds {
            let ls = Self.lines(seed % 5, seed)
            let events: [OrderEvent] = [
                .placed(OrderPlaced(orderId: Self.id(seed), customerId: "c", currency: "EUR", lines: ls, total: 1)),
                .lineAdded(LineAdded(orderId: "o", customerId: "c", currency: "EUR", line: Self.lines(2, seed)[1], lines: ls, total: 2)),
                .lineRemoved(LineRemoved(orderId: "o", customerId: "c", currency: "EUR", sku: "x", lines: ls, total: 3)),
                .approved(OrderApproved(orderId: "o", customerId: "c", total: 4, currency: "EUR")),
                .rejected(OrderRejected(orderId: "o", customerId: "c", reason: "r")),
                .cancelled(OrderCancelled(orderId: "o", customerId: "c", reason: "r", total: 5, currency: "EUR")),
                .shipped(OrderShipped(orderId: "o", customerId: "c", total: 6, currency: "EUR")),
            ]
            for event in events {
                let encoded = try OrderEventCodec.encode(event)
                #expect(try OrderEventCodec.decode(type: encoded.type, data: encoded.data) == event)
            }
        }
    }

    @Test func readersGiveUpWhereTheConformanceWouldFailOrDiffer() throws {
        for text in [#"{"orderId":"o","customerId":"c","total":1}"#,                           // missing key
                     #"{"orderId":"o","customerId":"c","total":"1","currency":"EUR"}"#,        // wrong type
                     #"{"orderId":"o","customerId":"c","total":1.0,"currency":"EUR"}"#,        // Foundation's call
                     #"{"orderId":"o","customerId":"c","total":1,"currency":"EUR","total":2}"#, // duplicate key
                     #"["o"]"#] {
            #expect(JSONObjectReader.read(Array(text.utf8), OrderApproved.init(json:)) == nil, "\(text)")
        }
        // The codec still answers as Foundation does: a value, or Foundation's error.
        let fraction = Array(#"{"orderId":"o","customerId":"c","total":1.0,"currency":"EUR"}"#.utf8)
        #expect(try OrderEventCodec.decode(type: "OrderApproved", data: fraction)
                == .approved(OrderApproved(orderId: "o", customerId: "c", total: 1, currency: "EUR")))
        #expect(throws: DecodingError.self) { try OrderEventCodec.decode(type: "OrderApproved", data: Array(#"{"orderId":"o"}"#.utf8)) }
        // Unknown keys are ignored, as by the synthesized conformance.
        let extra = Array(#"{"orderId":"o","customerId":"c","total":1,"currency":"EUR","note":[{}]}"#.utf8)
        #expect(JSONObjectReader.read(extra, OrderApproved.init(json:)) == OrderApproved(orderId: "o", customerId: "c", total: 1, currency: "EUR"))
    }

    /// The check itself catches a reader that disagrees (here: one that ignores a field).
    @Test func theCheckCatchesAWrongReader() {
        let careless: (JSONObjectReader) throws -> OrderShipped = {
            OrderShipped(orderId: try $0.string("orderId"), customerId: try $0.string("customerId"), total: 0, currency: try $0.string("currency"))
        }
        let problems = JSONReaderCheck.disagreements(careless, samples: [OrderShipped(orderId: "o", customerId: "c", total: 7, currency: "EUR")], edits: 50)
        #expect(!problems.isEmpty)
    }
}
