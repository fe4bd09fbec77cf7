import Foundation
import Testing
import CQRS
@testable import Orders

/// The hand-written readers of `OrderEventCodec` decode exactly what the types' `Decodable`
/// conformances decode, and leave anything else to Foundation.
@Suite struct EventCodingTests {
    static let awkward = "é \"q\" \\ / \u{1}\u{7F} 😀 \u{2028}"

    static func lines(_ n: Int, _ seed: Int) -> [OrderLine] {
        (0..<n).map { OrderLine(sku: $0 == 1 ? awkward : "SKU-\(seed)-\($0)", quantity: $0 * 7 - 3 + seed, unitPrice: Int64.max - Int64($0 * seed)) }
    }

    static func events(_ seed: Int) -> [OrderEvent] {
        let id = seed % 3 == 0 ? awkward : "o-\(seed)", customer = "c-\(seed)"
        let ls = lines(seed % 5, seed)
        return [
            .placed(OrderPlaced(orderId: id, customerId: customer, currency: "EUR", lines: ls, total: Int64(seed) - 50)),
            .lineAdded(LineAdded(orderId: id, customerId: customer, currency: "USD", line: lines(2, seed)[1], lines: ls, total: Int64.min)),
            .lineRemoved(LineRemoved(orderId: id, customerId: customer, currency: "JPY", sku: awkward, lines: ls, total: 0)),
            .approved(OrderApproved(orderId: id, customerId: customer, total: Int64(seed), currency: "EUR")),
            .rejected(OrderRejected(orderId: id, customerId: customer, reason: awkward)),
            .cancelled(OrderCancelled(orderId: id, customerId: customer, reason: "", total: -1, currency: "EUR")),
            .shipped(OrderShipped(orderId: id, customerId: customer, total: 12, currency: "GBP")),
        ]
    }

    /// What the synthesized conformance decodes from `data`, through Foundation.
    static func foundation(_ type: String, _ data: [UInt8]) -> OrderEvent? {
        let d = Data(data), j = JSONDecoder()
        switch type {
        case "OrderPlaced": return (try? j.decode(OrderPlaced.self, from: d)).map(OrderEvent.placed)
        case "LineAdded": return (try? j.decode(LineAdded.self, from: d)).map(OrderEvent.lineAdded)
        case "LineRemoved": return (try? j.decode(LineRemoved.self, from: d)).map(OrderEvent.lineRemoved)
        case "OrderApproved": return (try? j.decode(OrderApproved.self, from: d)).map(OrderEvent.approved)
        case "OrderRejected": return (try? j.decode(OrderRejected.self, from: d)).map(OrderEvent.rejected)
        case "OrderCancelled": return (try? j.decode(OrderCancelled.self, from: d)).map(OrderEvent.cancelled)
        case "OrderShipped": return (try? j.decode(OrderShipped.self, from: d)).map(OrderEvent.shipped)
        default: return nil
        }
    }

    /// The hand-written reader alone (no fallback); nil where it gives up.
    static func fast(_ type: String, _ data: [UInt8]) -> OrderEvent? {
        switch type {
        case "OrderPlaced": return JSONObjectReader.read(data, OrderPlaced.init(json:)).map(OrderEvent.placed)
        case "LineAdded": return JSONObjectReader.read(data, LineAdded.init(json:)).map(OrderEvent.lineAdded)
        case "LineRemoved": return JSONObjectReader.read(data, LineRemoved.init(json:)).map(OrderEvent.lineRemoved)
        case "OrderApproved": return JSONObjectReader.read(data, OrderApproved.init(json:)).map(OrderEvent.approved)
        case "OrderRejected": return JSONObjectReader.read(data, OrderRejected.init(json:)).map(OrderEvent.rejected)
        case "OrderCancelled": return JSONObjectReader.read(data, OrderCancelled.init(json:)).map(OrderEvent.cancelled)
        case "OrderShipped": return JSONObjectReader.read(data, OrderShipped.init(json:)).map(OrderEvent.shipped)
        default: return nil
        }
    }

    @Test func readersDecodeWhatTheCodecWrites() throws {
        for seed in 0..<12 {
            for event in EventCodingTests.events(seed) {
                let encoded = try OrderEventCodec.encode(event)
                #expect(EventCodingTests.fast(encoded.type, encoded.data) == event, "\(encoded.type)")
                #expect(EventCodingTests.foundation(encoded.type, encoded.data) == event)
                #expect(try OrderEventCodec.decode(type: encoded.type, data: encoded.data) == event)
            }
        }
    }

    @Test func readersGiveUpWhereTheConformanceWouldFailOrDiffer() throws {
        let type = "OrderApproved"
        for text in [#"{"orderId":"o","customerId":"c","total":1}"#,                           // missing key
                     #"{"orderId":"o","customerId":"c","total":"1","currency":"EUR"}"#,        // wrong type
                     #"{"orderId":"o","customerId":"c","total":1.0,"currency":"EUR"}"#,        // Foundation's call
                     #"{"orderId":"o","customerId":"c","total":1,"currency":"EUR","total":2}"#, // duplicate key
                     #"["o"]"#] {
            #expect(EventCodingTests.fast(type, Array(text.utf8)) == nil, "\(text)")
        }
        // The codec still answers as Foundation does: a value, or Foundation's error.
        let fraction = Array(#"{"orderId":"o","customerId":"c","total":1.0,"currency":"EUR"}"#.utf8)
        #expect(try OrderEventCodec.decode(type: type, data: fraction) == .approved(OrderApproved(orderId: "o", customerId: "c", total: 1, currency: "EUR")))
        #expect(throws: DecodingError.self) { try OrderEventCodec.decode(type: type, data: Array(#"{"orderId":"o"}"#.utf8)) }
        // Unknown keys are ignored, as by the synthesized conformance.
        let extra = Array(#"{"orderId":"o","customerId":"c","total":1,"currency":"EUR","note":[{}]}"#.utf8)
        #expect(EventCodingTests.fast(type, extra) == EventCodingTests.foundation(type, extra))
    }

    /// Random byte edits of encoded events: whatever a reader returns, Foundation agrees.
    @Test func mutatedEventsDecodeAsFoundationDoesOrNotAtAll() throws {
        let encoded = try (0..<6).flatMap { try EventCodingTests.events($0).map(OrderEventCodec.encode) }
        let alphabet = Array(#"{}[]":,\"-0123456789eE. tfnul"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xA9, 0xFF]
        var state: UInt64 = 0xC0DE
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var agreed = 0
        for round in 0..<6_000 {
            let e = encoded[round % encoded.count]
            var bytes = e.data
            for _ in 0...next(2) {
                let at = next(bytes.count)
                switch next(3) {
                case 0: bytes[at] = alphabet[next(alphabet.count)]
                case 1: bytes.insert(alphabet[next(alphabet.count)], at: at)
                default: bytes.remove(at: at)
                }
            }
            guard let fast = EventCodingTests.fast(e.type, bytes) else { continue }
            #expect(EventCodingTests.foundation(e.type, bytes) == fast, "\(e.type): \(String(decoding: bytes, as: UTF8.self))")
            agreed += 1
        }
        #expect(agreed > 200)
    }
}
