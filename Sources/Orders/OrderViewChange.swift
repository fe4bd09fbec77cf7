/// One change of the order read model, for change notifications (e.g. SSE streams).
public struct OrderViewChange: Hashable, Sendable {
    public var orderId: String
    /// The order's status before this change; nil when the change created the order.
    /// A list view filtered by status uses it to tell "left the view" from "never in it".
    public var previousStatus: OrderStatus?
}

extension OrdersService {
    /// Registers `listener`, called on the loop after every change of an order view (after the
    /// projection applied the event, so `order(_:)` and `stats()` already reflect it). Also
    /// called during startup replay. Listeners cannot be removed: register one dispatcher.
    public func addViewChangeListener(_ listener: @escaping (OrderViewChange) -> Void) {
        let previous = views.onChange
        views.onChange = { change in
            previous?(change)
            listener(change)
        }
    }
}
