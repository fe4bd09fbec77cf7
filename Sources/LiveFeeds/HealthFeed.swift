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
        _ = s.send(frame(Snapshot(document, registry)), events: 1)
        if timer == nil {
            let t = LoopTimer(loop: registry.loop)
            t.start(timeout: interval, repeat: interval) { [weak self] in self?.tick() }
            t.unref()   // never what keeps the loop running
            timer = t
        }
    }

    private func tick() {
        guard !members.isEmpty else { return stopTimer() }
        let now = Snapshot(document, registry)
        guard now.state != shown else { return }
        shown = now.state
        let bytes = frame(now)
        for s in members.values { _ = s.send(bytes, events: 1) }
    }

    /// Ends the feed (shutdown): the timer stops; the registry closes the streams.
    func close() {
        stopTimer()
        members = [:]
    }

    /// What a frame shows, gathered once: the document, the stores' totals, the subscribers.
    private struct Snapshot {
        let body: [UInt8]
        let stores: JSONValue
        let subscribers: Int
        /// Changes whenever any of it does (the document's generation, the totals' sum).
        let state: (UInt64, UInt64, Int)

        init(_ document: HealthDocument, _ registry: SubscriberRegistry) {
            let (body, generation) = document.current()
            let (stores, totals) = document.storeTotals()
            self.body = body
            self.stores = stores
            subscribers = registry.count
            state = (generation, totals, subscribers)
        }
    }

    /// One `health` event of `snapshot`.
    private func frame(_ snapshot: Snapshot) -> [UInt8] {
        sequence += 1
        var data = Array(#"{"health":"#.utf8)
        data += snapshot.body
        data += Array(#","stores":"#.utf8)
        snapshot.stores.write(into: &data)
        data += Array(",\"subscribers\":\(snapshot.subscribers)}".utf8)
        return SSEEvent(id: String(sequence), event: "health", data: String(decoding: data, as: UTF8.self)).encoded
    }

    private func stopTimer() {
        timer?.close()
        timer = nil
    }
}
