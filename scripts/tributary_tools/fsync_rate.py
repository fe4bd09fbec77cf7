"""scripts/bench fsync: the raw fsync rate of the disk, the physical limit for unbatched durable writes.

Appends 200 bytes to a temp file and fdatasync()s it, in a loop, one at a time,
for --duration seconds; prints how many such durable appends per second the disk
sustains and their p50/p99 latency. A store that fsyncs once per append cannot
beat this number; one that beats it must be batching (group commit). Compare a
store's fsyncs/s against this figure, measured on the same filesystem it writes to
(default: the repo root, whose ./data is where `tributary serve` keeps its log).
The temp file is removed on exit.
Usage: scripts/bench fsync [--dir DIR] [--duration SEC] [--sync fdatasync|fsync]
Stdout: fsync_rate per_s=N p50_ms=X p99_ms=Y   (progress/details go to stderr)
"""
import argparse
import math
import os
import sys
import tempfile
import time

from .common import ROOT


def pct(sorted_vals, p):
    # nearest-rank percentile
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100.0 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="scripts/bench fsync", description="Measure the disk's raw fsync rate: append 200 bytes + fdatasync, in a loop.")
    ap.add_argument("--dir", default=ROOT,
                    help="directory on the filesystem to test (default: repo root, %(default)s)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds to run (default 5)")
    ap.add_argument("--size", type=int, default=200, help="bytes per append (default 200)")
    ap.add_argument("--sync", choices=["fdatasync", "fsync"], default="fdatasync",
                    help="sync call after each append (default fdatasync)")
    a = ap.parse_args(argv)
    if a.duration <= 0:
        ap.error("--duration must be > 0")

    sync = os.fdatasync if a.sync == "fdatasync" else os.fsync
    payload = (b'{"type":"fsync-probe","data":"' + b"x" * max(0, a.size - 33) + b'"}\n')[:a.size]
    fd, path = tempfile.mkstemp(prefix=".fsync-rate.", dir=a.dir)
    lat = []
    try:
        os.fsync(fd)  # make the file's creation durable before timing
        print(f"fsync-rate: {a.sync} after each {a.size}-byte append in {path} for {a.duration:g}s",
              file=sys.stderr)
        t_start = time.perf_counter()
        deadline = t_start + a.duration
        now = t_start
        while now < deadline:
            t0 = now
            os.write(fd, payload)
            sync(fd)
            now = time.perf_counter()
            lat.append(now - t0)
        elapsed = now - t_start
    finally:
        os.close(fd)
        os.unlink(path)

    lat.sort()
    n = len(lat)
    rate = n / elapsed
    print(f"fsync-rate: {n} syncs in {elapsed:.2f}s, max {lat[-1]*1e3:.2f} ms", file=sys.stderr)
    print(f"fsync_rate per_s={rate:.0f} p50_ms={pct(lat, 50)*1e3:.3f} p99_ms={pct(lat, 99)*1e3:.3f}")
