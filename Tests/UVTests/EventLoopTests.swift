import Testing
import Glibc
@testable import UV

@Suite struct EventLoopTests {
    @Test func timerFiresOnceAndLoopEndsWithZeroHandles() {
        let loop = EventLoop()
        var fired = 0
        let timer = LoopTimer(loop: loop)
        timer.start(timeout: 1) { fired += 1; timer.close() }
        loop.run()
        #expect(fired == 1)
        #expect(loop.close() == 0)
    }

    @Test func repeatingTimerRepeatsUntilStopped() {
        let loop = EventLoop()
        var fired = 0
        let timer = LoopTimer(loop: loop)
        timer.start(timeout: 1, repeat: 1) {
            fired += 1
            if fired == 3 { timer.close() }
        }
        loop.run()
        #expect(fired == 3)
        #expect(loop.close() == 0)
    }

    @Test func closeReportsAndClosesLeakedHandles() {
        let loop = EventLoop()
        let timer = LoopTimer(loop: loop)
        timer.start(timeout: 100_000) {}
        #expect(loop.openHandleCount == 1)
        #expect(loop.close() == 1)
        #expect(timer.isClosed)
    }

    @Test func executeFromOtherThreadsRunsInOrderOnTheLoop() throws {
        let thread = EventLoopThread()
        let counter = Counter()
        for i in 0..<1000 {
            DispatchlessThread.run { thread.execute { counter.values.append(i) } }
        }
        // Wait until every worker thread queued its work and the loop ran it.
        var seen = 0
        for _ in 0..<2000 {
            seen = try thread.sync { counter.values.count }
            if seen == 1000 { break }
            usleep(2000)
        }
        #expect(seen == 1000)
        #expect(thread.finish() == 0)
    }

    @Test func executeAfterCloseIsRefused() {
        let loop = EventLoop()
        #expect(loop.close() == 0)
        #expect(loop.execute {} == false)
    }

    @Test func syncReturnsValuesAndRethrows() throws {
        let thread = EventLoopThread()
        #expect(try thread.sync { 41 + 1 } == 42)
        #expect(throws: UVError.self) { try thread.sync { throw UVError.eof } }
        #expect(thread.finish() == 0)
    }

    @Test func socketAddressParsing() {
        #expect(SocketAddress(parsing: "127.0.0.1:8080") == SocketAddress(host: "127.0.0.1", port: 8080))
        #expect(SocketAddress(parsing: "[::1]:0") == SocketAddress(host: "::1", port: 0))
        #expect(SocketAddress(parsing: "[::1]:0")?.description == "[::1]:0")
        #expect(SocketAddress(parsing: "::1:80") == nil)
        #expect(SocketAddress(parsing: "host") == nil)
        #expect(SocketAddress(parsing: "1.2.3.4:70000") == nil)
    }
}

final class Counter: @unchecked Sendable { var values: [Int] = [] }

/// Minimal detached POSIX thread for tests (no Foundation needed).
enum DispatchlessThread {
    static func run(_ body: @escaping () -> Void) {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        var tid = pthread_t()
        let arg = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&tid, nil, { arg in
            Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
            return nil
        }, arg)
        pthread_detach(tid)
    }
}
