/// The decision state of one customer stream (also its snapshot format).
public struct CustomerState: Codable, Hashable, Sendable {
    /// False until `CustomerRegistered` (a stream may hold saga rejections for an unknown id).
    public var registered = false
    public var customerId = ""
    public var givenName = ""
    public var familyName = ""
    public var email = ""
    public var creditLimit: Int64 = 0
    public var currency = ""
    public var active = false
    /// Order id → amount reserved for it (minor units).
    public var reservations: [String: Int64] = [:]

    public init() {}

    public var displayName: String { PersonName.display(given: givenName, family: familyName) }
    public var reservedCredit: Int64 { reservations.values.reduce(0, +) }
    public var availableCredit: Int64 { creditLimit - reservedCredit }
}
