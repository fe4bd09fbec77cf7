"""scripts/bench lists: list pages from the read models vs nginx serving the same bytes.

Starts `tributary serve` (release build, --durability none: the reads do not touch the store)
on loopback, creates CUSTOMERS customers and ORDERS orders, then for each page
(/queries/customers?limit=1, 10, 50, 500 and /queries/orders?limit=50) runs wrk (1 thread,
--connections keep-alive connections, --duration seconds) against the server and against nginx
(1 worker) serving that page's bytes as a static file, interleaved, --runs times. Prints
pages/s, the ratio to nginx, and the cost per document: (time per page of N documents - time
per page of 1) / (N - 1), from the medians. Loopback only; bounded."""
import argparse, http.client, shutil, statistics, sys, tempfile, time

from .bench_commands import setup_data
from .nginx import Nginx
from .server import Server, build
from .wrk import wrk as run_wrk

PAGES = [("customers-1", "/queries/customers?limit=1", 1), ("customers-10", "/queries/customers?limit=10", 10),
         ("customers-50", "/queries/customers?limit=50", 50), ("customers-500", "/queries/customers?limit=500", 500),
         ("orders-50", "/queries/orders?limit=50", 50)]


def fetch(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        sys.exit(f"GET {path} -> {r.status} {body[:200]!r}")
    return body


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench lists", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--orders", type=int, default=3000)
    ap.add_argument("--bin", help="tributary binary (default: build release)")
    a = ap.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} missing: apt-get install -y wrk nginx-light")
    binary = a.bin or build(announce=False)
    data = tempfile.mkdtemp(prefix="bench-lists-")
    srv = nginx = None
    try:
        srv = Server(binary, "none", data).start(ready_timeout=120, ready_interval=0.02, ready_request_timeout=5)
        print(f"setup: {a.customers} customers, {a.orders} orders ...", file=sys.stderr)
        setup_data(srv.port, a.customers, a.orders)
        # The saga goes on approving orders after the last command: wait until the pages settle
        # (the same bytes twice, 0.5 s apart; at most 30 s).
        bodies = None
        for _ in range(60):
            now = {name: fetch(srv.port, path) for name, path, _ in PAGES}
            if now == bodies:
                break
            bodies = now
            time.sleep(0.5)
        nginx = Nginx({f"/{name}": body for name, body in bodies.items()}).start()
        results = {name: {"tributary": [], "nginx": []} for name, _, _ in PAGES}
        for r in range(a.runs):
            for name, path, _ in PAGES:
                t = run_wrk(f"http://127.0.0.1:{srv.port}{path}", a.connections, a.duration, timeout=None, progress=False)
                n = run_wrk(f"http://127.0.0.1:{nginx.port}/{name}", a.connections, a.duration, timeout=None, progress=False)
                results[name]["tributary"].append(t["rps"])
                results[name]["nginx"].append(n["rps"])
                print(f"  run {r + 1} {name}: tributary {t['rps']:.0f}/s, nginx {n['rps']:.0f}/s", file=sys.stderr)
        print(f"\n== bench-lists ({a.customers} customers, {a.orders} orders, {a.connections} connections, "
              f"{a.duration}s x {a.runs} runs, medians (min-max)) ==")
        print("| page | bytes | tributary pages/s | nginx pages/s | ratio | µs per document |")
        print("| --- | --- | --- | --- | --- | --- |")
        one = statistics.median(results["customers-1"]["tributary"])
        for name, path, docs in PAGES:
            t, n = results[name]["tributary"], results[name]["nginx"]
            tm, nm = statistics.median(t), statistics.median(n)
            per_doc = "—" if docs == 1 else f"{(1e6 / tm - 1e6 / one) / (docs - 1):.2f}"
            print(f"| `{path}` | {len(bodies[name]):,} | {tm:.0f} ({min(t):.0f}–{max(t):.0f}) | {nm:.0f} ({min(n):.0f}–{max(n):.0f}) "
                  f"| {tm / nm:.2f}× | {per_doc} |")
        print("(µs per document: from wall time per page at this concurrency, wrk on the same cores; orders use the customers-1 page as the base)")
    finally:
        if srv:
            srv.stop(timeout=30, check=True)
        if nginx:
            nginx.stop()
        shutil.rmtree(data, ignore_errors=True)
