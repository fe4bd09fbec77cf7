"""scripts/bench cluster: the split deployment against the single process, on one PostgreSQL
(fsync=on, synchronous_commit=on), release build, this machine, same run:

  1. commands/s flat out (wrk, the edits command mix, --conns connections, --seconds s) and p99:
     the single process on PostgreSQL vs `scripts/cluster` through its nginx front;
  2. queries/s flat out (detail reads, list pages, stats: lua/queries.lua), same two;
  3. CPU per query (user+sys of the replicas' processes, from /proc), orders queries only: one
     orders replica taking the whole load vs the front spreading it over two: the work per query
     stays the same and splits between the replicas, so each replica (each machine) carries half;
     on this 2-core machine wrk, nginx and both replicas share the cores, so throughput is not
     the measure. Also the CPU per command of each process group (writers, replicas, PostgreSQL,
     nginx, wrk) during the command runs: where a command's cost goes when split;
  4. replica lag under the command load: register a customer through the front, then poll a
     customers replica (no minPosition) until the document is there; p50/p99 of that delay.

  scripts/bench cluster [--seconds S] [--conns C] [--bin PATH]

Prints a table and one JSON line (bench/REPORT.md takes the figures from it)."""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time, urllib.request, uuid

from .bench_commands import setup_data
from .cluster import ClusterDir, down, up
from .common import log
from .server import ROOT, Server
from .wrk import COMMANDS_LUA, QUERIES_LUA, wrk

CUSTOMERS, ORDERS = 200, 300


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paths_file(directory, customers=True):
    """Detail paths for lua/queries.lua (which adds order list pages and stats); without
    customers, orders only (every query then goes to an orders replica)."""
    path = os.path.join(directory, "paths.txt" if customers else "order-paths.txt")
    with open(path, "w") as f:
        for i in range(CUSTOMERS if customers else 0):
            f.write(f"/queries/customers/bc-{i}\n")
        for i in range(ORDERS):
            f.write(f"/queries/orders/bo-{i}\n")
    return path


def process_cpu(pattern):
    """CPU seconds so far of every process whose command line contains `pattern`."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if pattern.encode() not in f.read():
                    continue
            total += cpu_seconds(int(pid))
        except (OSError, ValueError, IndexError):
            pass
    return total


GROUPS = {"customers writer": "--role\0customers", "orders writer": "--role\0orders", "query replicas": "--role\0query",
          "single process": "--durability\0fsync", "postgres": "postgres:", "nginx": "nginx: worker", "wrk": "wrk"}


def load(port, seconds, conns, paths, breakdown=None):
    """Commands then queries flat out; with `breakdown` (a dict), the CPU seconds per command of
    each process group during the command run."""
    env = {"MIX": "edits", "CUSTOMERS": str(CUSTOMERS), "ORDERS": str(ORDERS), "RUN": uuid.uuid4().hex[:6],
           "CONNS": str(conns)}
    before = {g: process_cpu(p) for g, p in GROUPS.items()}
    commands = wrk(f"http://127.0.0.1:{port}", conns, seconds, COMMANDS_LUA, env, timeout=None, progress=False)
    if breakdown is not None:
        for g, p in GROUPS.items():
            used = process_cpu(p) - before[g]
            if used > 0.01:
                breakdown[g] = round(used / max(1, commands["requests"]) * 1e6, 1)
    queries = wrk(f"http://127.0.0.1:{port}", conns, seconds, QUERIES_LUA, {"PATHS": paths}, timeout=None, progress=False)
    return commands, queries


def wait_settled(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                h = json.loads(r.read())
            if all(c.get("lag", 0) == 0 for c in h["components"] if c["kind"] in ("projection", "publisher")):
                return
        except OSError:
            pass
        time.sleep(0.2)


def replica_lag(front, replica_port, stop, samples):
    """Registers customers through the front and times until a replica shows each one."""
    while not stop.is_set() and len(samples) < 500:
        cid = "lag-" + uuid.uuid4().hex[:10]
        body = json.dumps({"customerId": cid, "name": "Lag", "email": f"{cid}@example.com", "creditLimit": 1,
                           "currency": "EUR"}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{front}/commands/customers/register", data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
        except OSError:
            continue
        acked = time.monotonic()
        while time.monotonic() - acked < 10:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{replica_port}/queries/customers/{cid}", timeout=5) as r:
                    r.read()
                samples.append((time.monotonic() - acked) * 1000)
                break
            except urllib.error.HTTPError:
                time.sleep(0.001)
            except OSError:
                break


def cpu_per_query(cd, layout, target_port, replica_names, seconds, conns, paths, prefix=""):
    pids = {n: cd.pid(n) for n in replica_names}
    before = {n: cpu_seconds(p) for n, p in pids.items()}
    r = wrk(f"http://127.0.0.1:{target_port}", conns, seconds, QUERIES_LUA, {"PATHS": paths, "PREFIX": prefix},
            timeout=None, progress=False)
    used = {n: cpu_seconds(p) - before[n] for n, p in pids.items()}
    total = r["requests"]
    return {"rps": r["rps"], "requests": total, "cpuUsPerQuery": sum(used.values()) / total * 1e6,
            "perReplicaUsPerQuery": {n: u / total * 1e6 for n, u in used.items()}}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/bench cluster", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--bin", help="tributary binary (default: a release build)")
    a = ap.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk missing: apt-get install -y wrk")
    if a.bin:
        os.environ["TRIBUTARY_BIN"] = os.path.abspath(a.bin)
    elif not os.environ.get("TRIBUTARY_BIN"):
        log("==> building (release)")
        subprocess.run(["swift", "build", "-c", "release", "--product", "tributary"], cwd=ROOT, check=True, stdout=sys.stderr)
        os.environ["TRIBUTARY_BIN"] = os.path.join(ROOT, ".build", "release", "tributary")
    binary = os.environ["TRIBUTARY_BIN"]
    tmp = tempfile.mkdtemp(prefix="bench-cluster-")
    os.chmod(tmp, 0o755)
    paths = paths_file(tmp)
    result = {"seconds": a.seconds, "conns": a.conns}
    cd = None
    try:
        # The cluster first: its PostgreSQL (fsync on) also holds the single process's database.
        layout = up(os.path.join(tmp, "cluster"), replicas=2, standbys=False, fsync=True)
        cd = ClusterDir(os.path.join(tmp, "cluster"))
        front = layout["front"]
        admin = layout["url"].rpartition("/")[0] + "/postgres"
        subprocess.run(["psql", admin, "-qc", "CREATE DATABASE single"], check=True, capture_output=True)
        single_url = admin.rpartition("/")[0] + "/single"
        single = Server(binary, "fsync", os.path.join(tmp, "single-data"), ["--postgres", single_url])
        single.start(ready_timeout=120)
        try:
            log("==> single process: seeding, then commands and queries flat out")
            setup_data(single.port, CUSTOMERS, ORDERS)
            cpu1 = {}
            c1, q1 = load(single.port, a.seconds, a.conns, paths, cpu1)
        finally:
            single.stop()
        log("==> cluster: seeding through the front, then commands and queries flat out")
        setup_data(front, CUSTOMERS, ORDERS)
        for p in layout["processes"]:
            wait_settled(p["port"])
        cpu2 = {}
        c2, q2 = load(front, a.seconds, a.conns, paths, cpu2)
        result["cpuUsPerCommand"] = {"single": cpu1, "cluster": cpu2}
        result["single"] = {"commandsPerSecond": c1["rps"], "commandP99Ms": c1["p99"], "queriesPerSecond": q1["rps"],
                            "queryP99Ms": q1["p99"]}
        result["cluster"] = {"commandsPerSecond": c2["rps"], "commandP99Ms": c2["p99"], "queriesPerSecond": q2["rps"],
                             "queryP99Ms": q2["p99"]}
        for p in layout["processes"]:
            wait_settled(p["port"])
        ports = {p["name"]: p["port"] for p in layout["processes"]}
        log("==> CPU per query: one orders replica vs the front over the replicas")
        order_paths = paths_file(tmp, customers=False)
        # Both through nginx: one replica by its /processes/ path, then the round-robin over two.
        result["oneReplica"] = cpu_per_query(cd, layout, front, ["orders-q1", "orders-q2"], a.seconds, a.conns,
                                             order_paths, prefix="/processes/orders-q1")
        result["front"] = cpu_per_query(cd, layout, front, ["orders-q1", "orders-q2"], a.seconds, a.conns, order_paths)
        log("==> replica lag under the command load")
        stop, samples = threading.Event(), []
        sampler = threading.Thread(target=replica_lag, args=(front, ports["customers-q2"], stop, samples))
        sampler.start()
        env = {"MIX": "edits", "CUSTOMERS": str(CUSTOMERS), "ORDERS": str(ORDERS), "RUN": uuid.uuid4().hex[:6],
               "CONNS": str(a.conns)}
        under = wrk(f"http://127.0.0.1:{front}", a.conns, a.seconds, COMMANDS_LUA, env, timeout=None, progress=False)
        stop.set()
        sampler.join()
        samples.sort()
        result["replicaLag"] = {"samples": len(samples), "p50Ms": statistics.median(samples) if samples else None,
                                "p99Ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))] if samples else None,
                                "commandsPerSecondMeanwhile": under["rps"]}
    finally:
        if cd is not None:
            down(cd.dir)
        shutil.rmtree(tmp, ignore_errors=True)
    s, c = result["single"], result["cluster"]
    print(f"{'':34}{'single':>12}{'cluster':>12}{'ratio':>8}")
    print(f"{'commands/s (wrk, edits mix)':34}{s['commandsPerSecond']:>12.0f}{c['commandsPerSecond']:>12.0f}"
          f"{c['commandsPerSecond'] / s['commandsPerSecond']:>8.2f}")
    print(f"{'command p99 ms':34}{s['commandP99Ms']:>12.1f}{c['commandP99Ms']:>12.1f}")
    print(f"{'queries/s (wrk, queries.lua)':34}{s['queriesPerSecond']:>12.0f}{c['queriesPerSecond']:>12.0f}"
          f"{c['queriesPerSecond'] / s['queriesPerSecond']:>8.2f}")
    one, two = result["oneReplica"], result["front"]
    for label, cpu in result["cpuUsPerCommand"].items():
        print(f"CPU per command ({label}): " + ", ".join(f"{g} {v:.0f} us" for g, v in cpu.items()))
    print(f"CPU per orders query: one replica taking it all {one['cpuUsPerQuery']:.1f} us ({one['rps']:.0f}/s); through the front over two, "
          f"{two['cpuUsPerQuery']:.1f} us in all ({two['rps']:.0f}/s), per replica "
          + ", ".join(f"{n} {v:.0f}" for n, v in two["perReplicaUsPerQuery"].items()))
    lag = result["replicaLag"]
    print(f"replica lag under load: p50 {lag['p50Ms']:.1f} ms, p99 {lag['p99Ms']:.1f} ms ({lag['samples']} samples, "
          f"{lag['commandsPerSecondMeanwhile']:.0f} commands/s meanwhile)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
