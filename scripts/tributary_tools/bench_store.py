"""scripts/bench store: the event-store benchmark, side by side with its baselines in one run:
 - the disk's raw fdatasync rate (scripts/bench fsync): the limit for unbatched durable writes;
 - PostgreSQL 15 with a Message-DB-style durable append, driven by pgbench
   (scripts/bench postgres) at the same concurrencies;
 - FileEventStore with fsync durability (group commit): single ~200-byte events to random
   streams, closed-loop appenders, appends/s and p50/p99 latency;
 - replay speed (readAll of the whole log into a counting projection) and open time with
   N events (index checkpoint vs full scan).
Usage: scripts/bench store [--appenders 1,16,256] [--duration SEC] [--runs N] [--replay-events N]
"""
import argparse, os, re, shutil, statistics, subprocess, sys

from .common import ROOT, log
from .deps import ensure_build_deps
from .server import build


def tee(cmd, keep=lambda line: True):
    """Runs cmd (cwd: the repository), echoing its stdout as it comes; returns the lines kept."""
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in p.stdout:
        if keep(line):
            lines.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()
    if p.wait() != 0:
        sys.exit(p.returncode)
    return lines


def rows(lines, key):
    res = {}
    for line in lines:
        f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
        if key in f:
            res.setdefault(int(f[key]), []).append({k: float(v) for k, v in f.items() if re.match(r"^[\d.]+$", v)})
    return res


def med(xs, k):
    return statistics.median(x[k] for x in xs)


def rng(xs, k):
    return f"{min(x[k] for x in xs):.0f}-{max(x[k] for x in xs):.0f}"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench store", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--appenders", default="1,16,256")
    ap.add_argument("--duration", default="10")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--replay-events", type=int, default=1000000)
    a = ap.parse_args(argv)
    ensure_build_deps()
    tool = build("tributary-store-tool", announce=False)
    scratch = os.path.join(ROOT, ".bench-store-tmp")
    log("==> raw fsync rate")
    fsync = tee(["scripts/bench", "fsync", "--duration", "5"])
    store, pg, replay = [], [], []
    for r in range(1, a.runs + 1):
        log(f"==> run {r}/{a.runs}: tributary FileEventStore")
        store += tee([tool, "bench", "--data", scratch, "--appenders", a.appenders, "--duration", a.duration,
                      "--replay-events", "0"])
        log(f"==> run {r}/{a.runs}: PostgreSQL baseline")
        pg += tee(["scripts/bench", "postgres", "--clients", a.appenders, "--duration", a.duration.rsplit(".", 1)[0]])
    if a.replay_events > 0:
        log(f"==> replay and open with {a.replay_events} events")
        p = subprocess.run([tool, "bench", "--data", scratch, "--appenders", "1", "--duration", "0.1",
                            "--replay-events", str(a.replay_events)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(p.returncode)
        replay = [line for line in p.stdout.splitlines(keepends=True) if "appenders=" not in line]
    shutil.rmtree(scratch, ignore_errors=True)

    counts = [int(c) for c in a.appenders.split(",")]
    store, pg = rows(store, "appenders"), rows(pg, "clients")
    fs = dict(kv.split("=") for kv in "".join(fsync).split()[1:])
    print()
    print(f"raw disk fdatasync rate: {float(fs['per_s']):.0f}/s (p50 {fs['p50_ms']} ms)")
    print(f"{'appenders':>9} | {'tributary appends/s (min-max)':>30} {'p50 ms':>7} {'p99 ms':>7} {'fsyncs/s':>8} | {'postgres appends/s (min-max)':>29} {'p50 ms':>7} {'p99 ms':>7} | ratio")
    for c in counts:
        s, p = store.get(c, []), pg.get(c, [])
        if not s or not p:
            continue
        ratio = med(s, "appends_per_s") / med(p, "appends_per_s")
        print(f"{c:>9} | {med(s,'appends_per_s'):>12.0f} ({rng(s,'appends_per_s'):>15}) {med(s,'p50_ms'):>7.2f} {med(s,'p99_ms'):>7.2f} {med(s,'fsyncs_per_s'):>8.0f} |"
              f" {med(p,'appends_per_s'):>11.0f} ({rng(p,'appends_per_s'):>15}) {med(p,'p50_ms'):>7.2f} {med(p,'p99_ms'):>7.2f} | {ratio:5.1f}x")
    for line in replay:
        print(line.strip())
    return 0
