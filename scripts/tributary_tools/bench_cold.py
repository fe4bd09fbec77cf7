"""scripts/bench cold-commands: commands on a working set far larger than the state cache, on a
cold start with the page cache dropped, for one binary or two (--before BIN: the same run,
interleaved, e.g. a build from before a change).

For each binary: a fresh data directory (fsync durability); wrk registers customers cw-0,
cw-1, ... for --fill seconds (1 thread, 64 connections); the server stops, the kernel's page
cache is dropped (echo 3 > /proc/sys/vm/drop_caches, where allowed; said when not), the server
starts again (state cache empty, every stream cold on disk), and wrk sends renames of customers
drawn at random from all of them for --duration seconds at --connections connections. Prints
commands/s and latency percentiles of each run and the working set against the state cache
(10,000 streams by default). Loopback only; bounded."""
import argparse, os, shutil, statistics, sys, tempfile

from .common import log
from .server import Server, build
from .wrk import LUA, wrk

COLD_LUA = os.path.join(LUA, "cold.lua")
STATE_CACHE = 10_000


def drop_page_cache():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError as e:
        log(f"  page cache not dropped ({e}): reads may come from memory")
        return False


def one_run(binary, fill_seconds, duration, connections):
    data = tempfile.mkdtemp(prefix="bench-cold-")
    srv = None
    try:
        srv = Server(binary, "fsync", data).start(ready_timeout=120, ready_interval=0.02, ready_request_timeout=5)
        filled = wrk(f"{srv.url}/", 64, fill_seconds, COLD_LUA, {"MODE": "register"}, timeout=None, progress=False)
        created = filled["statuses"].get(201, 0)
        refused = {k: v for k, v in filled["statuses"].items() if k != 201}
        if refused:
            # A refused registration leaves its id out: a rename of it answers 404 below.
            log(f"  registrations answered other than 201: {refused}")
        srv.stop(timeout=60, check=True)
        # Requests cut off by wrk's end may or may not have been committed: stay below them.
        customers = created - 64
        if customers < STATE_CACHE:
            sys.exit(f"only {created} customers registered in {fill_seconds}s; raise --fill")
        dropped = drop_page_cache()
        srv = Server(binary, "fsync", data).start(ready_timeout=300, ready_interval=0.02, ready_request_timeout=5)
        ready_s = srv.ready_s
        r = wrk(f"{srv.url}/", connections, duration, COLD_LUA, {"MODE": "rename", "CUSTOMERS": str(customers)},
                timeout="10s", progress=False)
        bad = {k: v for k, v in r["statuses"].items() if k != 200}
        if bad or r["sockerr"]:
            log(f"  answers other than 200: {bad} {r['sockerr']}")
        return {"customers": customers, "dropped": dropped, "ready_s": ready_s, **{k: r[k] for k in ("rps", "p50", "p90", "p99")},
                "ok": r["statuses"].get(200, 0), "other": sum(bad.values())}
    finally:
        if srv:
            srv.stop(timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench cold-commands", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fill", type=int, default=20, help="seconds of registrations (default 20)")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--bin", help="tributary binary (default: build release)")
    ap.add_argument("--before", help="a second binary to compare, run interleaved with the first")
    a = ap.parse_args(argv)
    binaries = [("after", a.bin or build(announce=False))] + ([("before", a.before)] if a.before else [])
    results = {name: [] for name, _ in binaries}
    for run in range(a.runs):
        for name, binary in reversed(binaries):
            log(f"run {run + 1}, {name}: fill {a.fill}s, cold restart, renames {a.duration}s ...")
            r = one_run(binary, a.fill, a.duration, a.connections)
            results[name].append(r)
            log(f"  {name}: {r['customers']} customers, ready in {r['ready_s']:.2f}s, {r['rps']:.0f}/s, "
                f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms")
    print(f"\n== bench cold-commands (renames of random customers after a cold restart, fsync, {a.connections} connections, "
          f"{a.duration}s, medians of {a.runs}) ==")
    print("| binary | customers (state cache 10,000) | page cache dropped | ready after restart | renames/s | p50 | p90 | p99 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, _ in binaries:
        rs = results[name]
        med = lambda k: statistics.median(r[k] for r in rs)
        print(f"| {name} | {int(med('customers')):,} | {'yes' if all(r['dropped'] for r in rs) else 'no'} | {med('ready_s'):.2f} s "
              f"| {med('rps'):.0f} | {med('p50'):.1f} ms | {med('p90'):.1f} ms | {med('p99'):.1f} ms |")
