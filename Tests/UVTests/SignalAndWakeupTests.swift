import Testing
import Glibc
@testable import UV

@Suite(.serialized) struct SignalAndWakeupTests {
    @Test func signalWatcherRunsTheHandlerOnTheLoop() throws {
        // The test runner's threads may block signals; make sure this one does not.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGUSR2)
        var old = sigset_t()
        pthread_sigmask(SIG_UNBLOCK, &set, &old)
        let wasBlocked = sigismember(&old, SIGUSR2) == 1
        defer { if wasBlocked { pthread_sigmask(SIG_BLOCK, &set, nil) } }
        let loop = EventLoop()
        var got: Int32 = 0
        let watcher = try SignalWatcher(loop: loop, signal: SIGUSR2) { signum in
            got = signum
        }
        let timer = LoopTimer(loop: loop)
        timer.start(timeout: 1) { pthread_kill(pthread_self(), SIGUSR2) }
        let stopper = LoopTimer(loop: loop)
        var waited = 0
        stopper.start(timeout: 5, repeat: 5) {
            waited += 5
            if got != 0 || waited > 10_000 { watcher.close(); timer.close(); stopper.close() }
        }
        loop.run()
        #expect(got == SIGUSR2)
        #expect(loop.close() == 0)
    }

    @Test func asyncWakeupFromAnotherThreadRunsTheHandler() throws {
        let loop = EventLoop()
        var calls = 0
        var wakeup: AsyncWakeup!
        wakeup = try AsyncWakeup(loop: loop) {
            calls += 1
            wakeup.close()
        }
        let w = wakeup!
        DispatchlessThread.run { w.send() }
        loop.run()
        #expect(calls == 1)
        #expect(w.send() == false) // closed
        #expect(loop.close() == 0)
    }

    @Test func unrefedHandleDoesNotKeepTheLoopAliveButCountsAsOpen() {
        let loop = EventLoop()
        let timer = LoopTimer(loop: loop)
        timer.start(timeout: 60_000) {}
        timer.unref()
        loop.run() // returns at once
        #expect(loop.openHandleCount == 1)
        #expect(loop.close() == 1)
    }

    @Test func turnCountsIterationsAndIsNotAUserHandle() throws {
        let loop = EventLoop()
        #expect(loop.openHandleCount == 0)
        loop.keepsAliveForWork = true   // else an iteration with no referenced handle does nothing
        let before = loop.turn
        var seen: [UInt64] = []
        // Two pieces of work queued together run in one iteration: the same turn.
        loop.execute { seen.append(loop.turn) }
        loop.execute { seen.append(loop.turn) }
        loop.runOnce()
        loop.execute { seen.append(loop.turn) }
        loop.runOnce()
        try #require(seen.count == 3)
        #expect(seen[0] == seen[1] && seen[0] > before)
        #expect(seen[2] > seen[1])
        #expect(loop.close() == 0)
    }
}
