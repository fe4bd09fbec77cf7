import UV

/// The I/O driver of one connection: carries out what `HTTPConnectionCore` decides.
/// Loop-confined. Owned by its `HTTPServer` from accept until the close callback.
final class HTTPConnection: ExchangeSink {
    let tcp: TCPConnection
    private(set) var core: HTTPConnectionCore
    let server: HTTPServer
    /// Position in the server's connection list (for O(1) removal).
    var listIndex = -1
    /// Refused over the connection cap: only a canned 503 is written.
    let isRejected: Bool
    private var stream: ResponseStream?
    private var pumping = false
    private var needsPump = false
    private var shuttingDown = false
    private var lingerDeadline: UInt64 = .max
    private(set) var isClosed = false
    private lazy var afterWrite: (UVError?) -> Void = { [weak self] error in self?.writeCompleted(error) }

    init(tcp: TCPConnection, server: HTTPServer, settings: HTTPConnectionSettings, rejectWith canned: [UInt8]? = nil) {
        self.tcp = tcp
        self.server = server
        self.core = HTTPConnectionCore(settings: settings, now: tcp.loop.now)
        self.isRejected = canned != nil
        if let canned {
            core.output = canned
            core.beginDrain()
            core.flush(dateLine: [], now: tcp.loop.now)
        }
    }

    func start() {
        // Strong captures: the TCP handle drops these closures when it closes.
        tcp.startReading(onData: { chunk in self.received(chunk) },
                         onEnd: { error in self.readEnded(error) })
        if isRejected { pump() }
    }

    private func received(_ chunk: ReadChunk) {
        if shuttingDown { return } // lingering close: discard
        core.receive(chunk, now: tcp.loop.now)
        pump()
    }

    private func readEnded(_ error: UVError) {
        if shuttingDown || error != .eof || core.isStreaming || core.isIdle {
            closeNow(reason: .clientGone)
            return
        }
        // Half-close: answer what is in flight, then close.
        core.peerFinished()
        pump()
    }

    /// Runs the state machine until it settles, then does the I/O it asks for.
    func pump() {
        guard !isClosed, !shuttingDown else { return }
        if pumping { needsPump = true; return }
        pumping = true
        while true {
            var progressed = true
            while progressed || needsPump {
                needsPump = false
                let now = tcp.loop.now
                while let (sequence, request) = core.nextRequest(now: now) {
                    server.dispatch(request, sequence: sequence, on: self)
                }
                progressed = core.flush(dateLine: server.dateLine(), now: now)
            }
            if core.output.isEmpty { break }
            // One write per batch of pipelined responses.
            tcp.write(core.output, completion: afterWrite)
            // Keep a small buffer for the next batch, but never a large one: an event-stream
            // subscriber would otherwise hold its largest burst for its whole life.
            if core.output.capacity > 16 << 10 { core.output = [] } else { core.output.removeAll(keepingCapacity: true) }
            core.writeQueueChanged(tcp.writeQueueSize)
            // More buffered requests may now be dispatchable (the batch was capped).
            if core.phase != .open || core.backpressured || isClosed { break }
        }
        pumping = false
        if core.phase == .closing {
            beginShutdown()
        } else if core.wantsRead {
            if !tcp.isReading { tcp.startReading() }
        } else if tcp.isReading {
            tcp.stopReading()
        }
    }

    private func writeCompleted(_ error: UVError?) {
        guard !isClosed else { return }
        if let error, error != .cancelled {
            closeNow(reason: .clientGone)
            return
        }
        let wasBackpressured = core.backpressured
        core.writeQueueChanged(tcp.writeQueueSize)
        if wasBackpressured && !core.backpressured { pump() }
    }

    /// Graceful close: FIN after the queued bytes, then read (and discard) until the
    /// peer's EOF or a short linger, so unread request bytes do not turn into an RST
    /// that could destroy the response before the client read it.
    private func beginShutdown() {
        guard !shuttingDown, !isClosed else { return }
        shuttingDown = true
        stream?.closed(core.draining ? .serverShutdown : .finished)
        stream = nil
        lingerDeadline = tcp.loop.now &+ 2_000
        tcp.shutdown { [weak self] error in
            guard let self, !self.isClosed else { return }
            if error != nil { self.closeNow(reason: .clientGone); return }
            if !self.tcp.isReading { self.tcp.startReading() }
        }
    }

    /// Closes the socket now (pending writes are cancelled).
    func closeNow(reason: ResponseStream.CloseReason) {
        guard !isClosed else { return }
        isClosed = true
        stream?.closed(reason)
        stream = nil
        tcp.close { [self] in server.connectionClosed(self) }
    }

    /// Periodic check from the server's sweep timer.
    func tick(now: UInt64) {
        guard !isClosed else { return }
        if shuttingDown {
            if now >= lingerDeadline { closeNow(reason: .clientGone) }
            return
        }
        switch core.tick(now: now, dateLine: server.dateLine()) {
        case .none:
            if core.deadlineKind == .idle && now &- core.idleSince > 1_000 { core.trimIfIdle() }
        case .close:
            closeNow(reason: .clientGone)
        case .flushAndClose:
            pump()
        }
    }

    /// Server shutdown: idle connections close now, busy ones after their in-flight answers.
    func drain() {
        guard !isClosed else { return }
        if shuttingDown { closeNow(reason: .serverShutdown); return } // lingering: done
        let idle = core.slots.isEmpty
        core.beginDrain()
        if idle { closeNow(reason: .serverShutdown) } else { pump() }
    }

    var isBusy: Bool { !core.slots.isEmpty }

    // MARK: ExchangeSink

    func complete(sequence: Int, response: HTTPResponse) {
        guard !isClosed else { return }
        core.respond(sequence: sequence, response: response)
        pump()
    }

    func startStream(sequence: Int, head: HTTPResponse, stream: ResponseStream) -> Bool {
        guard !isClosed, !shuttingDown, core.startStream(sequence: sequence, head: head) else { return false }
        self.stream = stream
        pump()
        return true
    }

    func streamWrite(sequence: Int, bytes: [UInt8]) {
        guard !isClosed, !shuttingDown else { return }
        core.streamWrite(bytes)
        pump()
    }

    func streamFinish(sequence: Int) {
        guard !isClosed else { return }
        stream = nil // the stream reports `.finished` itself
        core.streamFinish()
        pump()
    }

    func streamFanOutWriter(sequence: Int, bytes: [UInt8]) -> FanOutWrite? {
        guard !isClosed, !shuttingDown, !pumping, core.streamTakesDirectWrites else { return nil }
        return tcp.fanOutWriter(for: bytes)
    }

    func streamFanOutWritten(sequence: Int, bytes: [UInt8], written: Int) {
        guard !isClosed, !shuttingDown, written < bytes.count else { return }
        // The rest (or, after an error, all of it: the ordinary write meets the error and
        // closes) goes through `output` and the write queue, in order.
        streamWrite(sequence: sequence, bytes: written > 0 ? Array(bytes[written...]) : bytes)
    }

    var pendingWriteBytes: Int { isClosed ? 0 : tcp.writeQueueSize + core.output.count }

    func abortStream(reason: ResponseStream.CloseReason) { closeNow(reason: reason) }
}
