import API
import HTTP
import JSON
import UV

/// `GET /streams/health`: the console's dashboard, live without polling. Each `event: health`
/// carries `{"health": <the /health document>, "stores": {name: {appends, events, batches,
/// fsyncs}}, "subscribers": <open event streams>}`: one now, then one whenever any of it
/// changes, looked at every `interval` milliseconds while anyone listens (on the loop: no
/// I/O, the document is kept between changes). Each frame is encoded once for all subscribers.
final class HealthFeed {
    private let document: HealthDocument
    private let registry: SubscriberRegistry
    private let interval: UInt64
    private var members: [ObjectIdentifier: Subscriber] = [:]
    private var timer: LoopTimer?
    /// What the last frame showed: the document's generation, the stores' totals, the subscribers.
    private var shown: (UInt64, UInt64, Int) = (0, 0, -1)
    private var sequence: UInt64 = 0

    init(document: HealthDocument, registry: SubscriberRegistry, interval: UInt64 = 250) {
        self.document = document
        self.registry = registry
        self.interval = interval
    }

    func handle(_ context: RequestContext, _ responder: Responder) {
        guard let s = registry.open(context, responder, kind: .health) else { return }
        let key = ObjectIdentifier(s)
        members[key] = s
        s.onEnd = { [weak self] in
            self?.members[key] = nil
            if self?.members.isEmpty == true { self?.stopTimer() }
        }
        _ = s.send(frame(), events: 1)
        if timer == nil {
            let t = LoopTimer(loop: registry.loop)
            t.start(timeout: interval, repeat: interval) { [weak self] in self?.tick() }
            timer = t
        }
    }

    private func tick() {
        guard !members.isEmpty else { return stopTimer() }
        let (_, generation) = document.current()
        let (_, totals) = document.storeTotals()
        guard (generation, totals, registry.count) != shown else { return }
        let f = frame()
        for s in members.values { _ = s.send(f, events: 1) }
    }

    /// The current state as one frame, remembered as shown.
    private func frame() -> [UInt8] {
        let (body, generation) = document.current()
        let (stores, totals) = document.storeTotals()
        let subscribers = registry.count
        shown = (generation, totals, subscribers)
        sequence += 1
        var data = Array(#"{"health":"#.utf8)
        data += body
        data += Array(#","stores":"#.utf8)
        stores.write(into: &data)
        data += Array(",\"subscribers\":\(subscribers)}".utf8)
        return SSEEvent(id: String(sequence), event: "health", data: String(decoding: data, as: UTF8.self)).encoded
    }

    private func stopTimer() {
        timer?.close()
        timer = nil
    }
}
