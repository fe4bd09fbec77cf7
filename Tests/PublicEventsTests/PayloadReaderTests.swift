import Testing
import TributaryTesting
import PublicEvents
import JSON

/// Every public payload's hand-written reader decodes exactly what the type's `Decodable`
/// conformance decodes, and leaves anything else to Foundation (`JSONReaderCheck`).
@Suite struct PayloadReaderTests {
    static let awkward = "é \"q\" \\ / \u{1}\u{7F} 😀 \u{2028}"
    static let seeds = 0..<8
    static func id(_ seed: Int) -> String { seed % 3 == 0 ? awkward : "c-\(seed)" }

    static func check<T: PublicEventPayload>(_: T.Type, _ sample: (Int) -> T) {
        let problems = JSONReaderCheck.disagreements(T.init(json:), samples: seeds.map(sample))
        #expect(problems.isEmpty, "\(T.self): \(problems.prefix(3))")
        for seed in seeds {
            let value = sample(seed)
            #expect((try? T.decode(JSONCoding.encode(value))) == value, "\(T.self).decode")
        }
    }

    @Test func customerPayloadReadersAgreeWithTheirConformances() {
        Self.check(CustomerRegisteredV1.self) {
            CustomerRegisteredV1(customerId: Self.id($0), name: Self.awkward, email: "a@b.c", creditLimit: .max - Int64($0), currency: "EUR")
        }
        Self.check(CustomerRenamedV1.self) { CustomerRenamedV1(customerId: Self.id($0), name: "N \($0)") }
        Self.check(CustomerEmailChangedV1.self) { CustomerEmailChangedV1(customerId: Self.id($0), email: "\($0)@\(Self.awkward)") }
        Self.check(CustomerCreditLimitChangedV1.self) { CustomerCreditLimitChangedV1(customerId: Self.id($0), creditLimit: Int64($0), currency: "SEK") }
        Self.check(CustomerDeactivatedV1.self) { CustomerDeactivatedV1(customerId: Self.id($0)) }
        Self.check(CustomerCreditReservedV1.self) {
            CustomerCreditReservedV1(customerId: "c", orderId: Self.id($0), amount: Int64($0), currency: "EUR", availableCredit: .min)
        }
        Self.check(CustomerCreditRejectedV1.self) {
            CustomerCreditRejectedV1(customerId: "c", orderId: Self.id($0), amount: 0, currency: "EUR", reason: "insufficient-credit")
        }
        Self.check(CustomerCreditReleasedV1.self) {
            CustomerCreditReleasedV1(customerId: Self.id($0), orderId: "o", amount: -Int64($0), currency: "USD", availableCredit: .max)
        }
    }

    @Test func orderPayloadReadersAgreeWithTheirConformances() {
        func lines(_ seed: Int) -> [OrderLineV1] {
            (0..<(seed % 4)).map { OrderLineV1(sku: $0 == 1 ? Self.awkward : "S\($0)", quantity: $0 - 1, unitPrice: .max - Int64($0)) }
        }
        let problems = JSONReaderCheck.disagreements(OrderLineV1.init(json:), samples: Self.seeds.map {
            OrderLineV1(sku: Self.id($0), quantity: $0, unitPrice: -Int64($0))
        })
        #expect(problems.isEmpty, "OrderLineV1: \(problems.prefix(3))")
        Self.check(OrderPlacedV1.self) { OrderPlacedV1(orderId: Self.id($0), customerId: "c", currency: "EUR", lines: lines($0), total: Int64($0)) }
        Self.check(OrderLinesChangedV1.self) { OrderLinesChangedV1(orderId: "o", customerId: Self.id($0), currency: "EUR", lines: lines($0), total: .min) }
        Self.check(OrderApprovedV1.self) { OrderApprovedV1(orderId: Self.id($0), customerId: "c", total: Int64($0), currency: "EUR") }
        Self.check(OrderCancelledV1.self) { OrderCancelledV1(orderId: Self.id($0), customerId: "c", reason: Self.awkward, total: 3, currency: "EUR") }
        Self.check(OrderRejectedV1.self) { OrderRejectedV1(orderId: Self.id($0), customerId: "c", reason: "insufficient-credit") }
        Self.check(OrderShippedV1.self) { OrderShippedV1(orderId: Self.id($0), customerId: "c", total: Int64($0) * 1_000, currency: "EUR") }
    }
}
