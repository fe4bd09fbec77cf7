import CQRS
import JSON

/// Life-cycle status of an order.
public enum OrderStatus: String, Codable, Hashable, Sendable, CaseIterable {
    case pending, approved, rejected, cancelled, shipped

    /// The status after a line change from `total` to `newTotal`: `pending` (credit must be
    /// re-reserved for the new total), except an `approved` order whose total did not change
    /// (e.g. a zero-priced line): its credit is already reserved for exactly that amount, and
    /// Customers answers a same-amount reservation with nothing, so `pending` would never end.
    func afterLinesChange(total: Int64, newTotal: Int64) -> OrderStatus {
        self == .approved && total == newTotal ? .approved : .pending
    }
}

/// The Orders service's internal events: its private storage format, never published as is
/// (the publisher maps them to the public contract). Each carries what its public mapping
/// needs, so the mapping is a pure function of one event.
public enum OrderEvent: Hashable, Sendable {
    case placed(OrderPlaced)
    case lineAdded(LineAdded)
    case lineRemoved(LineRemoved)
    case approved(OrderApproved)
    case rejected(OrderRejected)
    case cancelled(OrderCancelled)
    case shipped(OrderShipped)

    /// Stored type name (stable forever).
    public var typeName: String {
        switch self {
        case .placed: return "OrderPlaced"
        case .lineAdded: return "LineAdded"
        case .lineRemoved: return "LineRemoved"
        case .approved: return "OrderApproved"
        case .rejected: return "OrderRejected"
        case .cancelled: return "OrderCancelled"
        case .shipped: return "OrderShipped"
        }
    }
}

public struct OrderPlaced: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    public var currency: String
    public var lines: [OrderLine]
    public var total: Int64
}

/// A line was added; `lines` and `total` are the order's after the change (status `pending`).
public struct LineAdded: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    public var currency: String
    public var line: OrderLine
    public var lines: [OrderLine]
    public var total: Int64
}

/// A line was removed; `lines` and `total` are the order's after the change (status `pending`).
public struct LineRemoved: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    public var currency: String
    public var sku: String
    public var lines: [OrderLine]
    public var total: Int64
}

public struct OrderApproved: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    public var total: Int64
    public var currency: String
}

public struct OrderRejected: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    public var reason: String
}

public struct OrderCancelled: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    public var reason: String
    public var total: Int64
    public var currency: String
}

public struct OrderShipped: Codable, Hashable, Sendable {
    public var orderId: String
    public var customerId: String
    public var total: Int64
    public var currency: String
}

/// Encoding of internal events (all at schema version 1).
enum OrderEventCodec {
    struct UnknownEventType: Error, CustomStringConvertible {
        var type: String
        var description: String { "unknown order event type '\(type)'" }
    }

    static func encode(_ e: OrderEvent) throws -> EncodedEvent {
        switch e {
        case .placed(let p): return try .json(e.typeName, p)
        case .lineAdded(let p): return try .json(e.typeName, p)
        case .lineRemoved(let p): return try .json(e.typeName, p)
        case .approved(let p): return try .json(e.typeName, p)
        case .rejected(let p): return try .json(e.typeName, p)
        case .cancelled(let p): return try .json(e.typeName, p)
        case .shipped(let p): return try .json(e.typeName, p)
        }
    }

    static func decode(type: String, data: [UInt8]) throws -> OrderEvent {
        switch type {
        // Hand-written readers: every order event is decoded on each replay of the views.
        case "OrderPlaced": return .placed(try JSONCoding.decode(OrderPlaced.self, from: data, reader: OrderPlaced.init(json:)))
        case "LineAdded": return .lineAdded(try JSONCoding.decode(LineAdded.self, from: data, reader: LineAdded.init(json:)))
        case "LineRemoved": return .lineRemoved(try JSONCoding.decode(LineRemoved.self, from: data, reader: LineRemoved.init(json:)))
        case "OrderApproved": return .approved(try JSONCoding.decode(OrderApproved.self, from: data, reader: OrderApproved.init(json:)))
        case "OrderRejected": return .rejected(try JSONCoding.decode(OrderRejected.self, from: data, reader: OrderRejected.init(json:)))
        case "OrderCancelled": return .cancelled(try JSONCoding.decode(OrderCancelled.self, from: data, reader: OrderCancelled.init(json:)))
        case "OrderShipped": return .shipped(try JSONCoding.decode(OrderShipped.self, from: data, reader: OrderShipped.init(json:)))
        default: throw UnknownEventType(type: type)
        }
    }
}

// Hand-written readers: the same keys and types as the synthesized `Decodable` conformances
// (`EventCodingTests` checks that they agree).
extension OrderLine {
    init(json r: JSONObjectReader) throws {
        self.init(sku: try r.string("sku"), quantity: try r.int("quantity"), unitPrice: try r.int64("unitPrice"))
    }
}

extension OrderPlaced {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), currency: try r.string("currency"),
                  lines: try r.objects("lines", OrderLine.init(json:)), total: try r.int64("total"))
    }
}

extension LineAdded {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), currency: try r.string("currency"),
                  line: try OrderLine(json: r.object("line")), lines: try r.objects("lines", OrderLine.init(json:)),
                  total: try r.int64("total"))
    }
}

extension LineRemoved {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), currency: try r.string("currency"),
                  sku: try r.string("sku"), lines: try r.objects("lines", OrderLine.init(json:)), total: try r.int64("total"))
    }
}

extension OrderApproved {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), total: try r.int64("total"),
                  currency: try r.string("currency"))
    }
}

extension OrderRejected {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), reason: try r.string("reason"))
    }
}

extension OrderCancelled {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), reason: try r.string("reason"),
                  total: try r.int64("total"), currency: try r.string("currency"))
    }
}

extension OrderShipped {
    init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), total: try r.int64("total"),
                  currency: try r.string("currency"))
    }
}
