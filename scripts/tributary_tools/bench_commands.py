"""scripts/bench commands: command and query throughput of the whole server, side by side with nginx.

Starts `tributary serve` (release build, --durability fsync by default) on loopback,
creates CUSTOMERS customers and ORDERS orders, then:
  1. commands: wrk, 1 thread, --connections (256) keep-alive connections, a mixed command
     load (register, place with 2 lines, rename, change-email, add-line, change-credit-limit;
     scripts/tributary_tools/lua/commands.lua MIX=edits) for --duration seconds: commands/s,
     p50/p99 latency, non-2xx;
  2. queries: wrk GET /queries/customers/{id} (detail reads from the read model) vs nginx
     (1 worker) serving the same JSON bytes as a static file, same connections and duration;
  3. replay: restarts the server on the same data and times start -> /ready (read models
     rebuilt from the stores), reporting events replayed per second.
Every figure is the median of --runs runs (min-max shown). Loopback only; bounded.
Usage: scripts/bench commands [--duration S] [--connections N] [--runs N] [--durability fsync|batch|none]
"""
import argparse, json, shutil, statistics, sys, tempfile
import http.client

from .nginx import Nginx
from .server import Server, build
from .wrk import COMMANDS_LUA, wrk as run_wrk


def post(conn, path, body):
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse(); data = r.read()
    if r.status >= 300:
        sys.exit(f"setup {path} -> {r.status} {data[:200]!r}")
    return json.loads(data)


def setup_data(port, customers, orders):
    """Customers bc-0.. and orders bo-0.. (one line each), one at a time over one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(customers):
        post(conn, "/commands/customers/register", {"customerId": f"bc-{i}", "name": f"Bench Customer {i}",
             "email": f"bc{i}@example.com", "creditLimit": 10**15, "currency": "EUR"})
    for i in range(orders):
        post(conn, "/commands/orders/place", {"orderId": f"bo-{i}", "customerId": f"bc-{i % customers}", "currency": "EUR",
             "lines": [{"sku": "BASE", "quantity": 1, "unitPrice": 100}]})
    conn.close()


def wrk(url, conns, duration, script=None, env=None):
    """wrk -t1 -cN -dDs --latency (wrk's default timeout, no progress lines), the edits command mix."""
    return run_wrk(url, conns, duration, script, {"MIX": "edits", **env} if script else env, timeout=None, progress=False)


def start(binary, data, durability):
    """The server on data, ready (GET /ready every 20 ms, 5 s per request, 120 s in all)."""
    return Server(binary, durability, data).start(ready_timeout=120, ready_interval=0.02, ready_request_timeout=5)


def summary(label, runs, key, unit, fmt="{:.0f}"):
    vals = [r[key] for r in runs]
    return f"{label}: {fmt.format(statistics.median(vals))} {unit} (min {fmt.format(min(vals))}, max {fmt.format(max(vals))})"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench commands", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--orders", type=int, default=5000)
    ap.add_argument("--durability", default="fsync", choices=["fsync", "batch", "none"])
    ap.add_argument("--bin", help="tributary binary (default: build release)")
    a = ap.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} missing: apt-get install -y wrk nginx-light")
    binary = a.bin or build(announce=False)
    data = tempfile.mkdtemp(prefix="bench-commands-")
    nginx = None
    srv = None
    try:
        srv = start(binary, data, a.durability)
        port = srv.port
        print(f"setup: {a.customers} customers, {a.orders} orders ...", file=sys.stderr)
        setup_data(port, a.customers, a.orders)
        base = f"http://127.0.0.1:{port}"
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("GET", "/queries/customers/bc-1"); body = c.getresponse().read(); c.close()
        nginx = Nginx({"/queries/customers/bc-1": body}).start()
        cmd_runs, q_runs, n_runs = [], [], []
        for r in range(a.runs):
            res = wrk(base, a.connections, a.duration, COMMANDS_LUA,
                      {"CUSTOMERS": str(a.customers), "ORDERS": str(a.orders), "RUN": f"run{r}"})
            cmd_runs.append(res)
            print(f"  run {r + 1} commands: {res['rps']:.0f}/s p50 {res['p50']:.2f} ms p99 {res['p99']:.2f} ms non-2xx {res['non2xx']} {res['sockerr']}", file=sys.stderr)
            q = wrk(base + "/queries/customers/bc-1", a.connections, a.duration)
            n = wrk(f"http://127.0.0.1:{nginx.port}/queries/customers/bc-1", a.connections, a.duration)
            q_runs.append(q); n_runs.append(n)
            print(f"  run {r + 1} queries: tributary {q['rps']:.0f}/s (p99 {q['p99']:.2f} ms), nginx {n['rps']:.0f}/s (p99 {n['p99']:.2f} ms)", file=sys.stderr)
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("GET", "/health"); health = json.loads(c.getresponse().read()); c.close()
        events = sum(s["lastPosition"] for s in health["stores"].values())
        srv.stop(timeout=30, check=True)
        srv = start(binary, data, a.durability)
        replay_s = srv.t_ready - srv.t_spawned
        print(f"\n== bench-commands ({a.durability} durability, {a.connections} connections, {a.duration}s x {a.runs} runs) ==")
        print(summary("commands/s", cmd_runs, "rps", "/s"))
        print(summary("command p50", cmd_runs, "p50", "ms", "{:.2f}"))
        print(summary("command p99", cmd_runs, "p99", "ms", "{:.2f}") + "   (target <= 10 ms)")
        print(f"non-2xx command responses: {sum(r['non2xx'] for r in cmd_runs)}")
        qm, nm = statistics.median(r["rps"] for r in q_runs), statistics.median(r["rps"] for r in n_runs)
        print(summary("detail query/s (tributary)", q_runs, "rps", "/s") + f" p99 {statistics.median(r['p99'] for r in q_runs):.2f} ms")
        print(summary("static file/s (nginx)", n_runs, "rps", "/s") + f" p99 {statistics.median(r['p99'] for r in n_runs):.2f} ms")
        print(f"query ratio vs nginx: {qm / nm:.2f}x   (target >= 0.8x)")
        print(f"restart to ready: {replay_s:.2f} s for {events} events in all stores ({events / replay_s:.0f} events/s)")
    finally:
        if srv:
            srv.stop(timeout=30, check=True)
        if nginx:
            nginx.stop()
        shutil.rmtree(data, ignore_errors=True)
