import Foundation
import UV

/// One PostgreSQL connection driven by the libuv loop, never blocking it: it connects with
/// `PQconnectStart`/`PQconnectPoll`, runs in non-blocking mode, and a `LoopPoll` on the
/// connection's socket says when to flush, read results and take notifications. Queries run
/// one at a time in the order sent; each completes on the loop.
///
/// When the connection fails, the query in flight and those waiting fail with
/// `connectionLost` (the owner decides what to resend) and the connection comes back by
/// itself, with exponential backoff and jitter; `onReady` runs after every (re)connect and
/// its setup statements. Loop-confined.
final class PGLoopConnection {
    typealias Completion = (Result<PGRows, PGError>) -> Void

    enum State: Equatable { case idle, connecting, ready, waitingToReconnect, closed }

    let name: String
    private let loop: EventLoop
    private let conninfo: String
    /// Statements run after each connect, before `onReady` (e.g. LISTEN).
    private let setup: [String]
    private(set) var state = State.idle
    /// Why the last connect or the connection failed (nil while it is fine).
    private(set) var lastError: PGError?

    var onReady: (() -> Void)?
    var onLost: ((PGError) -> Void)?
    var onNotification: ((String, String) -> Void)?

    private var conn: LibPQ.Connection?
    private var watcher: LoopPoll?
    private var watchedSocket: Int32 = -1
    private var connectTimer: LoopTimer?
    private var retryTimer: LoopTimer?
    private var attempt = 0
    private var queue: [(PGQuery, Completion)] = []
    private var inFlight: Completion?
    private var inFlightResult: Result<PGRows, PGError>?
    private var flushing = false

    /// Bounds of the reconnect backoff, and how long one connect may take (ms).
    var backoffMin: UInt64 = 50, backoffMax: UInt64 = 2_000, connectTimeout: UInt64 = 10_000

    init(name: String, loop: EventLoop, conninfo: String, setup: [String] = []) {
        self.name = name
        self.loop = loop
        self.conninfo = conninfo
        self.setup = setup
    }

    var isReady: Bool { state == .ready && setupLeft == 0 }
    var isBusy: Bool { inFlight != nil }
    var waiting: Int { queue.count }
    private var setupLeft = 0

    // MARK: Connecting

    func connect() {
        guard state == .idle || state == .waitingToReconnect else { return }
        state = .connecting
        guard let c = LibPQ.connectStart(conninfo), !LibPQ.isBad(c) else {
            let error = PGError("cannot start a connection: \(LibPQ.errorMessage(nil))", connectionLost: true)
            return connectFailed(error)
        }
        conn = c
        let timer = connectTimer ?? LoopTimer(loop: loop)
        connectTimer = timer
        timer.start(timeout: connectTimeout) { [weak self] in
            self?.connectFailed(PGError("connecting to PostgreSQL timed out after \(self?.connectTimeout ?? 0) ms", connectionLost: true))
        }
        // libpq's rule: behave as if PQconnectPoll had asked for writability first.
        continueConnecting(.writing)
    }

    private func continueConnecting(_ status: LibPQ.PollStatus) {
        guard let c = conn else { return }
        switch status {
        case .reading, .writing:
            // The socket can change while libpq tries addresses: watch whatever it is now.
            rewatch(socket: LibPQ.socket(c), force: true)
            watcher?.watch(status == .reading ? .readable : .writable) { [weak self] event in
                guard let self, let c = self.conn else { return }
                if case .failure(let e) = event { return self.connectFailed(PGError("poll: \(e)", connectionLost: true)) }
                self.continueConnecting(LibPQ.connectPoll(c))
            }
        case .failed:
            connectFailed(PGError(LibPQ.errorMessage(c), connectionLost: true))
        case .ok:
            connectTimer?.stop()
            guard LibPQ.setNonBlocking(c) else { return connectFailed(PGError(LibPQ.errorMessage(c), connectionLost: true)) }
            rewatch(socket: LibPQ.socket(c), force: true)
            state = .ready
            attempt = 0
            lastError = nil
            setupLeft = setup.count
            // Setup statements go first, in their order, before anything queued meanwhile.
            let statements: [(PGQuery, Completion)] = setup.map { statement in
                (PGQuery(statement), { [weak self] result in
                    guard let self else { return }
                    if case .failure(let e) = result, !e.connectionLost { self.lastError = e }
                    self.setupLeft -= 1
                    if self.setupLeft == 0 { self.onReady?() }
                })
            }
            queue.insert(contentsOf: statements, at: 0)
            watchIdle()
            startNext()
            if setup.isEmpty { onReady?() }
        }
    }

    private func connectFailed(_ error: PGError) {
        connectTimer?.stop()
        lastError = error
        dropConnection()
        failAll(error)
        scheduleReconnect()
        onLost?(error)
    }

    private func scheduleReconnect() {
        guard state != .closed else { return }
        state = .waitingToReconnect
        attempt += 1
        let ceiling = min(backoffMax, backoffMin << UInt64(min(attempt, 16)))
        // Full jitter: many processes reconnecting after a restart do not arrive together.
        let delay = UInt64.random(in: backoffMin...max(backoffMin, ceiling))
        let timer = retryTimer ?? LoopTimer(loop: loop)
        retryTimer = timer
        timer.start(timeout: delay) { [weak self] in self?.connect() }
    }

    private func rewatch(socket fd: Int32, force: Bool) {
        if !force, fd == watchedSocket, watcher != nil { return }
        watcher?.close()
        watcher = nil
        watchedSocket = fd
        guard fd >= 0 else { return }
        watcher = try? LoopPoll(loop: loop, socket: fd)
    }

    private func dropConnection() {
        watcher?.close()
        watcher = nil
        watchedSocket = -1
        if let c = conn { LibPQ.finish(c) }
        conn = nil
        flushing = false
    }

    /// The connection broke: fail what waits, reconnect.
    private func lost(_ error: PGError) {
        guard state == .ready else { return }
        lastError = error
        dropConnection()
        failAll(error)
        scheduleReconnect()
        onLost?(error)
    }

    private func failAll(_ error: PGError) {
        let lostError = PGError(error.message, sqlState: error.sqlState, connectionLost: true)
        let pending = (inFlight.map { [$0] } ?? []) + queue.map(\.1)
        inFlight = nil
        inFlightResult = nil
        queue = []
        setupLeft = 0
        for completion in pending { completion(.failure(lostError)) }
    }

    // MARK: Queries

    /// Runs `query` after those already sent; `completion` runs on the loop.
    func send(_ query: PGQuery, _ completion: @escaping Completion) {
        guard state != .closed else { return completion(.failure(PGError("connection closed", connectionLost: true))) }
        queue.append((query, completion))
        if state == .idle { connect() }
        startNext()
    }

    private func startNext() {
        guard state == .ready, inFlight == nil, !queue.isEmpty, let c = conn else { return }
        let (query, completion) = queue.removeFirst()
        guard LibPQ.send(c, query) else {
            let error = PGError(LibPQ.errorMessage(c), connectionLost: !LibPQ.isOK(c))
            if error.connectionLost { queue.insert((query, completion), at: 0); return lost(error) }
            completion(.failure(error))
            return startNext()
        }
        inFlight = completion
        inFlightResult = nil
        flush()
    }

    private func flush() {
        guard let c = conn else { return }
        switch LibPQ.flush(c) {
        case 0: flushing = false; watchIdle()
        case 1: flushing = true; watcher?.watch([.readable, .writable]) { [weak self] in self?.ready($0) }
        default: lost(PGError(LibPQ.errorMessage(c), connectionLost: true))
        }
    }

    /// Readable: results or notifications (and, with no query, a closed connection).
    private func watchIdle() {
        watcher?.watch(.readable) { [weak self] in self?.ready($0) }
    }

    private func ready(_ event: Result<LoopPoll.Events, UVError>) {
        guard let c = conn else { return }
        let events: LoopPoll.Events
        switch event {
        case .failure(let e): return lost(PGError("poll: \(e)", connectionLost: true))
        case .success(let e): events = e
        }
        if events.contains(.writable), flushing { flush() }
        if events.contains(.readable) { readInput(c) }
    }

    private func readInput(_ c: LibPQ.Connection) {
        guard LibPQ.consumeInput(c) else { return lost(PGError(LibPQ.errorMessage(c), connectionLost: true)) }
        for n in LibPQ.notifications(c) { onNotification?(n.channel, n.payload) }
        while inFlight != nil, conn != nil, !LibPQ.isBusy(c) {
            guard let result = LibPQ.nextResult(c) else {
                // The query is done: hand over its (first) result, start the next.
                let completion = inFlight!
                let outcome = inFlightResult ?? .success(PGRows())
                inFlight = nil
                inFlightResult = nil
                completion(outcome)
                startNext()
                return readInputAgainIfBuffered(c)
            }
            if inFlightResult == nil { inFlightResult = result }
        }
        if conn != nil, !LibPQ.isOK(c) { lost(PGError(LibPQ.errorMessage(c), connectionLost: true)) }
    }

    /// Results of a query sent just now may already sit in libpq's buffer.
    private func readInputAgainIfBuffered(_ c: LibPQ.Connection) {
        guard conn != nil, inFlight != nil, !flushing, !LibPQ.isBusy(c) else { return }
        readInput(c)
    }

    // MARK: Shutdown

    /// Waits, blocking the calling (loop) thread, until nothing is in flight or waiting, or
    /// `deadline` passes: for a store closing on a loop that serves nothing any more.
    func drain(until deadline: Date) {
        while (inFlight != nil || !queue.isEmpty), state == .ready, let c = conn, Date() < deadline {
            let ms = Int32(max(1, min(100, deadline.timeIntervalSinceNow * 1000)))
            if LibPQ.waitFor(LibPQ.socket(c), writable: flushing, milliseconds: ms) {
                if flushing { flush() }
                if conn != nil { readInput(c) }
            }
        }
    }

    func close() {
        guard state != .closed else { return }
        state = .closed
        connectTimer?.close(); connectTimer = nil
        retryTimer?.close(); retryTimer = nil
        dropConnection()
        failAll(PGError("connection closed", connectionLost: true))
        onReady = nil; onLost = nil; onNotification = nil
    }
}
