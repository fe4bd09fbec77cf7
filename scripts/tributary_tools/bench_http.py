"""scripts/bench http: HTTP throughput, wrk against tributary's GET /health vs nginx (1 worker) serving
the same response bytes, both started here on loopback in the same run.
Prints req/s and p50/p99 latency per run, medians, and the ratio to nginx.
Usage: scripts/bench http [--duration SEC] [--connections N] [--runs N]
"""
import argparse, sys

from .common import get, log
from .deps import apt_install, ensure_build_deps
from .nginx import Nginx
from .server import Server, build
from .wrk import PIPELINE_LUA, wrk


def num(x):
    """A number as awk prints it (integers as such, else %.6g)."""
    return str(int(x)) if x == int(x) else f"{x:.6g}"


def median(values):
    """The median of number strings as the former `sort -n | awk` printed it: the middle string, or the
    mean of the two middle ones."""
    v = sorted(values, key=float)
    n = len(v)
    return v[(n - 1) // 2] if n % 2 else num((float(v[n // 2 - 1]) + float(v[n // 2])) / 2)


def run_wrk(port, a, lua=None):
    """(req/s, p50 ms, p99 ms) as strings; exits on a non-2xx response."""
    r = wrk(f"http://127.0.0.1:{port}/health", a.connections, a.duration, lua, timeout=None, progress=False)
    if "Non-2xx" in r["raw"]:
        log("non-2xx responses:")
        log(r["raw"])
        sys.exit(1)
    return f"{r['rps']:.0f}", f"{r['p50']:.3f}", f"{r['p99']:.3f}"


def bench_mode(label, a, tport, nport, lua=None):
    t, n = [], []
    for i in range(1, a.runs + 1):
        r = run_wrk(nport, a, lua); n.append(r)
        log(f"  {label} run {i} nginx:     {r[0]} req/s  p50 {r[1]}ms  p99 {r[2]}ms")
        r = run_wrk(tport, a, lua); t.append(r)
        log(f"  {label} run {i} tributary: {r[0]} req/s  p50 {r[1]}ms  p99 {r[2]}ms")
    tm, nm = median([x[0] for x in t]), median([x[0] for x in n])
    print(f"{label:<22} tributary {float(tm):8.0f} req/s (p50 {median([x[1] for x in t])} ms, p99 {median([x[2] for x in t])} ms) | "
          f"nginx {float(nm):8.0f} req/s (p50 {median([x[1] for x in n])} ms, p99 {median([x[2] for x in n])} ms) | "
          f"ratio {float(num(float(tm) / float(nm))):.2f}x", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench http", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args(argv)
    ensure_build_deps()
    apt_install("wrk", "nginx-light")
    binary = build(announce=False)
    srv = Server(binary, "none")
    nginx = None
    try:
        srv.start(listen_timeout=10)
        body = get(srv.port, "/health")[2]
        nginx = Nginx({"/health": body}, keepalive_timeout="60s")
        try:
            nginx.start()
        except RuntimeError as e:
            sys.exit(str(e))
        log(f"response body: {len(body)} bytes; wrk: 1 thread, {a.connections} connections, {a.duration}s per run, {a.runs} runs each")
        print(f"== results (medians of {a.runs} runs) ==", flush=True)
        bench_mode("keep-alive", a, srv.port, nginx.port)
        bench_mode("pipelined x16", a, srv.port, nginx.port, PIPELINE_LUA)
    finally:
        if nginx:
            nginx.stop()
        srv.cleanup()
    return 0
