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
        // The newcomer gets the state now; what the others were last shown stays as it was,
        // so a change since then still reaches them at the next tick.
        _ = s.send(frame().bytes, events: 1)
        if timer == nil {
            let t = LoopTimer(loop: registry.loop)
            t.start(timeout: interval, repeat: interval) { [weak self] in self?.tick() }
            t.unref()   // never what keeps the loop running
            timer = t
        }
    }

    private func tick() {
        guard !members.isEmpty else { return stopTimer() }
        let (_, generation) = document.current()
        let (_, totals) = document.storeTotals()
        guard (generation, totals, registry.count) != shown else { return }
        let (bytes, state) = frame()
        shown = state
        for s in members.values { _ = s.send(bytes, events: 1) }
    }

    /// Ends the feed (shutdown): the timer stops; the registry closes the streams.
    func close() {
        stopTimer()
        members = [:]
    }

    /// The current state as one frame, and what it shows.
    private func frame() -> (bytes: [UInt8], state: (UInt64, UInt64, Int)) {
        let (body, generation) = document.current()
        let (stores, totals) = document.storeTotals()
        let subscribers = registry.count
        sequence += 1
        var data = Array(#"{"health":"#.utf8)
        data += body
        data += Array(#","stores":"#.utf8)
        stores.write(into: &data)
        data += Array(",\"subscribers\":\(subscribers)}".utf8)
        let bytes = SSEEvent(id: String(sequence), event: "health", data: String(decoding: data, as: UTF8.self)).encoded
        return (bytes, (generation, totals, subscribers))
    }

    private func stopTimer() {
        timer?.close()
        timer = nil
    }
}
