import API
import CQRS
import EventStore
import Foundation
import HTTP
import UV

/// `GET /streams/public`: the public log as server-sent events, for every subscriber from
/// ONE shared store subscription (fan-out), not one subscription per connection.
///
/// Why shared: with 10,000 subscribers, per-connection subscriptions would make the store's
/// writer thread filter and hand every batch over 10,000 times (a lock and a closure each),
/// and every subscriber would encode the same envelope again. Shared: each event is decoded and
/// framed once; a batch is one byte buffer written once per subscriber (one syscall, the
/// syscalls spread over `LiveFeedSettings.fanOutThreads` threads), and subscribers with the
/// same `types=` filter share one filtered buffer.
///
/// Resume (`Last-Event-ID` header, else `lastEventId` query parameter): the subscriber replays
/// from the store on the loop, in small chunks paced by its outbound buffer, up to
/// `flushedPosition` (the last event already fanned out), then joins the live set, which from
/// then on receives exactly the events after `flushedPosition`. Both happen on the loop thread,
/// so no event can slip between replay and live (no gap) or be sent by both (no duplicate).
final class PublicLogFeed {
    /// One `/streams/public` subscriber.
    final class Member {
        let subscriber: Subscriber
        /// nil: every type.
        let types: Set<String>?
        /// Key of `types` for sharing filtered buffers.
        let filterKey: String
        /// Catch-up: last position replayed. Live: events at or below this are dropped.
        var cursor: UInt64
        var live = false
        /// A catch-up read is in flight.
        var reading = false

        init(subscriber: Subscriber, types: Set<String>?, cursor: UInt64) {
            self.subscriber = subscriber
            self.types = types
            self.filterKey = types.map { $0.sorted().joined(separator: ",") } ?? ""
            self.cursor = cursor
        }
    }

    /// One framed event of a batch.
    private struct Frame {
        var position: UInt64
        var type: String
        var bytes: [UInt8]
        /// When the event was committed (for the delivery-delay histogram).
        var committed: Date
    }

    private let store: EventStore
    private let loop: EventLoop
    private let executor: CompletionExecutor
    private let registry: SubscriberRegistry
    private var subscription: Subscription?
    /// Position of the last event fanned out to the live set.
    private(set) var flushedPosition: UInt64 = 0
    private var pending: [Frame] = []
    private var pendingThrough: UInt64 = 0
    private var live: [ObjectIdentifier: Member] = [:]
    private var catchingUp: [ObjectIdentifier: Member] = [:]
    private var flushTimer: LoopTimer?
    private var catchUpTimer: LoopTimer?
    private var lastFlushAt: UInt64 = 0
    private var flushQueued = false
    private var closed = false
    /// Events replayed per store read during catch-up, and bytes per write.
    static let catchUpEvents = 64
    static let catchUpWriteBytes = 8 << 10
    /// Fan-out write budget per fan-out thread, used to size batches: a batch write to a
    /// socket costs a few µs of CPU (`scripts/loadtest sse` measures it; bench/REPORT.md,
    /// History), so 70 per ms leaves room for everything else.
    static let writesPerMillisecond = 70.0

    init(store: EventStore, loop: EventLoop, executor: CompletionExecutor, registry: SubscriberRegistry) {
        self.store = store
        self.loop = loop
        self.executor = executor
        self.registry = registry
    }

    /// Subscribes to the public log from its current end (the live tail).
    func start() {
        guard subscription == nil, !closed else { return }
        flushedPosition = store.lastPosition.value
        pendingThrough = flushedPosition
        subscription = store.subscribe(from: LogPosition(flushedPosition), filter: nil, executor: executor) { [weak self] events in
            self?.received(events)
        }
    }

    /// Stops the store subscription and the timers (streams are ended by the registry).
    func close() {
        closed = true
        subscription?.cancel()
        subscription = nil
        flushTimer?.close()
        flushTimer = nil
        catchUpTimer?.close()
        catchUpTimer = nil
        live = [:]
        catchingUp = [:]
    }

    var subscriberCount: Int { live.count + catchingUp.count }

    // MARK: Requests

    /// Handles `GET /streams/public?types=&lastEventId=`.
    func handle(_ context: RequestContext, _ responder: Responder) {
        let types: Set<String>?
        let resume: UInt64?
        do {
            types = try Self.types(QueryArguments(context.query.items), max: registry.settings.maxSelections)
            resume = try Self.resumePosition(context, head: store.lastPosition.value)
        } catch {
            return responder.respond(error: error)
        }
        if subscription == nil { start() }
        guard let subscriber = registry.open(context, responder, kind: .publicLog) else { return }
        let member = Member(subscriber: subscriber, types: types, cursor: resume ?? flushedPosition)
        let key = ObjectIdentifier(member)
        subscriber.onEnd = { [weak self] in
            self?.live[key] = nil
            self?.catchingUp[key] = nil
        }
        if member.cursor >= flushedPosition {
            member.live = true
            live[key] = member
        } else {
            catchingUp[key] = member
            scheduleCatchUp(after: 0)
        }
    }

    /// `types=a,b&types=c` → the set; nil when absent.
    static func types(_ q: QueryArguments, max: Int) throws -> Set<String>? {
        let list = q.all("types").flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !list.isEmpty else { return nil }
        guard list.count <= max else { throw QueryError(parameter: "types", message: "may name at most \(max) types") }
        return Set(list)
    }

    /// The position to resume after: the `Last-Event-ID` header (what a browser sends when it
    /// reconnects) wins over the `lastEventId` query parameter (fixed in the URL, so older).
    /// nil: start live. Non-numeric or beyond the log's end: 400.
    static func resumePosition(_ context: RequestContext, head: UInt64) throws -> UInt64? {
        let header = context.head.headers["Last-Event-ID"].map { $0.trimmingCharacters(in: .whitespaces) }
        let text = (header?.isEmpty == false ? header : nil) ?? context.query["lastEventId"]
        guard let text, !text.isEmpty else { return nil }
        guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = UInt64(text) else {
            throw Problem(status: 400, type: ProblemType.uri("bad-last-event-id"), title: "Bad Last-Event-ID",
                          detail: "Last-Event-ID must be a public-log position (a non-negative integer) from this stream's id: field.")
        }
        guard value <= head else {
            throw Problem(status: 400, type: ProblemType.uri("bad-last-event-id"), title: "Bad Last-Event-ID",
                          detail: "Last-Event-ID \(value) is beyond the end of the public log (\(head)); it did not come from this server's log.")
        }
        return value
    }

    // MARK: Live fan-out

    private func received(_ events: [RecordedEvent]) {
        guard !closed else { return }
        if live.isEmpty && pending.isEmpty, let last = events.last {
            // Nobody to fan out to: `flush` would drop the frames, so do not build them.
            // Catching-up subscribers replay from the store up to `flushedPosition`.
            pendingThrough = max(pendingThrough, last.position.value)
            flushedPosition = max(flushedPosition, pendingThrough)
            return
        }
        for e in events where e.position.value > pendingThrough {
            pendingThrough = e.position.value
            guard let frame = Self.frame(e) else { continue }
            pending.append(Frame(position: e.position.value, type: e.type, bytes: frame, committed: e.timestamp))
        }
        if pending.isEmpty { flushedPosition = max(flushedPosition, pendingThrough); return }
        // Batch only as much as the subscriber count needs: the fan-out cost is one write
        // (syscall) per subscriber per batch, so few subscribers get (nearly) every event at
        // once and many get bigger batches, up to the configured interval.
        let cap = registry.settings.flushIntervalMilliseconds
        let budget = Self.writesPerMillisecond * Double(registry.settings.effectiveFanOutThreads)
        let interval = cap == 0 ? 0 : UInt64(min(cap, Double(live.count) / budget).rounded(.up))
        let now = loop.now
        if cap == 0 {
            // Adaptive: one flush per loop wake-up, after every delivery queued so far. The
            // busier the loop, the more a batch holds (fewer writes per event).
            guard !flushQueued else { return }
            flushQueued = true
            loop.execute { [weak self] in
                self?.flushQueued = false
                self?.flush()
            }
        } else if interval == 0 || now &- lastFlushAt >= interval {
            flush()
        } else if flushTimer?.isActive != true {
            if flushTimer == nil { flushTimer = LoopTimer(loop: loop); flushTimer?.unref() }
            flushTimer?.start(timeout: lastFlushAt &+ interval &- now) { [weak self] in self?.flush() }
        }
    }

    /// Writes the pending batch to every live member: one buffer per distinct filter.
    private func flush() {
        guard !closed else { return }
        lastFlushAt = loop.now
        let batch = pending
        pending = []
        let through = pendingThrough
        defer { flushedPosition = through }
        guard !batch.isEmpty, !live.isEmpty else { return }
        var shared: [String: (bytes: [UInt8], count: Int)] = [:]
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(live.count)
        for member in live.values {
            let body: (bytes: [UInt8], count: Int)
            if member.cursor > flushedPosition {
                // Resumed beyond what had been fanned out: drop what it already has.
                body = Self.concatenate(batch, types: member.types, after: member.cursor)
            } else if let cached = shared[member.filterKey] {
                body = cached
            } else {
                body = Self.concatenate(batch, types: member.types, after: 0)
                shared[member.filterKey] = body
            }
            if body.count > 0 { deliveries.append(Delivery(subscriber: member.subscriber, bytes: body.bytes, events: body.count)) }
        }
        let now = Date()
        for f in batch { registry.deliveryDelay.observe(max(0, now.timeIntervalSince(f.committed))) }
        registry.fanOut(deliveries)
    }

    private static func concatenate(_ batch: [Frame], types: Set<String>?, after: UInt64) -> (bytes: [UInt8], count: Int) {
        var out: [UInt8] = []
        var n = 0
        for f in batch where f.position > after && (types?.contains(f.type) ?? true) {
            out += f.bytes
            n += 1
        }
        return (out, n)
    }

    /// `id:` the public-log position, `event:` the public type, `data:` the envelope JSON.
    static func frame(_ e: RecordedEvent) -> [UInt8]? {
        guard let envelope = PublicEventEnvelope(e) else { return nil }
        return SSEEvent(id: String(e.position.value), event: e.type,
                        data: String(decoding: envelope.jsonBytes(), as: UTF8.self)).encoded
    }

    // MARK: Catch-up

    private func scheduleCatchUp(after millis: UInt64) {
        guard !closed else { return }
        if catchUpTimer == nil { catchUpTimer = LoopTimer(loop: loop); catchUpTimer?.unref() }
        guard let t = catchUpTimer, !t.isActive else { return }
        // A timer, not `loop.execute`: the loop's work queue runs until empty, so re-queuing
        // there would starve I/O; a 0 ms timer runs once per loop iteration.
        t.start(timeout: millis) { [weak self] in self?.catchUpRound() }
    }

    /// One chunk for each catching-up member whose buffer has room and no read in flight (the
    /// store reads off the loop); members that reach `flushedPosition` join the live set.
    private func catchUpRound() {
        var progressed = false
        for (key, member) in catchingUp {
            guard member.subscriber.isOpen else { catchingUp[key] = nil; continue }
            if member.reading { continue }
            if member.subscriber.pendingBytes > registry.settings.maxBufferedBytes / 2 { continue }
            progressed = true
            member.reading = true
            // Everything fanned out so far is committed: the read sees at least up to here.
            let issuedAt = flushedPosition
            store.readAll(from: LogPosition(member.cursor), maxCount: Self.catchUpEvents,
                          filter: member.types.map { EventFilter(eventTypes: $0) }) { [weak self] read in
                member.reading = false
                self?.caughtUp(member, key: key, read, issuedAt: issuedAt)
            }
        }
        if !catchingUp.isEmpty && !progressed { scheduleCatchUp(after: 10) }
    }

    /// A catch-up read is back: sends what it holds up to `flushedPosition`, joins the live set
    /// there, or goes on with the next round. Live events went on being fanned out while the
    /// store read, so the seam is where the read and the live set meet: the read covered every
    /// matching event up to `issuedAt` (its start), or up to any event it returned beyond the
    /// fanned-out position; later ones come live. No gap, no duplicate.
    private func caughtUp(_ member: Member, key: ObjectIdentifier, _ read: Result<[RecordedEvent], EventStoreError>,
                          issuedAt: UInt64) {
        guard !closed, catchingUp[key] === member else { return }
        guard member.subscriber.isOpen else { catchingUp[key] = nil; return }
        let events: [RecordedEvent]
        switch read {
        case .success(let e): events = e
        case .failure:
            // Cannot replay from here: say so and end (never a silent gap).
            let note = SSEEvent(event: "resume-failed",
                                data: #"{"lastEventId":\#(member.cursor),"detail":"the public log cannot be replayed from this position"}"#)
            member.subscriber.send(note.encoded)
            member.subscriber.finish()
            catchingUp[key] = nil
            return
        }
        let target = flushedPosition
        var out: [UInt8] = []
        var n = 0
        var reached = false
        for e in events {
            if e.position.value > target { reached = true; break }
            member.cursor = e.position.value
            guard let frame = Self.frame(e) else { continue }
            out += frame
            n += 1
            if out.count >= Self.catchUpWriteBytes {
                guard member.subscriber.send(out, events: n) else { break }
                out = []
                n = 0
            }
        }
        if n > 0 { member.subscriber.send(out, events: n) }
        guard member.subscriber.isOpen else { catchingUp[key] = nil; return }
        // A short read found every matching event up to where it started.
        if !reached && events.count < Self.catchUpEvents { member.cursor = max(member.cursor, issuedAt) }
        if reached || member.cursor >= target {
            member.cursor = target
            member.live = true
            catchingUp[key] = nil
            live[key] = member
        }
        if !catchingUp.isEmpty { scheduleCatchUp(after: 0) }
    }
}
