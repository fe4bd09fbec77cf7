"""scripts/bench open-model: command latency against offered rate (open model), with the knee.

Starts `tributary serve` (release, --durability fsync) on loopback, on a fresh data directory for
every measurement (seeded for the mix), and drives it with
`tributary-load` (Sources/LoadGen: libuv, constant rate, latency measured from each request's
due time, so a stall shows as latency and not as a lower offered rate). For each workload:
  1. saturation: the same requests in the closed model (every connection sends again as soon as
     answered), --connections connections: the rate the server sustains flat out, and the
     server's CPU (all threads) per request; --saturation-runs runs, the sweep takes the median;
  2. a sweep of offered rates, --steps fractions of that rate (default 0.1..1.0), each for
     --duration s after 1 s of warm-up: p50/p99/max and the send delay (how late the generator
     itself sent: its 1 ms timer), and the knee (the first rate whose p99 passes --p99-ms).
Workloads: `register` (a new customer per request) and `mix` (per 10: 2 register, 3 place
with two lines for seeded customers, which sets off the credit saga, 2 rename, 1 change-email,
1 add-line, 1 change-credit-limit; the mix of `scripts/bench commands`).

The disk's own floor is measured first in the same run: fdatasync one at a time on the data
directory's filesystem, and from it the share of time during which a request arriving would
wait over --p99-ms for a flush already in flight. A durable acknowledgement cannot be faster
than the flush it waits for, so when that share is above 1 %, no p99 at or under --p99-ms is
possible on this disk, whatever the server does; the report says so.

Usage: scripts/bench open-model [--workload register|mix|both] [--duration S] [--connections N]
                                [--steps 0.1,0.2,...] [--p99-ms 10] [--floor-seconds S]
                                [--saturation-runs N]
Stdout: `floor ...`, `saturation_run ...`, `saturation ...`, `open ...` and `target ...` lines.
"""
import argparse, contextlib, http.client, json, os, subprocess, sys, tempfile, time

from .common import cpu_seconds, log
from .server import Server, build

SEED = 1000
REGISTER = ('1 POST /commands/customers/register {"customerId":"om-{run}-{n}","name":"Open Model {n}",'
            '"email":"om{n}@example.com","creditLimit":1000000000000,"currency":"EUR"}')
MIX = [
    REGISTER.replace("1 POST", "2 POST", 1),
    '3 POST /commands/orders/place {"orderId":"omo-{run}-{n}","customerId":"oms-c-{r:%d}","currency":"EUR",'
    '"lines":[{"sku":"SKU-1","quantity":2,"unitPrice":1250},{"sku":"SKU-2","quantity":1,"unitPrice":999}]}' % SEED,
    '2 POST /commands/customers/oms-c-{r:%d}/rename {"name":"Renamed {run} {n}"}' % SEED,
    '1 POST /commands/customers/oms-c-{r:%d}/change-email {"email":"m{n}@example.org"}' % SEED,
    '1 POST /commands/orders/oms-o-{r:%d}/add-line {"sku":"X{run}-{n}","quantity":1,"unitPrice":1}' % SEED,
    '1 POST /commands/customers/oms-c-{r:%d}/change-credit-limit {"creditLimit":2000000000000}' % SEED,
]


def disk_floor(directory, seconds, threshold_ms):
    """fdatasync of a 4 KiB write, one at a time, for `seconds`: (syncs, p99 ms, max ms, share of
    wall time in which an arriving request would wait over threshold_ms for the flush in flight)."""
    fd, path = tempfile.mkstemp(dir=directory, prefix="floor-")
    lat, buf, off = [], b"\0" * 4096, 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            os.pwrite(fd, buf, off)
            off = (off + 4096) % (64 << 20)
            t = time.perf_counter()
            os.fdatasync(fd)
            lat.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        os.unlink(path)
    wall = time.monotonic() - start
    th = threshold_ms / 1000
    share = sum(x - th for x in lat if x > th) / wall
    lat.sort()
    return len(lat), lat[int(len(lat) * 0.99)] * 1000, lat[-1] * 1000, share


def seed(port):
    """Customers oms-c-0.. and one order each (oms-o-i), one at a time over one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(path, body):
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status >= 300:
            sys.exit(f"seeding {path} -> {r.status} {data[:200]!r}")
    for i in range(SEED):
        post("/commands/customers/register", {"customerId": f"oms-c-{i}", "name": f"Seed {i}", "email": f"s{i}@example.com",
                                              "creditLimit": 10**15, "currency": "EUR"})
    for i in range(SEED):
        post("/commands/orders/place", {"orderId": f"oms-o-{i}", "customerId": f"oms-c-{i}", "currency": "EUR",
                                        "lines": [{"sku": "BASE", "quantity": 1, "unitPrice": 100}]})
    conn.close()


def load(tool, port, rate, a, requests, run):
    args = [tool, "--target", f"127.0.0.1:{port}", "--rate", str(rate), "--duration", str(a.duration),
            "--warmup", "1", "--connections", str(a.connections), "--run", run]
    for r in requests:
        args += ["--request", r]
    out = subprocess.run(args, capture_output=True, text=True, timeout=a.duration + 120)
    line = next((l for l in out.stdout.splitlines() if l.startswith("load ")), None)
    if out.returncode != 0 or line is None:
        sys.exit(f"tributary-load failed (exit {out.returncode}): {out.stderr[-800:]}")
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    return fields


@contextlib.contextmanager
def fresh(binary, name):
    """A server on a new data directory (seeded for the mix), stopped and removed after: each
    measurement starts from the same state, so neither the data an earlier step added nor the
    saga work it left behind (the closed model runs ahead of the consumers) is measured in the
    next one."""
    srv = Server(binary, "fsync")
    try:
        srv.start(ready_timeout=120)
        if name == "mix":
            seed(srv.port)
        yield srv
    finally:
        srv.cleanup()


def workload(name, requests, binary, tool, a):
    runs = []
    for i in range(a.saturation_runs):
        with fresh(binary, name) as srv:
            cpu0 = cpu_seconds(srv.proc.pid)
            sat = load(tool, srv.port, 0, a, requests, f"{name}-sat{i}")
            cpu = cpu_seconds(srv.proc.pid) - cpu0
        # Server CPU (every thread, user + system) over the warm-up and the measured seconds,
        # per request answered in them (the warm-up runs at the same closed-model rate).
        sat["cpu_us_per_request"] = cpu / (float(sat["achieved_per_s"]) * (a.duration + 1)) * 1e6
        runs.append(sat)
        print(f"saturation_run workload={name} run={i + 1} per_s={float(sat['achieved_per_s']):.0f} p50_ms={sat['p50_ms']} "
              f"p99_ms={sat['p99_ms']} cpu_us_per_request={sat['cpu_us_per_request']:.1f} connections={a.connections} "
              f"non2xx={sat['non2xx']} errors={sat['errors']}", flush=True)
    runs.sort(key=lambda r: float(r["achieved_per_s"]))
    sat = runs[len(runs) // 2]
    saturation = float(sat["achieved_per_s"])
    print(f"saturation workload={name} per_s={saturation:.0f} p50_ms={sat['p50_ms']} p99_ms={sat['p99_ms']} "
          f"cpu_us_per_request={sat['cpu_us_per_request']:.1f} runs={len(runs)} connections={a.connections} "
          f"non2xx={sat['non2xx']} errors={sat['errors']}", flush=True)
    rows, knee = [], None
    for i, f in enumerate(a.steps):
        rate = max(1, int(saturation * f))
        with fresh(binary, name) as srv:
            r = load(tool, srv.port, rate, a, requests, f"{name}-{i}")
        p99 = float(r["p99_ms"])
        if knee is None and p99 > a.p99_ms:
            knee = f
        rows.append((f, p99))
        print(f"open workload={name} fraction={f:.2f} offered_per_s={rate} achieved_per_s={r['achieved_per_s']} "
              f"p50_ms={r['p50_ms']} p99_ms={r['p99_ms']} max_ms={r['max_ms']} send_delay_p99_ms={r['send_delay_p99_ms']} "
              f"non2xx={r['non2xx']} errors={r['errors']} unanswered={r['unanswered']}", flush=True)
    below = [p for f, p in rows if f <= 0.8 + 1e-9]
    met = bool(below) and max(below) <= a.p99_ms
    print(f"target workload={name} p99_le_{a.p99_ms:g}ms_up_to_80pct={'met' if met else 'missed'} "
          f"worst_p99_ms_up_to_80pct={max(below) if below else 'nan'} knee_fraction={knee if knee is not None else 'none'}",
          flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench open-model", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", choices=["register", "mix", "both"], default="both")
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--steps", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0")
    ap.add_argument("--p99-ms", type=float, default=10)
    ap.add_argument("--floor-seconds", type=float, default=20)
    ap.add_argument("--saturation-runs", type=int, default=1,
                    help="closed-model runs per workload (fresh server each); the sweep takes the median")
    a = ap.parse_args(argv)
    try:
        a.steps = [float(x) for x in a.steps.split(",") if x]
    except ValueError:
        ap.error("--steps: comma-separated fractions, e.g. 0.2,0.5,0.8")
    if not a.steps or any(not 0 < f <= 2 for f in a.steps) or not 0 < a.duration <= 120 or not 1 <= a.saturation_runs <= 9:
        ap.error("--steps in (0, 2]; --duration in (0, 120]; --saturation-runs in 1..9")
    binary = build()
    tool = build("tributary-load")
    data_fs = tempfile.gettempdir()
    log(f"==> the disk's floor: fdatasync one at a time for {a.floor_seconds:g} s in {data_fs}")
    n, p99, mx, share = disk_floor(data_fs, a.floor_seconds, a.p99_ms)
    verdict = "possible" if share <= 0.01 else "impossible"
    print(f"floor syncs={n} sync_p99_ms={p99:.3f} sync_max_ms={mx:.1f} share_waiting_over_{a.p99_ms:g}ms_pct={share * 100:.2f} "
          f"p99_le_{a.p99_ms:g}ms_on_this_disk={verdict}", flush=True)
    for name in (["register", "mix"] if a.workload == "both" else [a.workload]):
        log(f"==> workload {name}")
        workload(name, [REGISTER] if name == "register" else MIX, binary, tool, a)
    return 0
