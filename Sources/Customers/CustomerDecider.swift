import Foundation
import CQRS

/// The customer aggregate as a decider: pure decisions over `CustomerState`.
///
/// Errors: validation → 422 (`invalid-customer`, with field errors), `customer-exists`,
/// `customer-deactivated`, `credit-limit-below-reserved` → 409, `customer-not-found` → 404.
/// The saga commands never throw for business reasons: they answer with `CreditRejected`.
public struct CustomerDecider: Decider {
    public typealias Command = CustomerCommand
    public typealias Event = CustomerEvent
    public typealias State = CustomerState

    public init() {}

    public var initialState: CustomerState { CustomerState() }
    public var upcasters: UpcasterChain { CustomerUpcasters.chain }

    public func decide(_ command: CustomerCommand, _ state: CustomerState) throws -> [CustomerEvent] {
        if case .register(let r) = command { return try register(r, state) }
        if command.isSagaCommand { return try saga(command, state) }
        guard state.registered else {
            throw DomainError.notFound("customer-not-found", "customer does not exist")
        }
        guard state.active else {
            throw DomainError.conflict("customer-deactivated", "customer '\(state.customerId)' is deactivated")
        }
        switch command {
        case .rename(let name):
            try CustomerValidation.check([CustomerValidation.name(name)])
            let (given, family) = PersonName.split(name)
            if given == state.givenName && family == state.familyName { return [] }
            return [.renamed(CustomerRenamed(givenName: given, familyName: family))]
        case .changeEmail(let email):
            let e = CustomerValidation.trimmed(email)
            try CustomerValidation.check([CustomerValidation.email(e)])
            if e == state.email { return [] }
            return [.emailChanged(CustomerEmailChanged(email: e))]
        case .changeCreditLimit(let limit):
            try CustomerValidation.check([CustomerValidation.creditLimit(limit)])
            if limit == state.creditLimit { return [] }
            if limit < state.reservedCredit {
                throw DomainError.conflict("credit-limit-below-reserved",
                                           "credit limit \(limit) is below the \(state.reservedCredit) currently reserved")
            }
            return [.creditLimitChanged(CustomerCreditLimitChanged(creditLimit: limit, currency: state.currency))]
        case .deactivate:
            return [.deactivated(CustomerDeactivated())]
        case .register, .reserveCredit, .releaseCredit:
            return []   // handled above
        }
    }

    private func register(_ r: RegisterCustomer, _ state: CustomerState) throws -> [CustomerEvent] {
        if state.registered { throw DomainError.conflict("customer-exists", "customer '\(r.customerId)' already exists") }
        let email = CustomerValidation.trimmed(r.email)
        try CustomerValidation.check([CustomerValidation.customerId(r.customerId), CustomerValidation.name(r.name),
                                      CustomerValidation.email(email), CustomerValidation.creditLimit(r.creditLimit),
                                      CustomerValidation.currency(r.currency)])
        let (given, family) = PersonName.split(r.name)
        return [.registered(CustomerRegistered(customerId: r.customerId, givenName: given, familyName: family, email: email,
                                               creditLimit: r.creditLimit, currency: r.currency))]
    }

    private func saga(_ command: CustomerCommand, _ state: CustomerState) throws -> [CustomerEvent] {
        switch command {
        case let .reserveCredit(orderId, amount, currency):
            guard !orderId.isEmpty else {
                throw DomainError.validation("invalid-reservation", "orderId is required",
                                             fields: [FieldError(field: "orderId", code: "required", message: "orderId must not be empty")])
            }
            guard amount >= 0 else {
                throw DomainError.validation("invalid-reservation", "amount must be ≥ 0",
                                             fields: [FieldError(field: "amount", code: "negative", message: "amount must be ≥ 0")])
            }
            let held = state.reservations[orderId]
            if held == amount && state.registered && currency == state.currency { return [] }   // idempotent
            var events: [CustomerEvent] = []
            var available = state.availableCredit
            // A different reservation of the same order is replaced: released first, same decision.
            if let held {
                available += held
                events.append(.creditReleased(CreditReleased(orderId: orderId, amount: held, currency: state.currency,
                                                             availableCredit: available)))
            }
            let reason: CreditRejectionReason?
            if !state.registered { reason = .unknownCustomer }
            else if !state.active { reason = .customerInactive }
            else if currency != state.currency { reason = .currencyMismatch }
            else if available < amount { reason = .insufficientCredit }
            else { reason = nil }
            if let reason {
                events.append(.creditRejected(CreditRejected(orderId: orderId, amount: amount, currency: currency, reason: reason)))
            } else {
                events.append(.creditReserved(CreditReserved(orderId: orderId, amount: amount, currency: currency,
                                                             availableCredit: available - amount)))
            }
            return events
        case .releaseCredit(let orderId):
            guard let held = state.reservations[orderId] else { return [] }
            return [.creditReleased(CreditReleased(orderId: orderId, amount: held, currency: state.currency,
                                                   availableCredit: state.availableCredit + held))]
        default:
            return []
        }
    }

    public func evolve(_ state: CustomerState, _ event: CustomerEvent) -> CustomerState {
        var s = state
        apply(event, to: &s)
        return s
    }

    /// In place: a customer's `reservations` (one per open or shipped order) is not copied per event.
    public func apply(_ event: CustomerEvent, to s: inout CustomerState) {
        switch event {
        case .registered(let e):
            s.registered = true; s.active = true; s.customerId = e.customerId
            s.givenName = e.givenName; s.familyName = e.familyName; s.email = e.email
            s.creditLimit = e.creditLimit; s.currency = e.currency
        case .renamed(let e): s.givenName = e.givenName; s.familyName = e.familyName
        case .emailChanged(let e): s.email = e.email
        case .creditLimitChanged(let e): s.creditLimit = e.creditLimit
        case .deactivated: s.active = false
        case .creditReserved(let e): s.reservations[e.orderId] = e.amount
        case .creditRejected: break
        case .creditReleased(let e): s.reservations[e.orderId] = nil
        }
    }

    public func encode(_ event: CustomerEvent) throws -> EncodedEvent { try event.encoded() }
    public func decode(_ event: EncodedEvent) throws -> CustomerEvent { try CustomerEvent.decode(event) }
}
