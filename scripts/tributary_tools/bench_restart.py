"""scripts/bench restart: restart-to-ready with and without read-model snapshots, same data, same run.

Starts a release `tributary serve` (--durability none by default, so the fill is quick) on
loopback, fills it with the `scripts/bench commands` mix (lua/commands.lua MIX=edits) until the
stores hold --events events in all, stops it with SIGTERM (the shutdown snapshots), then alternates:
  full:      start with --snapshot-every 0 (no snapshot loaded: every read model replays its
             whole store, as before snapshots existed) and time start -> GET /ready 200;
  snapshot:  start with --snapshot-every N and time the same (snapshots loaded, empty tail);
and finally a crash: more commands for a few seconds, SIGKILL, start -> /ready (the periodic
snapshots plus the tail since them). Prints every run and the medians, with events/s.
Usage: scripts/bench restart [--events N] [--snapshot-every N] [--runs N] [--bin PATH] [--keep DIR]
"""
import argparse, json, os, shutil, signal, statistics, sys, tempfile, time
import http.client

from . import bench_commands as bc
from .server import Server, build
from .wrk import COMMANDS_LUA


def events_in_stores(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/health"); health = json.loads(c.getresponse().read()); c.close()
    return sum(s["lastPosition"] for s in health["stores"].values())


def stop(srv, sig=signal.SIGTERM):
    t = time.monotonic()
    srv.stop(timeout=120, sig=sig, check=True)
    return time.monotonic() - t


def timed_start(binary, data, durability, every):
    """Starts the server and waits for GET /ready 200 (a replaying loop may answer late, so a
    timeout just asks again; 600 s in all); returns (server, port, seconds from start to ready, log)."""
    srv = Server(binary, durability, data, ["--snapshot-every", str(every)])
    srv.start(listen_timeout=600, ready_timeout=600, ready_interval=0.01, ready_request_timeout=30)
    return srv, srv.port, srv.ready_s, srv.output


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench restart", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--snapshot-every", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--durability", default="none", choices=["fsync", "batch", "none"])
    ap.add_argument("--crash-seconds", type=int, default=5, help="command load between the last start and the SIGKILL")
    ap.add_argument("--bin", help="tributary binary (default: build release)")
    ap.add_argument("--keep", help="data directory to fill (or reuse if it already holds --events events); kept")
    a = ap.parse_args(argv)
    binary = a.bin or build(announce=False)
    data = a.keep or tempfile.mkdtemp(prefix="bench-restart-")
    os.makedirs(data, exist_ok=True)
    every = a.snapshot_every
    proc = None
    try:
        proc, port, _, _ = timed_start(binary, data, a.durability, every)
        have = events_in_stores(port)
        if have < a.events:
            if have == 0:
                bc.setup_data(port, 1000, 5000)
            run = 0
            while (have := events_in_stores(port)) < a.events:
                print(f"fill: {have} events ...", file=sys.stderr)
                bc.wrk(f"http://127.0.0.1:{port}", 64, 15, COMMANDS_LUA,
                       {"CUSTOMERS": "1000", "ORDERS": "5000", "RUN": f"fill{int(time.time())}-{run}"})
                run += 1
        events = events_in_stores(port)
        shutdown_s = stop(proc)
        print(f"filled: {events} events; SIGTERM with shutdown snapshots took {shutdown_s:.2f} s", file=sys.stderr)
        full, snap = [], []
        for r in range(a.runs):
            proc, port, s, log = timed_start(binary, data, a.durability, 0)
            stop(proc); full.append(s)
            proc, port, t, log = timed_start(binary, data, a.durability, every)
            loaded = [l for l in log if "loaded snapshot" in l]
            stop(proc); snap.append(t)
            print(f"  run {r + 1}: full replay {s:.2f} s, with snapshots {t:.2f} s ({len(loaded)} snapshots loaded)", file=sys.stderr)
        # Crash: more writes, SIGKILL (no shutdown snapshot), restart on periodic snapshots + tail.
        proc, port, _, _ = timed_start(binary, data, a.durability, every)
        bc.wrk(f"http://127.0.0.1:{port}", 64, a.crash_seconds, COMMANDS_LUA,
               {"CUSTOMERS": "1000", "ORDERS": "5000", "RUN": f"crash{int(time.time())}"})
        crash_events = events_in_stores(port)
        stop(proc, signal.SIGKILL)
        proc, port, k, log = timed_start(binary, data, a.durability, every)
        tails = [l for l in log if "replaying the tail" in l or "caught up" in l]
        stop(proc)
        print(f"\n== bench-restart ({a.durability} durability, snapshot every {every} events) ==")
        fm, sm = statistics.median(full), statistics.median(snap)
        print(f"events in all stores: {events}")
        print(f"restart to ready, full replay (--snapshot-every 0): {fm:.2f} s ({events / fm:.0f} events/s), runs {', '.join(f'{x:.2f}' for x in full)}")
        print(f"restart to ready, snapshots (graceful stop):        {sm:.2f} s ({events / sm:.0f} events/s), runs {', '.join(f'{x:.2f}' for x in snap)}")
        print(f"restart to ready after SIGKILL (periodic snapshots + tail), {crash_events} events: {k:.2f} s ({crash_events / k:.0f} events/s)")
        print(f"shutdown with snapshots (SIGTERM to exit): {shutdown_s:.2f} s")
        for l in tails:
            print("  " + l)
    finally:
        if proc:
            proc.kill()
        if not a.keep:
            shutil.rmtree(data, ignore_errors=True)
