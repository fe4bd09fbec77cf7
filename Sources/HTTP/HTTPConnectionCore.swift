/// Per-connection behaviour knobs (from `HTTPServerConfiguration`).
struct HTTPConnectionSettings {
    var limits = HTTPParserLimits()
    /// The whole request head must arrive within this many ms of its first byte
    /// (for the first request: of the accept). Slowloris defence.
    var headerTimeout: UInt64 = 10_000
    /// An idle keep-alive connection is closed after this.
    var idleTimeout: UInt64 = 60_000
    /// A request body must arrive completely within this many ms of the end of its head,
    /// however steadily it trickles (slow-body defence); answered with 408.
    var bodyTimeout: UInt64 = 30_000
    /// Stop reading while more than this many response bytes wait for the kernel…
    var writeHighWater = 1 << 20
    /// …and resume once at most this many are left.
    var writeLowWater = 256 << 10
    /// At most this many requests of one connection are being answered at once;
    /// further pipelined requests wait in the parser (and reading pauses).
    var maxPipelined = 64
}

/// The protocol logic of one HTTP/1.1 connection, as a value-type state machine.
///
/// The I/O driver (`HTTPConnection`) feeds it bytes, handler answers, write-queue
/// sizes and clock ticks, and carries out what it asks for: dispatch the requests
/// `nextRequest` returns, write `output`, read or not (`wantsRead`), close when
/// `phase` says so. Responses leave strictly in request order whatever order the
/// handlers answer in. Nothing here does I/O, so it is tested without sockets.
struct HTTPConnectionCore {
    enum SlotState {
        /// Head parsed, body still arriving; `continuePending`: owes a 100 Continue.
        case awaitingBody(continuePending: Bool)
        /// Dispatched to a handler, no answer yet.
        case waiting
        case ready(HTTPResponse)
        /// Became a stream (at most one, always the last slot).
        case streaming
    }

    struct Slot {
        var state: SlotState
        let isHEAD: Bool
        let keepAlive: Bool
        let version: HTTPVersion
    }

    enum Phase: Equatable {
        /// Serving requests.
        case open
        /// The last bytes are in `output`; write them, then shut down and close.
        case closing
    }

    enum DeadlineKind: Equatable { case none, header, body, idle }

    /// What a clock tick asks the driver to do.
    enum TickAction: Equatable {
        case none
        /// Close at once, nothing to say (idle connection, stalled body).
        case close
        /// A 408 is in `output` and `phase == .closing`: write it, then close.
        case flushAndClose
    }

    let settings: HTTPConnectionSettings
    private(set) var parser: HTTPRequestParser
    /// Requests in flight, oldest first; `slots[i]` has sequence `firstSequence + i`.
    private(set) var slots: [Slot] = []
    private(set) var firstSequence = 0
    private(set) var nextSequence = 0
    /// Bytes to write next, in order. The driver writes and clears it.
    var output: [UInt8] = []
    private(set) var phase = Phase.open
    /// No more requests are read: a terminal parse error, `Connection: close`,
    /// a stream, server drain or the peer's EOF.
    private(set) var stopParsing = false
    /// The server is shutting down: finish what is in flight, then close.
    private(set) var draining = false
    /// The peer finished sending (EOF): answer what is in flight, then close.
    private(set) var peerClosed = false
    private(set) var backpressured = false
    /// The socket's write queue as last reported by the driver.
    private(set) var writeQueueBytes = 0
    private(set) var deadlineKind = DeadlineKind.header
    private(set) var deadline: UInt64
    private var servedAny = false
    /// Bytes of a request not yet complete may be buffered. (The parser's
    /// `bufferedByteCount` drops to 0 once it has consumed head lines into its
    /// request in progress, so it cannot tell this alone.)
    private var pendingInput = false
    /// Stream state (one stream per connection, in the last slot).
    private var streamHead: HTTPResponse?
    private var streamPending: [UInt8] = []
    private(set) var streamFinished = false
    /// When the connection last became idle (for memory trimming).
    private(set) var idleSince: UInt64 = 0

    init(settings: HTTPConnectionSettings, now: UInt64) {
        self.settings = settings
        self.parser = HTTPRequestParser(limits: settings.limits)
        self.deadline = now &+ settings.headerTimeout
        self.idleSince = now
    }

    var isStreaming: Bool {
        if let last = slots.last, case .streaming = last.state { return true }
        return false
    }

    /// Nothing in flight and nothing buffered: safe to close without losing anything.
    var isIdle: Bool { slots.isEmpty && !pendingInput && output.isEmpty }

    /// The newest request's head is parsed but its body is still arriving.
    private var lastAwaitsBody: Bool {
        if let last = slots.last, case .awaitingBody = last.state { return true }
        return false
    }

    /// Whether a new request may be taken from the parser: under the pipelining limit and
    /// not backpressured. Output not yet handed to the socket counts against the high-water
    /// mark too, so one read full of pipelined requests cannot build an unbounded batch.
    private var mayStartRequest: Bool {
        !backpressured && slots.count < settings.maxPipelined && output.count + writeQueueBytes <= settings.writeHighWater
    }

    /// Whether the driver should be reading from the socket now.
    var wantsRead: Bool {
        guard phase == .open, !backpressured else { return false }
        if isStreaming { return true } // only to notice the client going away
        // A body already under way is always read to its end (even while draining).
        return (!stopParsing && slots.count < settings.maxPipelined) || lastAwaitsBody
    }

    // MARK: Input

    /// Buffers received bytes (ignored once no more requests are read).
    mutating func receive<C: Collection<UInt8>>(_ bytes: C, now: UInt64) {
        guard phase == .open, !stopParsing || lastAwaitsBody else { return }
        parser.append(bytes)
        if !bytes.isEmpty { pendingInput = true }
    }

    /// The next complete request to dispatch, with its sequence number, or nil.
    mutating func nextRequest(now: UInt64) -> (sequence: Int, request: HTTPRequest)? {
        defer { refreshDeadline(now: now) }
        while phase == .open && ((!stopParsing && mayStartRequest) || lastAwaitsBody) {
            guard let event = parser.next() else { return nil }
            switch event {
            case .head(let head):
                slots.append(Slot(state: .awaitingBody(continuePending: head.expectsContinue && head.version == .http1_1),
                                  isHEAD: head.method == "HEAD", keepAlive: head.keepAlive, version: head.version))
                nextSequence += 1
                deadlineKind = .body
                deadline = now &+ settings.bodyTimeout
            case .request(let request):
                if let last = slots.indices.last, case .awaitingBody = slots[last].state {
                    slots[last].state = .waiting
                } else {
                    slots.append(Slot(state: .waiting, isHEAD: request.head.method == "HEAD",
                                      keepAlive: request.head.keepAlive, version: request.head.version))
                    nextSequence += 1
                }
                if !request.head.keepAlive { stopParsing = true }
                servedAny = true
                pendingInput = parser.bufferedByteCount > 0
                return (nextSequence - 1, request)
            case .error(let error):
                let response = Problem.from(error).response
                let slot = Slot(state: .ready(response), isHEAD: false, keepAlive: false, version: .http1_1)
                if let last = slots.indices.last, case .awaitingBody = slots[last].state {
                    slots[last] = slot
                } else {
                    slots.append(slot)
                    nextSequence += 1
                }
                stopParsing = true
                return nil
            }
        }
        return nil
    }

    /// A handler's answer for `sequence`. Late or duplicate answers are ignored.
    mutating func respond(sequence: Int, response: HTTPResponse) {
        let i = sequence - firstSequence
        guard slots.indices.contains(i), case .waiting = slots[i].state else { return }
        slots[i].state = .ready(response)
    }

    /// Turns the exchange `sequence` into a stream with `head`. False if it cannot be.
    mutating func startStream(sequence: Int, head: HTTPResponse) -> Bool {
        let i = sequence - firstSequence
        guard phase == .open, i == slots.count - 1, case .waiting = slots[i].state else { return false }
        slots[i].state = .streaming
        streamHead = head
        stopParsing = true
        return true
    }

    mutating func streamWrite(_ bytes: [UInt8]) {
        guard isStreaming, !streamFinished else { return }
        if slots.count == 1 && streamHead == nil { output.append(contentsOf: bytes) } else { streamPending.append(contentsOf: bytes) }
    }

    /// Stream bytes may go straight to the socket, bypassing `output`: the head is out, the
    /// stream is the only exchange left and nothing is waiting to be written before them.
    var streamTakesDirectWrites: Bool {
        phase == .open && isStreaming && !streamFinished && slots.count == 1 && streamHead == nil && output.isEmpty
    }

    mutating func streamFinish() {
        guard isStreaming else { return }
        streamFinished = true
    }

    /// The write queue (bytes not yet taken by the kernel) changed.
    mutating func writeQueueChanged(_ bytes: Int) {
        writeQueueBytes = bytes
        if backpressured {
            if bytes <= settings.writeLowWater { backpressured = false }
        } else if bytes > settings.writeHighWater {
            backpressured = true
        }
    }

    /// The peer sent EOF: finish what is in flight, then close.
    mutating func peerFinished() {
        peerClosed = true
        stopParsing = true
        // A request whose body was cut off can never be answered.
        if lastAwaitsBody {
            slots.removeLast()
            nextSequence -= 1
        }
    }

    /// Server shutdown: stop taking requests; answered in-flight ones close the connection.
    mutating func beginDrain() {
        draining = true
        stopParsing = true
        if isStreaming { streamFinished = true }
    }

    // MARK: Output

    /// Moves every answer that is next in order into `output` (serialized), emits a
    /// pending 100 Continue, and decides when to close. Returns true if a slot was freed.
    @discardableResult
    mutating func flush(dateLine: [UInt8], now: UInt64) -> Bool {
        guard phase == .open else { return false }
        var freed = false
        loop: while !slots.isEmpty {
            switch slots[0].state {
            case .awaitingBody(let continuePending):
                if continuePending {
                    output.append(contentsOf: HTTPResponseSerializer.continueResponse)
                    slots[0].state = .awaitingBody(continuePending: false)
                }
                break loop
            case .waiting:
                break loop
            case .ready(let response):
                let slot = slots[0]
                let close = !slot.keepAlive || HTTPResponseSerializer.requestsClose(response)
                    || ((draining || peerClosed) && slots.count == 1)
                HTTPResponseSerializer.serialize(response, into: &output, dateLine: dateLine, close: close,
                                                 keepAlive10: slot.version == .http1_0, headRequest: slot.isHEAD)
                slots.removeFirst()
                firstSequence += 1
                freed = true
                if close {
                    discardRemaining()
                    phase = .closing
                    break loop
                }
            case .streaming:
                if let head = streamHead {
                    HTTPResponseSerializer.serialize(head, into: &output, dateLine: dateLine, close: true, keepAlive10: false,
                                                     headRequest: slots[0].isHEAD, framing: .untilClose)
                    streamHead = nil
                    if slots[0].isHEAD { streamFinished = true }
                }
                if !slots[0].isHEAD { output.append(contentsOf: streamPending) }
                streamPending = []
                if streamFinished {
                    discardRemaining()
                    phase = .closing
                }
                break loop
            }
        }
        if phase == .open && slots.isEmpty && (draining || peerClosed) { phase = .closing }
        refreshDeadline(now: now)
        return freed
    }

    private mutating func discardRemaining() {
        firstSequence += slots.count
        slots.removeAll()
        stopParsing = true
    }

    // MARK: Time

    private mutating func refreshDeadline(now: UInt64) {
        guard phase == .open else { deadlineKind = .none; return }
        if slots.isEmpty {
            if pendingInput || !servedAny {
                if deadlineKind != .header { deadlineKind = .header; deadline = now &+ settings.headerTimeout }
            } else if deadlineKind != .idle {
                deadlineKind = .idle
                deadline = now &+ settings.idleTimeout
                idleSince = now
            }
        } else if let last = slots.last, case .awaitingBody = last.state {
            if deadlineKind != .body { deadlineKind = .body; deadline = now &+ settings.bodyTimeout }
        } else {
            deadlineKind = .none
        }
    }

    /// Checks the current deadline.
    mutating func tick(now: UInt64, dateLine: [UInt8] = []) -> TickAction {
        guard phase == .open, deadlineKind != .none, now >= deadline else { return .none }
        switch deadlineKind {
        case .header where pendingInput, .body where slots.count == 1:
            // Nothing earlier is waiting to be answered, so the 408 goes out in order.
            let what = deadlineKind == .header ? "request head" : "request body"
            var problem = Problem(status: 408, detail: "The \(what) did not arrive in time.")
            problem.headers = HTTPHeaders()
            HTTPResponseSerializer.serialize(problem.response, into: &output, dateLine: dateLine, close: true,
                                             keepAlive10: false, headRequest: false)
            phase = .closing
            stopParsing = true
            slots.removeAll() // the body that never came will not be answered otherwise
            return .flushAndClose
        default:
            stopParsing = true
            phase = .closing
            return .close
        }
    }

    /// Drops buffers an idle connection no longer needs (keeps idle memory small).
    mutating func trimIfIdle() {
        guard isIdle, phase == .open else { return }
        parser = HTTPRequestParser(limits: settings.limits)
        output = []
    }
}
