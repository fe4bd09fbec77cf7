import JSON

// Hand-written readers of every public payload, next to the payloads they read: each gives
// what the type's synthesized `Decodable` conformance gives, or gives up (the tests check them
// against the conformances with `JSONReaderCheck`). Consumers and replicas read public events
// on every replay, so the readers spare them the `Codable` machinery.

extension PublicEventPayload {
    /// Decodes a payload: the hand-written reader when the strict decoder accepts the bytes,
    /// else the `Decodable` conformance (which gives the same value or Foundation's error).
    public static func decode(_ data: [UInt8]) throws -> Self {
        try JSONCoding.decode(Self.self, from: data, reader: Self.init(json:))
    }
}

extension CustomerRegisteredV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), name: try r.string("name"), email: try r.string("email"),
                  creditLimit: try r.int64("creditLimit"), currency: try r.string("currency"))
    }
}

extension CustomerRenamedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), name: try r.string("name"))
    }
}

extension CustomerEmailChangedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), email: try r.string("email"))
    }
}

extension CustomerCreditLimitChangedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), creditLimit: try r.int64("creditLimit"), currency: try r.string("currency"))
    }
}

extension CustomerDeactivatedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"))
    }
}

extension CustomerCreditReservedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), orderId: try r.string("orderId"), amount: try r.int64("amount"),
                  currency: try r.string("currency"), availableCredit: try r.int64("availableCredit"))
    }
}

extension CustomerCreditRejectedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), orderId: try r.string("orderId"), amount: try r.int64("amount"),
                  currency: try r.string("currency"), reason: try r.string("reason"))
    }
}

extension CustomerCreditReleasedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(customerId: try r.string("customerId"), orderId: try r.string("orderId"), amount: try r.int64("amount"),
                  currency: try r.string("currency"), availableCredit: try r.int64("availableCredit"))
    }
}

extension OrderLineV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(sku: try r.string("sku"), quantity: try r.int("quantity"), unitPrice: try r.int64("unitPrice"))
    }
}

extension OrderPlacedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), currency: try r.string("currency"),
                  lines: try r.objects("lines", OrderLineV1.init(json:)), total: try r.int64("total"))
    }
}

extension OrderLinesChangedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), currency: try r.string("currency"),
                  lines: try r.objects("lines", OrderLineV1.init(json:)), total: try r.int64("total"))
    }
}

extension OrderApprovedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), total: try r.int64("total"),
                  currency: try r.string("currency"))
    }
}

extension OrderRejectedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), reason: try r.string("reason"))
    }
}

extension OrderCancelledV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), reason: try r.string("reason"),
                  total: try r.int64("total"), currency: try r.string("currency"))
    }
}

extension OrderShippedV1 {
    public init(json r: JSONObjectReader) throws {
        self.init(orderId: try r.string("orderId"), customerId: try r.string("customerId"), total: try r.int64("total"),
                  currency: try r.string("currency"))
    }
}
