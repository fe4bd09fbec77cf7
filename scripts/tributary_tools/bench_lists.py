"""scripts/bench lists: pages from the read models and the public log vs nginx serving the same
bytes, and a 50-document page vs PostgreSQL's json_agg of the same documents.

Starts `tributary serve` (release build, --durability none: the reads do not touch the store)
on loopback, creates CUSTOMERS customers and ORDERS orders, then for each page (customer lists
of 1, 10, 50 and 500 documents, orders lists plain and filtered by status and by customer, an
order's history, a 100-event public-log page) runs wrk (1 thread, --connections keep-alive
connections, --duration seconds) against the server and against nginx (1 worker) serving that
page's bytes as a static file, interleaved, --runs times. With PostgreSQL installed it also
loads the customer documents into a jsonb table on a throwaway cluster and runs pgbench (16
clients) asking for the first 50 as one json_agg, in the same runs. Prints pages/s, the ratios,
the cost per document ((time per page of N - time per page of 1) / (N - 1), from the medians),
the server's RSS after the set-up and after serving every page, and met/missed rows for the
targets. With --rss-customers N, it then registers customers up to N (wrk), reads the whole
customer list page by page twice and prints the RSS per 100k customers. Loopback only;
bounded."""
import argparse, http.client, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

from .bench_commands import setup_data
from .common import log
from .nginx import Nginx
from .server import Server, build
from .wrk import LUA, wrk as run_wrk

# name, path, documents on the page (for the cost per document; None: not a list of documents)
PAGES = [("customers-1", "/queries/customers?limit=1", 1), ("customers-10", "/queries/customers?limit=10", 10),
         ("customers-50", "/queries/customers?limit=50", 50), ("customers-500", "/queries/customers?limit=500", 500),
         ("orders-50", "/queries/orders?limit=50", 50), ("orders-approved-50", "/queries/orders?status=approved&limit=50", 50),
         ("orders-of-customer", "/queries/orders?customerId=bc-7&limit=50", None),
         ("order-history", "/queries/orders/bo-7/history", None), ("public-100", "/public/events?after=0&limit=100", None)]

# page, what it is compared with, the least ratio
TARGETS = [("customers-50", "nginx", 0.5), ("customers-50", "postgres", 4.0), ("public-100", "nginx", 0.5),
           ("order-history", "nginx", 0.8)]


def fetch(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        sys.exit(f"GET {path} -> {r.status} {body[:200]!r}")
    return body


class JsonAggBaseline:
    """The first 50 customer documents as one json_agg over a jsonb table, on a throwaway
    cluster (reads only: fsync does not matter), asked by pgbench."""

    SQL = "SELECT json_agg(doc ORDER BY id) FROM (SELECT id, doc FROM customers ORDER BY id LIMIT 50) page;\n"

    def __init__(self, documents):
        from .pgcluster import Cluster, pg_bin
        self.tmp = tempfile.mkdtemp(prefix="bench-lists-pg-")
        self.cluster = Cluster(os.path.join(self.tmp, "pg"), fsync=True)
        self.url = self.cluster.start()
        self.pgbench = os.path.join(pg_bin(), "pgbench")
        # COPY's text format: a tab between the columns, backslashes doubled.
        rows = "".join(d["customerId"] + "\t" + json.dumps(d).replace("\\", "\\\\") + "\n" for d in documents)
        self._psql("CREATE TABLE customers (id text COLLATE \"C\" PRIMARY KEY, doc jsonb NOT NULL)")
        load = subprocess.run(["psql", self.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "COPY customers FROM STDIN"],
                              input=rows, text=True, capture_output=True)
        if load.returncode != 0:
            raise SystemExit(f"COPY customers: {load.stderr}")
        self._psql("VACUUM ANALYZE customers")
        self.script = os.path.join(self.tmp, "page.sql")
        with open(self.script, "w") as f:
            f.write(self.SQL)
        os.chmod(self.tmp, 0o755)
        os.chmod(self.script, 0o644)

    def _psql(self, sql):
        out = subprocess.run(["psql", self.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"psql: {sql}: {out.stderr}")

    def page(self):
        out = subprocess.run(["psql", self.url, "-X", "-Atq", "-c", self.SQL], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    def run(self, duration, clients=16):
        out = subprocess.run([self.pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(duration),
                              "-f", self.script, self.url], capture_output=True, text=True, timeout=duration + 120)
        m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
        if out.returncode != 0 or not m:
            raise SystemExit(f"pgbench failed: {out.stdout[-500:]}{out.stderr[-500:]}")
        return float(m.group(1))

    def stop(self):
        self.cluster.stop("immediate")
        shutil.rmtree(self.tmp, ignore_errors=True)


def customer_documents(port, count):
    docs, cursor = [], None
    while len(docs) < count:
        page = json.loads(fetch(port, "/queries/customers?limit=500" + (f"&cursor={cursor}" if cursor else "")))
        docs += page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            break
    return docs


def rss_per_customers(srv, existing, target, rss_empty):
    """Registers customers (wrk, cold.lua) until `target` exist, reads the whole list twice;
    the customers, the RSS then, and the RSS per 100k customers above the empty server's."""
    customers, start = existing, 0
    while customers < target:
        r = run_wrk(f"http://127.0.0.1:{srv.port}/", 64, 5, os.path.join(LUA, "cold.lua"), {"MODE": "register", "START": str(start)},
                    timeout=None, progress=False)
        start += r["requests"] + 64
        customers += r["statuses"].get(201, 0)
    for _ in range(2):
        cursor = None
        while True:
            page = json.loads(fetch(srv.port, "/queries/customers?limit=500" + (f"&cursor={cursor}" if cursor else "")))
            cursor = page.get("nextCursor")
            if not cursor:
                break
    rss = srv.rss_kib()
    return customers, rss, (rss - rss_empty) * 100_000 / customers


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench lists", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--orders", type=int, default=3000)
    ap.add_argument("--no-postgres", action="store_true", help="skip the json_agg baseline")
    ap.add_argument("--rss-customers", type=int, default=0, help="then measure RSS with this many customers")
    ap.add_argument("--bin", help="tributary binary (default: build release)")
    ap.add_argument("--pages", help="only these pages, comma-separated (names as in the run lines, e.g. order-history)")
    a = ap.parse_args(argv)
    pages = [p for p in PAGES if not a.pages or p[0] in a.pages.split(",")]
    if not pages:
        sys.exit(f"--pages: none of {a.pages}; pages: {', '.join(p[0] for p in PAGES)}")
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} missing: apt-get install -y wrk nginx-light")
    postgres = not a.no_postgres and shutil.which("psql") is not None and any(p[0] == "customers-50" for p in pages)
    binary = a.bin or build(announce=False)
    data = tempfile.mkdtemp(prefix="bench-lists-")
    srv = nginx = pg = None
    try:
        srv = Server(binary, "none", data).start(ready_timeout=120, ready_interval=0.02, ready_request_timeout=5)
        rss_empty = srv.rss_kib()
        log(f"setup: {a.customers} customers, {a.orders} orders ...")
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
        rss_loaded = srv.rss_kib()
        nginx = Nginx({f"/{name}": body for name, body in bodies.items()}).start()
        if postgres:
            log("PostgreSQL: the customer documents in a jsonb table ...")
            pg = JsonAggBaseline(customer_documents(srv.port, a.customers))
            ours = json.loads(bodies["customers-50"])["items"]
            if pg.page() != ours:
                sys.exit("json_agg page differs from /queries/customers?limit=50")
        results = {name: {"tributary": [], "nginx": []} for name, _, _ in PAGES}
        pg_rates = []
        for r in range(a.runs):
            for name, path, _ in pages:
                t = run_wrk(f"http://127.0.0.1:{srv.port}{path}", a.connections, a.duration, timeout=None, progress=False)
                n = run_wrk(f"http://127.0.0.1:{nginx.port}/{name}", a.connections, a.duration, timeout=None, progress=False)
                results[name]["tributary"].append(t["rps"])
                results[name]["nginx"].append(n["rps"])
                log(f"  run {r + 1} {name}: tributary {t['rps']:.0f}/s, nginx {n['rps']:.0f}/s")
            if pg:
                pg_rates.append(pg.run(a.duration))
                log(f"  run {r + 1} postgres json_agg 50: {pg_rates[-1]:.0f}/s")
        rss_served = srv.rss_kib()
        print(f"\n== bench-lists ({a.customers} customers, {a.orders} orders, {a.connections} connections, "
              f"{a.duration}s x {a.runs} runs, medians (min-max)) ==")
        print("| page | bytes | tributary pages/s | nginx pages/s | ratio | µs per document |")
        print("| --- | --- | --- | --- | --- | --- |")
        one = statistics.median(results["customers-1"]["tributary"]) if results["customers-1"]["tributary"] else None
        medians = {}
        for name, path, docs in pages:
            t, n = results[name]["tributary"], results[name]["nginx"]
            tm, nm = statistics.median(t), statistics.median(n)
            # The ratio of each run's pair (tributary then nginx, seconds apart, so under the same
            # load from whatever else shares the machine), then the median of those.
            paired = [x / y for x, y in zip(t, n)]
            medians[name] = {"tributary": tm, "nginx": nm, "ratio": statistics.median(paired)}
            per_doc = "—" if not docs or docs == 1 or one is None else f"{(1e6 / tm - 1e6 / one) / (docs - 1):.2f}"
            print(f"| `{path}` | {len(bodies[name]):,} | {tm:.0f} ({min(t):.0f}–{max(t):.0f}) | {nm:.0f} ({min(n):.0f}–{max(n):.0f}) "
                  f"| {medians[name]['ratio']:.2f}× ({min(paired):.2f}–{max(paired):.2f}) | {per_doc} |")
        print("(ratio: the median of each run's tributary/nginx pair, range in brackets; µs per document: from wall time per page at "
              "this concurrency, wrk on the same cores; orders use the customers-1 page as the base)")
        if pg_rates:
            pm = statistics.median(pg_rates)
            medians["customers-50"]["postgres"] = pm
            print(f"PostgreSQL json_agg of the same 50 documents (pgbench, 16 clients): {pm:.0f}/s "
                  f"({min(pg_rates):.0f}–{max(pg_rates):.0f}); tributary/postgres {medians['customers-50']['tributary'] / pm:.2f}×")
        print(f"RSS: {rss_empty / 1024:.1f} MiB started, {rss_loaded / 1024:.1f} MiB after the set-up and one read of each page, "
              f"{rss_served / 1024:.1f} MiB after every run")
        print("\n| target | measured | verdict |")
        print("| --- | --- | --- |")
        for name, baseline, least in TARGETS:
            if name not in medians:
                continue
            base = medians[name].get(baseline)
            if base is None:
                print(f"| `{name}` ≥ {least}× {baseline} | not measured | — |")
                continue
            ratio = medians[name]["ratio"] if baseline == "nginx" else medians[name]["tributary"] / base
            print(f"| `{name}` ≥ {least}× {baseline} | {ratio:.2f}× | {'met' if ratio >= least else 'missed'} |")
        if a.rss_customers:
            log(f"RSS: registering up to {a.rss_customers} customers, reading every list page twice ...")
            customers, rss, per = rss_per_customers(srv, a.customers, a.rss_customers, rss_empty)
            print(f"\nRSS with {customers:,} customers (customers events; every list page read twice): {rss / 1024:.1f} MiB, "
                  f"{per / 1024:.1f} MiB per 100k customers above the empty server's {rss_empty / 1024:.1f} MiB")
    finally:
        if srv:
            srv.stop(timeout=30, check=True)
        if nginx:
            nginx.stop()
        if pg:
            pg.stop()
        shutil.rmtree(data, ignore_errors=True)
