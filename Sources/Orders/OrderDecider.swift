import CQRS
import PublicEvents

/// The order aggregate's state, rebuilt from its events.
struct OrderState: Codable, Hashable, Sendable {
    var exists = false
    var orderId = ""
    var customerId = ""
    var currency = ""
    var lines: [OrderLine] = []
    var total: Int64 = 0
    var status: OrderStatus = .pending
    var rejectionReason: String?
    var cancellationReason: String?
}

/// The order aggregate as a pure decider. Status machine: `pending` → `approved` | `rejected`;
/// `pending`/`approved` → `cancelled`; `approved` → `shipped`; line changes on `pending` or
/// `approved` put the order back to `pending` (credit is re-reserved for the new total), unless
/// an approved order's total is unchanged (see `OrderStatus.afterLinesChange`).
struct OrderDecider: Decider {
    typealias Command = OrderDecision
    typealias Event = OrderEvent
    typealias State = OrderState

    var initialState: OrderState { OrderState() }

    func decide(_ c: OrderDecision, _ s: OrderState) throws -> [OrderEvent] {
        switch c.kind {
        case .client(.place(let p)):
            if s.exists { throw DomainError.conflict("order-exists", "order '\(c.orderId)' already exists (status \(s.status.rawValue))") }
            return [.placed(try place(c.orderId, p, customer: c.customer))]
        case .client(let other):
            guard s.exists else { throw DomainError.notFound("order-not-found", "order '\(c.orderId)' does not exist") }
            return try decideExisting(other, s)
        case .approve(let amount):
            guard s.exists else { throw DomainError.notFound("order-not-found", "order '\(c.orderId)' does not exist") }
            // A reservation for another total answers an older version of the lines: ignore it,
            // the saga answers the newer `order.lines-changed` too.
            guard s.status == .pending, amount == s.total else { return [] }
            return [.approved(OrderApproved(orderId: s.orderId, customerId: s.customerId, total: s.total, currency: s.currency))]
        case .reject(let reason, let amount):
            guard s.exists else { throw DomainError.notFound("order-not-found", "order '\(c.orderId)' does not exist") }
            guard s.status == .pending, amount == s.total else { return [] }
            return [.rejected(OrderRejected(orderId: s.orderId, customerId: s.customerId, reason: reason.isEmpty ? "credit-rejected" : reason))]
        }
    }

    private func place(_ orderId: String, _ p: PlaceOrder, customer: ReplicaCustomer?) throws -> OrderPlaced {
        var errors: [FieldError] = []
        if p.lines.isEmpty {
            errors.append(FieldError(field: "lines", code: "required", message: "an order needs at least one line"))
        } else if p.lines.count > OrderValidation.maxLines {
            errors.append(FieldError(field: "lines", code: "too-many", message: "an order has at most \(OrderValidation.maxLines) lines"))
        }
        var seen = Set<String>()
        for (i, l) in p.lines.prefix(OrderValidation.maxLines).enumerated() {
            errors += OrderValidation.line(l, field: "lines[\(i)].")
            if !seen.insert(l.sku).inserted {
                errors.append(FieldError(field: "lines[\(i)].sku", code: "duplicate-sku", message: "sku '\(l.sku)' appears twice"))
            }
        }
        errors += OrderValidation.currency(p.currency)
        if p.customerId.isEmpty {
            errors.append(FieldError(field: "customerId", code: "required", message: "customerId must not be empty"))
        } else if let customer {
            if !customer.active {
                errors.append(FieldError(field: "customerId", code: "customer-inactive", message: "customer '\(p.customerId)' is deactivated"))
            } else if customer.currency != p.currency && Currency.isSupported(p.currency) {
                errors.append(FieldError(field: "currency", code: "currency-mismatch",
                                         message: "customer '\(p.customerId)' buys in \(customer.currency), not \(p.currency)"))
            }
        } else {
            errors.append(FieldError(field: "customerId", code: "unknown-customer", message: "customer '\(p.customerId)' is not known"))
        }
        let total = OrderValidation.total(p.lines)
        if errors.isEmpty && total == nil { errors.append(OrderValidation.totalError(field: "lines")) }
        if !errors.isEmpty { throw OrderValidation.invalid(errors) }
        return OrderPlaced(orderId: orderId, customerId: p.customerId, currency: p.currency, lines: p.lines, total: total!)
    }

    private func decideExisting(_ c: OrderCommand, _ s: OrderState) throws -> [OrderEvent] {
        switch c {
        case .place:
            preconditionFailure("handled by decide")
        case .addLine(let line):
            let errors = OrderValidation.line(line, field: "")
            if !errors.isEmpty { throw OrderValidation.invalid(errors) }
            try modifiable(s)
            if s.lines.contains(where: { $0.sku == line.sku }) {
                throw DomainError.conflict("line-exists", "order '\(s.orderId)' already has a line for sku '\(line.sku)'; remove it first")
            }
            if s.lines.count >= OrderValidation.maxLines {
                throw OrderValidation.invalid([FieldError(field: "lines", code: "too-many", message: "an order has at most \(OrderValidation.maxLines) lines")])
            }
            let lines = s.lines + [line]
            guard let total = OrderValidation.total(lines) else { throw OrderValidation.invalid([OrderValidation.totalError(field: "quantity")]) }
            return [.lineAdded(LineAdded(orderId: s.orderId, customerId: s.customerId, currency: s.currency, line: line, lines: lines, total: total))]
        case .removeLine(let sku):
            let errors = OrderValidation.sku(sku, field: "sku")
            if !errors.isEmpty { throw OrderValidation.invalid(errors) }
            try modifiable(s)
            guard s.lines.contains(where: { $0.sku == sku }) else {
                throw DomainError.conflict("line-not-found", "order '\(s.orderId)' has no line for sku '\(sku)'")
            }
            if s.lines.count == 1 {
                throw DomainError.conflict("last-line", "cannot remove the last line of order '\(s.orderId)'; cancel the order instead")
            }
            let lines = s.lines.filter { $0.sku != sku }
            let total = OrderValidation.total(lines) ?? 0   // a subset of lines that fitted still fits
            return [.lineRemoved(LineRemoved(orderId: s.orderId, customerId: s.customerId, currency: s.currency, sku: sku, lines: lines, total: total))]
        case .cancel(let reason):
            let errors = OrderValidation.reason(reason)
            if !errors.isEmpty { throw OrderValidation.invalid(errors) }
            guard s.status == .pending || s.status == .approved else {
                throw DomainError.conflict("order-not-cancellable", "order '\(s.orderId)' is \(s.status.rawValue); only pending or approved orders can be cancelled")
            }
            return [.cancelled(OrderCancelled(orderId: s.orderId, customerId: s.customerId, reason: reason, total: s.total, currency: s.currency))]
        case .ship:
            guard s.status == .approved else {
                throw DomainError.conflict("order-not-shippable", "order '\(s.orderId)' is \(s.status.rawValue); only approved orders can be shipped")
            }
            return [.shipped(OrderShipped(orderId: s.orderId, customerId: s.customerId, total: s.total, currency: s.currency))]
        }
    }

    private func modifiable(_ s: OrderState) throws {
        guard s.status == .pending || s.status == .approved else {
            throw DomainError.conflict("order-not-modifiable", "order '\(s.orderId)' is \(s.status.rawValue); only pending or approved orders can change lines")
        }
    }

    func evolve(_ s: OrderState, _ e: OrderEvent) -> OrderState {
        var s = s
        switch e {
        case .placed(let p):
            s.exists = true; s.orderId = p.orderId; s.customerId = p.customerId; s.currency = p.currency
            s.lines = p.lines; s.total = p.total; s.status = .pending
        case .lineAdded(let p):
            s.status = s.status.afterLinesChange(total: s.total, newTotal: p.total); s.lines = p.lines; s.total = p.total
        case .lineRemoved(let p):
            s.status = s.status.afterLinesChange(total: s.total, newTotal: p.total); s.lines = p.lines; s.total = p.total
        case .approved: s.status = .approved; s.rejectionReason = nil
        case .rejected(let p): s.status = .rejected; s.rejectionReason = p.reason
        case .cancelled(let p): s.status = .cancelled; s.cancellationReason = p.reason
        case .shipped: s.status = .shipped
        }
        return s
    }

    func encode(_ event: OrderEvent) throws -> EncodedEvent { try OrderEventCodec.encode(event) }
    func decode(_ event: EncodedEvent) throws -> OrderEvent { try OrderEventCodec.decode(type: event.type, data: event.data) }
}
