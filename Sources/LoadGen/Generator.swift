import UV

/// An open-model HTTP load: requests are due at a constant rate whatever the server does, and
/// each one's latency is measured from when it was due, not from when a connection was free to
/// send it (the coordinated-omission correction of wrk2). A server that falls behind shows it
/// as latency, not as a lower offered rate. `rate == 0` is the closed model instead: every
/// connection sends its next request as soon as the last one is answered (wrk's flat out), with
/// latency from the send, to find the saturation rate with the same requests.
///
/// One libuv loop on the calling thread; a 1 ms timer makes requests due (the timer's
/// granularity delays a send by up to 1 ms after it is due, and that delay is counted in the
/// latency: `sendDelay` reports it).
final class Generator {
    struct Options {
        var address: SocketAddress
        var templates: [RequestTemplate]
        var rate: Double
        var warmup: Double
        var duration: Double
        var connections: Int
        var run: String
        var seed: UInt64
        /// Seconds to wait for answers after the last request was due.
        var drain: Double = 10
    }

    struct Report {
        var offeredRate: Double
        var measuredSeconds: Double
        var due = 0
        var completed = 0
        var statuses: [Int: Int] = [:]
        var errors = 0
        var unanswered = 0
        var latenciesMicros: [UInt32] = []
        /// When each answered request was due, in ms after the measured window began (same order).
        var dueOffsetsMillis: [UInt32] = []
        var sendDelaysMicros: [UInt32] = []
        var firstError: String?
    }

    private final class Connection {
        var tcp: TCPConnection?
        var reader = ResponseReader()
        /// When the request on it was due and when it was sent (uv_hrtime ns); nil: idle.
        var dueAt: UInt64?
        var sentAt: UInt64 = 0
        var connecting = false
    }

    private let loop: EventLoop
    private let options: Options
    private let host: [UInt8]
    private let run: [UInt8]
    private var random: SplitMix
    private let pickTable: [Int]
    private var connections: [Connection] = []
    private var idle: [Int] = []
    /// Due and not yet sent: when each was due.
    private var waiting: [UInt64] = []
    private var waitingHead = 0
    private var sequence: UInt64 = 0
    private var issued: UInt64 = 0
    private var start: UInt64 = 0
    private var measureFrom: UInt64 = 0
    private var stopIssuingAt: UInt64 = 0
    private var drainUntil: UInt64 = 0
    private var timer: LoopTimer?
    private var finished = false
    private(set) var report: Report

    init(loop: EventLoop, options: Options) {
        self.loop = loop
        self.options = options
        host = Array(options.address.description.utf8)
        run = Array(options.run.utf8)
        random = SplitMix(state: options.seed)
        // Weighted choice by table: weights are small integers.
        pickTable = options.templates.indices.flatMap { i in Array(repeating: i, count: options.templates[i].weight) }
        report = Report(offeredRate: options.rate, measuredSeconds: options.duration)
        let expected = Int(min(options.rate * (options.duration + 1), 20_000_000))
        report.latenciesMicros.reserveCapacity(max(expected, 1 << 16))
    }

    /// Connects every connection, runs the load, and returns when it is over.
    func runToCompletion() -> Report {
        connections = (0..<options.connections).map { _ in Connection() }
        var connected = 0, failed = 0
        for (i, c) in connections.enumerated() {
            c.connecting = true
            TCPConnection.connect(loop: loop, to: options.address) { [self] result in
                c.connecting = false
                switch result {
                case .success(let tcp):
                    attach(tcp, to: i)
                    connected += 1
                case .failure(let e):
                    failed += 1
                    note("connect to \(options.address): \(e)")
                }
                if connected + failed == options.connections { begin(connected: connected) }
            }
        }
        _ = loop.run()
        return report
    }

    private func attach(_ tcp: TCPConnection, to index: Int) {
        let c = connections[index]
        tcp.setNoDelay(true)
        c.tcp = tcp
        c.reader = ResponseReader()
        tcp.startReading(onData: { [weak self] chunk in self?.received(chunk, on: index) },
                         onEnd: { [weak self] error in self?.lost(index, "connection ended: \(error)") })
    }

    private func begin(connected: Int) {
        guard connected > 0 else {
            finished = true
            return
        }
        start = EventLoop.hrtime
        measureFrom = start + UInt64(options.warmup * 1e9)
        stopIssuingAt = measureFrom + UInt64(options.duration * 1e9)
        drainUntil = stopIssuingAt + UInt64(options.drain * 1e9)
        for (i, c) in connections.enumerated() where c.tcp != nil { idle.append(i) }
        let t = LoopTimer(loop: loop)
        timer = t
        t.start(timeout: 1, repeat: 1) { [weak self] in self?.tick() }
        tick()
    }

    private func tick() {
        let now = EventLoop.hrtime
        if options.rate > 0 {
            // Every request due by now, at its due time.
            let until = min(now, stopIssuingAt)
            if until > start {
                let due = UInt64(Double(until - start) * options.rate / 1e9) + 1
                while issued < due {
                    waiting.append(start + UInt64(Double(issued) * 1e9 / options.rate))
                    issued += 1
                }
            }
        }
        dispatch(now: now)
        if now >= stopIssuingAt {
            let busy = connections.contains { $0.dueAt != nil }
            if (!busy && waitingHead == waiting.count) || now >= drainUntil { finish() }
        }
    }

    private func dispatch(now: UInt64) {
        if options.rate == 0 {
            // Closed model: every idle connection sends at once, until the end.
            while now < stopIssuingAt, let i = nextIdle() { send(on: i, dueAt: now, now: now) }
            return
        }
        while waitingHead < waiting.count, let i = nextIdle() {
            let due = waiting[waitingHead]
            waitingHead += 1
            send(on: i, dueAt: due, now: now)
        }
        if waitingHead > 1 << 16, waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }

    /// The connection idle longest (first in, first out): every connection stays in use, so
    /// none sits idle long enough for the server's keep-alive timeout to close it under a
    /// request about to be sent.
    private func nextIdle() -> Int? {
        idle.isEmpty ? nil : idle.removeFirst()
    }

    private func send(on index: Int, dueAt: UInt64, now: UInt64) {
        let c = connections[index]
        guard let tcp = c.tcp else { return }
        let template = options.templates[pickTable[Int(random.next() % UInt64(pickTable.count))]]
        let bytes = template.render(sequence: sequence, run: run, host: host, random: &random)
        sequence += 1
        c.dueAt = dueAt
        c.sentAt = now
        tcp.write(bytes) { [weak self] error in
            if let error { self?.lost(index, "write: \(error)") }
        }
    }

    private func received(_ chunk: ReadChunk, on index: Int) {
        let c = connections[index]
        var consumed = 0
        while consumed < chunk.count {
            guard let due = c.dueAt else { return lost(index, "bytes nobody asked for") }
            switch c.reader.feed(chunk, consumed: &consumed) {
            case .needMore:
                return
            case .error(let why):
                return lost(index, why)
            case .response(let status, let closes):
                let now = EventLoop.hrtime
                c.dueAt = nil
                record(due: due, sent: c.sentAt, now: now) { $0.statuses[status, default: 0] += 1 }
                if closes {
                    reconnect(index)
                } else if !finished {
                    idle.append(index)
                    dispatch(now: now)
                }
            }
        }
    }

    /// Counts an answer (or a failure) of a request due in the measured window.
    private func record(due: UInt64, sent: UInt64, now: UInt64, _ outcome: (inout Report) -> Void) {
        guard due >= measureFrom, due < stopIssuingAt else { return }
        report.completed += 1
        report.latenciesMicros.append(UInt32(min(UInt64(UInt32.max), (now - due) / 1000)))
        report.dueOffsetsMillis.append(UInt32((due - measureFrom) / 1_000_000))
        report.sendDelaysMicros.append(UInt32(min(UInt64(UInt32.max), (sent > due ? sent - due : 0) / 1000)))
        outcome(&report)
    }

    private func lost(_ index: Int, _ why: String) {
        let c = connections[index]
        note(why)
        if let due = c.dueAt {
            if due >= measureFrom, due < stopIssuingAt { report.errors += 1 }
            c.dueAt = nil
        }
        reconnect(index)
    }

    private func reconnect(_ index: Int) {
        let c = connections[index]
        c.tcp?.close()
        c.tcp = nil
        idle.removeAll { $0 == index }
        guard !finished, !c.connecting else { return }
        c.connecting = true
        TCPConnection.connect(loop: loop, to: options.address) { [weak self] result in
            guard let self else { return }
            c.connecting = false
            switch result {
            case .success(let tcp):
                if finished { return tcp.close() }
                attach(tcp, to: index)
                idle.append(index)
                dispatch(now: EventLoop.hrtime)
            case .failure(let e):
                note("reconnect: \(e)")
                // Try again on a later tick rather than spin.
                let t = LoopTimer(loop: loop)
                t.start(timeout: 100) { [weak self] in
                    t.close()
                    self?.reconnect(index)
                }
            }
        }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        if options.rate > 0 {
            // Requests due in the window and never answered.
            let windowDue = Int(Double(stopIssuingAt - measureFrom) * options.rate / 1e9)
            report.due = windowDue
            report.unanswered = max(0, windowDue - report.completed - report.errors)
        } else {
            report.due = report.completed + report.errors
        }
        timer?.close()
        timer = nil
        for c in connections { c.tcp?.close(); c.tcp = nil }
    }

    private func note(_ why: String) {
        if report.firstError == nil { report.firstError = why }
    }
}
