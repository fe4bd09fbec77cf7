// libFuzzer target for the command path: request-body JSON decoding (the services' own command
// body types, as their declared APIs decode them) + domain validation (`decide`) on
// representative aggregate states. Built by scripts/fuzz-commands through Fuzz/Package.swift
// on the service modules (testable: it may use internals).
//
// Input: first byte picks the command route, the rest is the request body.
// Invariants (a violation traps with "fuzz invariant violated"):
// - decoding throws only DecodingError (JSONBody only JSONBodyError); `decide` only DomainError;
// - one reading: nothing `JSONText.check` refuses (not UTF-8, duplicate or non-NFC member
//   names, bad grammar) is decoded, by the strict decoder or by JSONBody; what it lets through,
//   JSONBody decodes exactly as Foundation does;
// - the strict JSON coders agree with Foundation: a body `StrictJSONDecoder` decodes, Foundation
//   decodes to the same value; an event `SortedJSONEncoder` encodes, Foundation encodes to the
//   same bytes (else they must give up and leave it to Foundation);
// - accepted events encode, decode back to equal values, and evolve without trapping;
// - after evolve: a customer's available credit is never negative when it was not before,
//   an order's total equals the sum of its lines, every line has quantity > 0 and price ≥ 0.
import Foundation
import CQRS
@testable import JSON
@testable import Customers
@testable import Orders

private typealias RegisterBody = CustomerCommandBodies.Register
private typealias RenameBody = CustomerCommandBodies.Rename
private typealias EmailBody = CustomerCommandBodies.ChangeEmail
private typealias CreditLimitBody = CustomerCommandBodies.ChangeCreditLimit
private typealias EmptyBody = CustomerCommandBodies.Empty
private typealias PlaceBody = OrderCommandBodies.Place
private typealias RemoveLineBody = OrderCommandBodies.RemoveLine
private typealias CancelBody = OrderCommandBodies.Cancel
/// Saga inputs (not HTTP routes, but derived from public events other services wrote).
private struct ReserveBody: Codable, Equatable { var orderId: String; var amount: Int64; var currency: String }
private struct AmountBody: Codable, Equatable { var amount: Int64; var reason: String? }

func fail(_ message: String) -> Never { fatalError("fuzz invariant violated: \(message)") }

private let customers = CustomerDecider()
private let orders = OrderDecider()

/// Representative customer states: none, active with reservations, deactivated.
private let customerStates: [CustomerState] = {
    var states = [customers.initialState]
    let reg = RegisterCustomer(customerId: "c-1", name: "Ada Lovelace", email: "ada@example.com", creditLimit: 10_000, currency: "EUR")
    guard var s = try? customers.fold(customers.decide(.register(reg), customers.initialState)) else { fail("seed register") }
    states.append(s)
    if let e = try? customers.decide(.reserveCredit(orderId: "o-1", amount: 4_000, currency: "EUR"), s) { s = customers.fold(e, from: s) }
    states.append(s)
    if let e = try? customers.decide(.deactivate, s) { states.append(customers.fold(e, from: s)) }
    return states
}()

private let replica = ReplicaCustomer(customerId: "c-1", name: "Ada", active: true, currency: "EUR", creditLimit: 10_000)

/// Representative order states: none, pending, approved, cancelled, shipped.
private let orderStates: [OrderState] = {
    var states = [orders.initialState]
    let place = OrderDecision(orderId: "o-1", .client(.place(PlaceOrder(customerId: "c-1", currency: "EUR",
                                                                          lines: [OrderLine(sku: "A", quantity: 2, unitPrice: 1500)]))), customer: replica)
    guard let pending = try? orders.fold(orders.decide(place, orders.initialState)) else { fail("seed place") }
    states.append(pending)
    guard let approved = try? orders.fold(orders.decide(OrderDecision(orderId: "o-1", .approve(amount: pending.total)), pending), from: pending) else { fail("seed approve") }
    states.append(approved)
    if let e = try? orders.decide(OrderDecision(orderId: "o-1", .client(.cancel(reason: "x"))), pending) { states.append(orders.fold(e, from: pending)) }
    if let e = try? orders.decide(OrderDecision(orderId: "o-1", .client(.ship)), approved) { states.append(orders.fold(e, from: approved)) }
    return states
}()

private func decodeBody<T: Codable & Equatable>(_ t: T.Type, _ body: [UInt8]) -> T? {
    let fast = JSONCoding.fastDecode(T.self, from: body)
    // What the server decodes: JSONBody (the strict decoder, else JSONText's check + Foundation).
    let served: T?
    do { served = try JSONBody.decode(T.self, from: body) }
    catch is JSONBodyError { served = nil }
    catch { fail("JSONBody threw \(Swift.type(of: error)): \(error)") }
    let text: ArraySlice<UInt8>
    do { text = try JSONText.check(body).text } catch {
        if fast != nil { fail("strict decoder accepted a text JSONText refuses (\(error))") }
        if served != nil { fail("JSONBody decoded a text JSONText refuses (\(error))") }
        return nil
    }
    do {
        let value = try JSONDecoder().decode(T.self, from: Data(text))
        if let fast, fast != value { fail("strict decoder disagrees with Foundation on \(T.self)") }
        if served != value { fail("JSONBody disagrees with Foundation on \(T.self)") }
        checkEncoding(value)   // fuzzed strings through the strict encoder's escaping
        return value
    } catch let error as DecodingError {
        if fast != nil { fail("strict decoder accepted what Foundation rejects (\(T.self)): \(error)") }
        if served != nil { fail("JSONBody accepted what Foundation rejects (\(T.self)): \(error)") }
        return nil
    } catch { fail("decoding threw \(Swift.type(of: error)): \(error)") }
}

/// `SortedJSONEncoder`, where it does not give up, writes Foundation's bytes.
private func checkEncoding<T: Encodable>(_ value: T) {
    guard let fast = SortedJSONEncoder.encode(value) else { return }
    let foundation = JSONEncoder()
    foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let slow = try? foundation.encode(value) else { fail("Foundation cannot encode what the strict encoder did: \(T.self)") }
    if Array(slow) != fast { fail("strict encoder disagrees with Foundation on \(T.self)") }
}

private func checkCustomer(_ command: CustomerCommand) {
    for state in customerStates {
        let events: [CustomerEvent]
        do { events = try customers.decide(command, state) }
        catch is DomainError { continue }
        catch { fail("customer decide threw non-DomainError \(type(of: error)): \(error)") }
        for e in events {
            guard let encoded = try? customers.encode(e) else { fail("customer event does not encode: \(e)") }
            guard let back = try? customers.decode(encoded) else { fail("customer event does not decode: \(encoded.type)") }
            if back != e { fail("customer event round trip changed: \(e) -> \(back)") }
        }
        let after = customers.fold(events, from: state)
        if state.availableCredit >= 0 && after.availableCredit < 0 { fail("available credit negative: \(after)") }
        if after.reservations.values.contains(where: { $0 < 0 }) { fail("negative reservation: \(after)") }
    }
}

private func checkOrder(_ kind: OrderDecision.Kind, customer: ReplicaCustomer?) {
    for state in orderStates {
        let events: [OrderEvent]
        do { events = try orders.decide(OrderDecision(orderId: "o-1", kind, customer: customer), state) }
        catch is DomainError { continue }
        catch { fail("order decide threw non-DomainError \(type(of: error)): \(error)") }
        for e in events {
            guard let encoded = try? orders.encode(e) else { fail("order event does not encode: \(e)") }
            guard let back = try? orders.decode(encoded) else { fail("order event does not decode: \(encoded.type)") }
            if back != e { fail("order event round trip changed: \(e) -> \(back)") }
        }
        let after = orders.fold(events, from: state)
        let (sum, overflow) = after.lines.reduce((Int64(0), false)) { acc, l in
            let (m, o1) = l.unitPrice.multipliedReportingOverflow(by: Int64(l.quantity))
            let (s, o2) = acc.0.addingReportingOverflow(m)
            return (s, acc.1 || o1 || o2)
        }
        if overflow || sum != after.total { fail("order total \(after.total) != sum of lines \(sum) (overflow \(overflow))") }
        if after.lines.contains(where: { $0.quantity <= 0 || $0.unitPrice < 0 }) { fail("invalid line accepted: \(after.lines)") }
    }
}

public func fuzzOne(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let route = start[0] % 13
    let body = Array(UnsafeBufferPointer(start: start + 1, count: count - 1))
    switch route {
    case 0:
        if let b = decodeBody(RegisterBody.self, body) {
            checkCustomer(.register(RegisterCustomer(customerId: b.customerId ?? "generated", name: b.name, email: b.email,
                                                     creditLimit: b.creditLimit, currency: b.currency)))
        }
    case 1: if let b = decodeBody(RenameBody.self, body) { checkCustomer(.rename(name: b.name)) }
    case 2: if let b = decodeBody(EmailBody.self, body) { checkCustomer(.changeEmail(email: b.email)) }
    case 3: if let b = decodeBody(CreditLimitBody.self, body) { checkCustomer(.changeCreditLimit(creditLimit: b.creditLimit)) }
    case 4: if body.isEmpty || decodeBody(EmptyBody.self, body) != nil { checkCustomer(.deactivate) }
    case 5:
        if let b = decodeBody(PlaceBody.self, body) {
            let p = PlaceOrder(customerId: b.customerId, currency: b.currency, lines: b.lines)
            let inactive = ReplicaCustomer(customerId: b.customerId, name: "x", active: false, currency: "EUR", creditLimit: 0)
            for c in [nil, replica, inactive] { checkOrder(.client(.place(p)), customer: c) }
        }
    case 6: if let b = decodeBody(OrderLine.self, body) { checkOrder(.client(.addLine(b)), customer: nil) }
    case 7: if let b = decodeBody(RemoveLineBody.self, body) { checkOrder(.client(.removeLine(sku: b.sku)), customer: nil) }
    case 8: if let b = decodeBody(CancelBody.self, body) { checkOrder(.client(.cancel(reason: b.reason)), customer: nil) }
    case 9: if body.isEmpty || decodeBody(EmptyBody.self, body) != nil { checkOrder(.client(.ship), customer: nil) }
    case 10:
        if let b = decodeBody(ReserveBody.self, body) { checkCustomer(.reserveCredit(orderId: b.orderId, amount: b.amount, currency: b.currency)) }
    case 11: if let b = decodeBody(ReserveBody.self, body) { checkCustomer(.releaseCredit(orderId: b.orderId)) }
    default:
        if let b = decodeBody(AmountBody.self, body) {
            checkOrder(b.reason == nil ? .approve(amount: b.amount) : .reject(reason: b.reason!, amount: b.amount), customer: nil)
        }
    }
    return 0
}
