import CQRS
import PublicEvents

/// Hand-written readers of the order public events this service reads on every replay and
/// from its consumer: the same keys and types as the contract's synthesized `Decodable`
/// conformances (`EventReaderTests` checks them with `JSONReaderCheck`).
enum OrderPublicEventReaders {
    static func line(_ r: JSONObjectReader) throws -> OrderLineV1 {
        OrderLineV1(sku: try r.string("sku"), quantity: try r.int("quantity"), unitPrice: try r.int64("unitPrice"))
    }

    static func placed(_ r: JSONObjectReader) throws -> OrderPlacedV1 {
        OrderPlacedV1(orderId: try r.string("orderId"), customerId: try r.string("customerId"), currency: try r.string("currency"),
                      lines: try r.objects("lines", line), total: try r.int64("total"))
    }

    static func linesChanged(_ r: JSONObjectReader) throws -> OrderLinesChangedV1 {
        OrderLinesChangedV1(orderId: try r.string("orderId"), customerId: try r.string("customerId"), currency: try r.string("currency"),
                            lines: try r.objects("lines", line), total: try r.int64("total"))
    }

    static func cancelled(_ r: JSONObjectReader) throws -> OrderCancelledV1 {
        OrderCancelledV1(orderId: try r.string("orderId"), customerId: try r.string("customerId"), reason: try r.string("reason"),
                         total: try r.int64("total"), currency: try r.string("currency"))
    }

    static func rejected(_ r: JSONObjectReader) throws -> OrderRejectedV1 {
        OrderRejectedV1(orderId: try r.string("orderId"), customerId: try r.string("customerId"), reason: try r.string("reason"))
    }

    static func shipped(_ r: JSONObjectReader) throws -> OrderShippedV1 {
        OrderShippedV1(orderId: try r.string("orderId"), customerId: try r.string("customerId"), total: try r.int64("total"),
                       currency: try r.string("currency"))
    }
}
