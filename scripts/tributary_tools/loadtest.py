"""scripts/loadtest: commands | queries | mixed | sse. See `scripts/loadtest SUBCOMMAND --help`."""
import argparse, asyncio, json, os, random, re, sys, tempfile, time
from .common import (Conn, Pacer, log, get, check_consistency, verify_acks, check_loopback, raise_nofile,
                     machine_load, MAX_DURATION)
from .server import Server, release_binary
from .wrk import COMMANDS_LUA, QUERIES_LUA, wrk
from .command_mix import CommandMix, Recorder, run_open, summarize, print_summary


def add_target(p, durability="fsync"):
    g = p.add_argument_group("target")
    g.add_argument("--url", help="an already running server (loopback only), e.g. http://127.0.0.1:8080; "
                                 "default: start a throwaway `tributary serve` with a temp data dir")
    g.add_argument("--bin", help="tributary binary (default: swift build -c release, .build/release/tributary)")
    g.add_argument("--no-build", action="store_true", help="do not build; use the existing release binary")
    g.add_argument("--durability", default=durability, choices=["fsync", "batch", "none"],
                   help=f"durability of the throwaway server (default {durability})")
    g.add_argument("--json", help="also write the results as JSON to this file")
    g.add_argument("--verify-sample", type=int, default=500,
                   help="aggregates whose acknowledged commands are checked in the store (0: all; default 500)")
    g.add_argument("--no-verify", action="store_true", help="skip /admin/consistency and the acknowledged-write check")


class Target:
    def __init__(self, a, extra=()):
        self.server = None
        if a.url:
            self.host, self.port = check_loopback(a.url)
        else:
            binary = a.bin or release_binary(build_it=not a.no_build)
            self.server = Server(binary, a.durability, extra=extra).start(ready_timeout=120)
            self.host, self.port = "127.0.0.1", self.server.port
            log(f"==> tributary on {self.server.url} (durability {a.durability}, data {self.server.data}, "
                f"ready in {self.server.ready_s:.2f}s)")

    def close(self):
        if self.server:
            self.server.cleanup()


def verify(a, t, acks, result, extra_checks=()):
    if a.no_verify:
        return True
    ok, msg = check_consistency(t.port, t.host)
    print(("OK   " if ok else "FAIL ") + msg)
    result["consistency"] = {"ok": ok, "detail": msg}
    good = ok
    if acks:
        checked, missing, msg = verify_acks(t.port, acks, a.verify_sample, t.host)
        good = good and not missing
        print(("OK   " if not missing else "FAIL ") + msg + (f"; missing e.g. {missing[:3]}" if missing else ""))
        result["acks_verified"] = {"checked": checked, "missing": len(missing)}
    for fn in extra_checks:
        g, msg = fn()
        good = good and g
        print(("OK   " if g else "FAIL ") + msg)
    return good


def dump(a, result):
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1, default=str)


def wait_caught_up(host, port, timeout=60):
    """Waits until every projection in /health reports lag 0."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st, _, body = get(port, "/health", host=host)
        try:
            # projections only: an idle consumer can report a non-zero lag (see the report)
            if st == 200 and all(c.get("lag", 0) == 0 for c in json.loads(body).get("components", [])
                                 if c.get("kind") == "projection"):
                return True
        except ValueError:
            pass
        time.sleep(0.05)
    return False


async def seed(host, port, customers, orders, prefix="l", conns=64, wait_approved=True):
    """Registers customers {prefix}c-i and places orders {prefix}o-i (1-5 lines) concurrently."""
    q = asyncio.Queue()
    for i in range(customers):
        q.put_nowait(("/commands/customers/register", {"customerId": f"{prefix}c-{i}", "name": f"Seed {i}",
                      "email": f"s{i}@example.com", "creditLimit": 10**14, "currency": "EUR"}))
    fails = []

    async def w():
        c = Conn(host, port)
        while not q.empty():
            path, body = q.get_nowait()
            st, _, data = await c.request("POST", path, body)
            if not 200 <= st < 300:
                fails.append((path, st, data[:200]))
        c.close()
    await asyncio.gather(*[w() for _ in range(conns)])
    wait_caught_up(host, port)  # the Orders service's customer replica must know them before orders are placed
    rng = random.Random(3)
    for i in range(orders):
        q.put_nowait(("/commands/orders/place", {"orderId": f"{prefix}o-{i}", "customerId": f"{prefix}c-{i % customers}",
                      "currency": "EUR", "lines": [{"sku": f"B{k}", "quantity": rng.randint(1, 5), "unitPrice": rng.randint(100, 9999)}
                                                   for k in range(rng.randint(1, 5))]}))
    await asyncio.gather(*[w() for _ in range(conns)])
    if fails:
        sys.exit(f"seeding failed: {len(fails)} errors, e.g. {fails[:3]}")
    if wait_approved and orders:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            st, _, body = get(port, "/queries/stats", host=host)
            s = json.loads(body).get("ordersByStatus", {})
            if s.get("approved", 0) + s.get("rejected", 0) >= orders:
                break
            time.sleep(0.1)


# ---------------------------------------------------------------- commands
def cmd_commands(a):
    a.duration = min(a.duration, MAX_DURATION)
    t = Target(a)
    result = {"test": "commands", "rate": a.rate, "duration": a.duration, "load": machine_load()}
    good = True
    try:
        if a.rate > 0:
            mix = CommandMix(a.prefix or f"r{int(time.time()) % 100000}", seed=a.seed)
            rec = Recorder()
            cpu0 = time.process_time()
            elapsed = asyncio.run(run_open(t.host, t.port, mix, a.rate, a.duration, a.connections, rec,
                                           a.max_requests, idem_prefix=mix.prefix))
            gen_cpu = (time.process_time() - cpu0) / elapsed
            s = summarize(rec, elapsed, a.rate)
            s["generator_cpu"] = gen_cpu
            result.update(s)
            print_summary(s)
            print(f"load generator: Python asyncio, 1 process, {a.connections} connections, "
                  f"{100 * gen_cpu:.0f}% of a core; it cannot drive much beyond ~{max(1, s['throughput'] / max(gen_cpu, 0.05)):.0f} req/s on this machine")
            if rec.sent > rec.done + rec.unfinished:
                print(f"NOTE {rec.sent - rec.done} scheduled requests were not completed within the time bound")
            if a.state:
                with open(a.state, "w") as f:
                    json.dump({"customers": mix.customers, "orders": list(mix.orders)}, f)
            good = verify(a, t, mix.acks, result)
        else:
            good = flat_out_commands(a, t, result)
    finally:
        t.close()
    result["verified"] = good
    dump(a, result)
    return 0 if good else 1


def flat_out_commands(a, t, result):
    log(f"==> seeding {a.customers} customers and {a.orders} orders (approved by the saga) for the wrk mix")
    asyncio.run(seed(t.host, t.port, a.customers, a.orders, prefix="l"))
    run = a.prefix or f"w{int(time.time()) % 100000}"
    conns = a.connections
    log(f"==> wrk -t{a.threads} -c{conns} -d{a.duration:g}s, scripts/tributary_tools/lua/commands.lua (flat out, closed loop)")
    r = wrk(f"http://127.0.0.1:{t.port}", conns, int(a.duration), COMMANDS_LUA,
            {"MIX": "lifecycle", "CUSTOMERS": str(a.customers), "ORDERS": str(a.orders), "RUN": run, "THREADS": str(a.threads),
             "CONNS": str(conns)}, threads=a.threads, progress_port=t.port)
    ops = dict(kv.split("=") for kv in (re.search(r"^ops (.*)$", r["raw"], re.M) or [None, ""])[1].split())
    r.pop("raw")
    result.update({"throughput": r["rps"], "p50": r["p50"], "p90": r["p90"], "p99": r["p99"], "requests": r["requests"],
                   "status": {str(k): v for k, v in sorted(r["statuses"].items())}, "sockerr": r["sockerr"],
                   "ops": ops, "generator": "wrk"})
    print(f"commands (flat out, wrk, {conns} connections): {r['requests']} in {a.duration:g}s -> {r['rps']:.0f}/s")
    print(f"latency (closed loop, wrk): p50 {r['p50']:.2f} ms  p90 {r['p90']:.2f} ms  p99 {r['p99']:.2f} ms")
    print("responses by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
          + (f"; socket errors: {r['sockerr']}" if r["sockerr"] else ""))
    print("commands sent: " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items())))

    def placed_check():
        # ids of orders placed by wrk on thread 0: slots 2,4,7,10,12,14,17,20 (mod 20) are always place
        slots = {2, 4, 7, 10, 12, 14, 17, 0}
        n_max = max(0, int(r["requests"] / a.threads) - conns - 20)
        cands = [n for n in range(1, n_max) if n % 20 in slots]
        sample = random.Random(5).sample(cands, min(len(cands), a.verify_sample or len(cands)))
        acks = [("orders", f"no-{run}-0-{n}", None, None) for n in sample]
        missing = 0
        import http.client
        c = http.client.HTTPConnection(t.host, t.port, timeout=30)
        for _, oid, _, _ in acks:
            c.request("GET", f"/queries/orders/{oid}/history"); resp = c.getresponse(); body = resp.read()
            if resp.status != 200 or b"OrderPlaced" not in body:
                missing += 1
        c.close()
        st, _, h = get(t.port, "/health", host=t.host)
        events = sum(s["lastPosition"] for k, s in json.loads(h)["stores"].items() if k != "public")
        ok2xx = sum(v for k, v in r["statuses"].items() if 200 <= k < 300) + a.customers + a.orders
        good = missing == 0 and events >= ok2xx
        return good, (f"acknowledged commands in the store: {len(acks) - missing}/{len(acks)} sampled wrk-placed orders "
                      f"found via history; internal events {events} >= 2xx commands {ok2xx}")
    return verify(a, t, [], result, [placed_check])


# ---------------------------------------------------------------- queries
QUERY_MIX = {"detail": 60, "list": 25, "stats": 15}


def query_paths(rng, state, cursors):
    op = rng.choices(list(QUERY_MIX), list(QUERY_MIX.values()))[0]
    if op == "detail":
        if rng.random() < 0.7 and state["orders"]:
            return op, f"/queries/orders/{rng.choice(state['orders'])}"
        return op, f"/queries/customers/{rng.choice(state['customers'])}"
    if op == "list":
        if cursors:
            return op, cursors.pop()
        kind = rng.choice(["orders", "customers", "orders?status=approved"])
        sep = "&" if "?" in kind else "?"
        return op, f"/queries/{kind}{sep}limit=50"
    return op, "/queries/stats"


async def run_queries(host, port, state, rate, duration, conns, rec, max_requests=10**9, ryw=None, progress=True):
    loop = asyncio.get_running_loop()
    rng = random.Random(11)
    cursors = []
    pacer = Pacer(rate, duration, max_requests, conns, rec)
    pages = [0]

    async def worker():
        c = Conn(host, port)
        while (intended := await pacer.next()) is not None:
            op, path = query_paths(rng, state, cursors)
            st, head, data = await c.request("GET", path)
            rec.add(op, st, (loop.time() - intended) * 1000)
            if op == "list" and st == 200:
                m = re.search(rb'"nextCursor":"([^"]+)"', data)
                pages[0] += 1
                if m and len(cursors) < 1000:
                    base = path.split("cursor=")[0].rstrip("&?")
                    sep = "&" if "?" in base else "?"
                    cursors.append(f"{base}{sep}cursor={m.group(1).decode()}")
        c.close()

    async def prog():
        while True:
            await asyncio.sleep(1)
            log(f"  t={loop.time() - pacer.start:5.1f}s sent={rec.sent} done={rec.done} backlog={pacer.backlog} "
                f"errors={sum(v for k, v in rec.status.items() if k != 200)}")
    tasks = [asyncio.create_task(worker()) for _ in range(conns)]
    extra = [asyncio.create_task(pacer.produce())] if rate > 0 else []
    if progress:
        extra.append(asyncio.create_task(prog()))
    done, pending = await asyncio.wait(tasks, timeout=duration + 30)
    for x in list(pending) + extra:
        x.cancel()
    rec.unfinished = len(pending)
    rec.pages = pages[0]
    return loop.time() - pacer.start


def load_state(a, t):
    if a.state and os.path.exists(a.state):
        with open(a.state) as f:
            return json.load(f)
    log(f"==> creating data: the command mix at {a.seed_rate}/s for {a.seed_seconds}s (no state file given)")
    mix = CommandMix("q", seed=2)
    rec = Recorder()
    asyncio.run(run_open(t.host, t.port, mix, a.seed_rate, a.seed_seconds, 64, rec, progress=False, idem_prefix="q"))
    log(f"    {len(mix.customers)} customers, {len(mix.orders)} orders")
    return {"customers": mix.customers, "orders": list(mix.orders)}


def cmd_queries(a):
    a.duration = min(a.duration, MAX_DURATION)
    t = Target(a)
    result = {"test": "queries", "rate": a.rate, "duration": a.duration, "load": machine_load()}
    try:
        state = load_state(a, t)
        if not state["customers"]:
            sys.exit("no customers in the data set")
        if a.rate > 0:
            rec = Recorder()
            cpu0 = time.process_time()
            elapsed = asyncio.run(run_queries(t.host, t.port, state, a.rate, a.duration, a.connections, rec, a.max_requests))
            s = summarize(rec, elapsed, a.rate)
            s["generator_cpu"] = (time.process_time() - cpu0) / elapsed
            s["list_pages"] = rec.pages
            result.update(s)
            print_summary(s, "queries")
            print(f"list pages read (cursors followed): {rec.pages}; generator {100 * s['generator_cpu']:.0f}% of a core")
        else:
            with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as f:
                for o in state["orders"][:5000]:
                    f.write(f"/queries/orders/{o}\n")
                for c in state["customers"][:2000]:
                    f.write(f"/queries/customers/{c}\n")
                idfile = f.name
            r = wrk(f"http://127.0.0.1:{t.port}", a.connections, int(a.duration), QUERIES_LUA,
                    {"PATHS": idfile}, threads=a.threads, progress_port=t.port)
            os.unlink(idfile)
            r.pop("raw")
            result.update({"throughput": r["rps"], "p50": r["p50"], "p90": r["p90"], "p99": r["p99"],
                           "status": {str(k): v for k, v in sorted(r["statuses"].items())}, "generator": "wrk"})
            print(f"queries (flat out, wrk, {a.connections} connections; 60% detail, 25% list following cursors, "
                  f"15% stats): {r['requests']} -> {r['rps']:.0f}/s")
            print(f"latency (closed loop): p50 {r['p50']:.2f} ms  p90 {r['p90']:.2f} ms  p99 {r['p99']:.2f} ms")
            print("responses by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())))
        good = verify(a, t, [], result)
        bad = sum(v for k, v in result.get("status", {}).items() if k != "200")
        if bad:
            print(f"FAIL {bad} query responses were not 200")
            good = False
    finally:
        t.close()
    result["verified"] = good
    dump(a, result)
    return 0 if good else 1


# ---------------------------------------------------------------- mixed
async def sse_subscriber(host, port, stats, stop):
    try:
        r, w = await asyncio.open_connection(host, port)
        w.write(b"GET /streams/public HTTP/1.1\r\nHost: l\r\n\r\n")
        head = await r.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            stats["refused"] += 1
            return
        stats["connected"] += 1
        last = 0
        buf = b""
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(r.read(1 << 16), 0.5)
            except asyncio.TimeoutError:
                continue
            if not chunk:
                stats["closed"] += 1
                break
            buf += chunk
            frames = buf.split(b"\n\n")
            buf = frames.pop()
            for f in frames:
                m = re.search(rb"^id: ?(\d+)", f, re.M)
                if m:
                    i = int(m.group(1))
                    stats["events"] += 1
                    if i <= last:
                        stats["out_of_order"] += 1
                    elif last and i != last + 1:
                        stats["gaps"] += 1
                    last = i
        w.close()
    except (OSError, asyncio.IncompleteReadError):
        stats["errors"] += 1


def cmd_mixed(a):
    a.duration = min(a.duration, MAX_DURATION)
    raise_nofile(a.subscribers + 2048)
    t = Target(a, extra=["--sse-max-subscribers", str(a.subscribers + 100)])
    result = {"test": "mixed", "duration": a.duration, "load": machine_load()}
    try:
        mix = CommandMix(f"m{int(time.time()) % 100000}", seed=a.seed)
        crec, qrec = Recorder(), Recorder()
        sse = {"connected": 0, "refused": 0, "events": 0, "out_of_order": 0, "gaps": 0, "closed": 0, "errors": 0}
        ryw = {"checked": 0, "ok": 0, "stale": 0, "status": {}}
        rng = random.Random(9)

        async def main():
            stop = asyncio.Event()
            subs = [asyncio.create_task(sse_subscriber(t.host, t.port, sse, stop)) for _ in range(a.subscribers)]
            await asyncio.sleep(0.5)
            # seed a few customers and orders so the queries have something to read
            crec0 = Recorder()
            await run_open(t.host, t.port, mix, 200, 1.0, 16, crec0, progress=False, idem_prefix=mix.prefix + "s")
            state = {"customers": mix.customers, "orders": list(mix.orders)}
            ryw_q = asyncio.Queue()
            orig_record = mix._record

            def record(kind, ident, j):
                orig_record(kind, ident, j)
                if rng.random() < a.ryw_sample and isinstance(j, dict):
                    ryw_q.put_nowait((kind, ident, j.get("position"), j.get("version")))
            mix._record = record

            async def ryw_worker(stop2):
                c = Conn(t.host, t.port)
                while not (stop2.is_set() and ryw_q.empty()):
                    try:
                        kind, ident, pos, ver = await asyncio.wait_for(ryw_q.get(), 0.2)
                    except asyncio.TimeoutError:
                        continue
                    st, _, data = await c.request("GET", f"/queries/{kind}/{ident}?minPosition={pos}")
                    ryw["checked"] += 1
                    ryw["status"][st] = ryw["status"].get(st, 0) + 1
                    try:
                        v = json.loads(data).get("version", -1) if st == 200 else -1
                    except ValueError:
                        v = -1
                    if st == 200 and v >= ver:
                        ryw["ok"] += 1
                    else:
                        ryw["stale"] += 1
                c.close()

            qtask = asyncio.create_task(run_queries(t.host, t.port, state, a.query_rate, a.duration, a.query_connections,
                                                    qrec, progress=False))
            elapsed = await run_open(t.host, t.port, mix, a.rate, a.duration, a.connections, crec,
                                     idem_prefix=mix.prefix, extra_task=ryw_worker)
            await qtask
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*subs)
            return elapsed
        elapsed = asyncio.run(main())
        cs, qs = summarize(crec, elapsed, a.rate), summarize(qrec, elapsed, a.query_rate)
        print_summary(cs, "commands")
        print_summary(qs, "queries")
        st, _, h = get(t.port, "/health", host=t.host)
        public_last = json.loads(h)["stores"]["public"]["lastPosition"]
        print(f"SSE: {sse['connected']} subscribers connected ({sse['refused']} refused), {sse['events']} events received "
              f"(public log at {public_last}: {sse['connected']} x ~{sse['events'] / max(1, sse['connected']):.0f}), "
              f"out of order {sse['out_of_order']}, gaps {sse['gaps']}, closed early {sse['closed']}, errors {sse['errors']}")
        print(f"read-your-writes (minPosition) checks, {100 * a.ryw_sample:g}% of acknowledged commands: "
              f"{ryw['ok']}/{ryw['checked']} saw their write, {ryw['stale']} did not; statuses {ryw['status']}")
        result.update({"commands": cs, "queries": qs, "sse": sse, "ryw": ryw})

        def extra():
            g = ryw["stale"] == 0 and sse["out_of_order"] == 0 and sse["refused"] == 0 and sse["errors"] == 0
            return g, f"mixed checks: ryw stale {ryw['stale']}, SSE out-of-order {sse['out_of_order']}, refused {sse['refused']}, errors {sse['errors']}"
        good = verify(a, t, mix.acks, result, [extra])
    finally:
        t.close()
    result["verified"] = good
    dump(a, result)
    return 0 if good else 1


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/loadtest", description=(
        "Load tests against a throwaway tributary server on loopback (or --url, loopback only). Each run is bounded "
        "(--duration, at most 600 s, plus a fixed setup/teardown budget), prints a progress line every second, and "
        "ends by verifying consistency: GET /admin/consistency (read models rebuilt from the stores equal the live ones) "
        "and that acknowledged commands are in the store (history endpoints)."))
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("commands", help="a realistic command mix at a fixed rate (open model) or flat out (wrk)",
                       description="Register customers, place orders (1-5 lines), add/remove lines, cancel, ship "
                       "(only orders whose latest decision is an approval), rename; unique ids and Idempotency-Keys. "
                       "--rate R > 0: Python asyncio open-model generator, latency measured from the intended send "
                       "time (no coordinated omission); about 2-4k req/s is the most it drives on 2 shared cores. "
                       "--rate 0: flat out with wrk + scripts/tributary_tools/lua/commands.lua (closed loop) over "
                       "--customers/--orders seeded first. Reports throughput, p50/p90/p99/p99.9, responses by status.")
    p.add_argument("--rate", type=float, default=1000, help="commands/s (default 1000; 0 = flat out with wrk)")
    p.add_argument("--duration", type=float, default=10, help="seconds (default 10, max 600)")
    p.add_argument("--connections", type=int, default=None, help="connections (default 64 at a fixed rate, 256 flat out)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads for --rate 0 (default 1)")
    p.add_argument("--max-requests", type=int, default=10**7, help="stop after this many commands (default 1e7)")
    p.add_argument("--customers", type=int, default=1000, help="customers seeded for --rate 0 (default 1000)")
    p.add_argument("--orders", type=int, default=3000, help="orders seeded for --rate 0 (default 3000)")
    p.add_argument("--prefix", help="id prefix (default: derived from the time)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--state", help="write the created customer/order ids here (input for `queries --state`)")
    add_target(p)

    q = sub.add_parser("queries", help="detail, list (following cursors) and stats reads",
                       description="Reads over the data a command run created (--state from `commands --state` with "
                       "--url), or, by default, over data made here by running the command mix first. Mix: 60% detail "
                       "(orders/customers), 25% list pages following nextCursor, 15% stats. --rate R: open model "
                       "(Python); --rate 0: flat out with wrk + scripts/tributary_tools/lua/queries.lua.")
    q.add_argument("--rate", type=float, default=2000, help="queries/s (default 2000; 0 = flat out with wrk)")
    q.add_argument("--duration", type=float, default=10, help="seconds (default 10, max 600)")
    q.add_argument("--connections", type=int, default=64, help="connections (default 64)")
    q.add_argument("--threads", type=int, default=1, help="wrk threads for --rate 0 (default 1)")
    q.add_argument("--max-requests", type=int, default=10**7)
    q.add_argument("--state", help="ids written by `commands --state` (use with --url)")
    q.add_argument("--seed-rate", type=float, default=1000, help="command rate to create data (default 1000)")
    q.add_argument("--seed-seconds", type=float, default=3, help="seconds of commands to create data (default 3)")
    add_target(q)

    m = sub.add_parser("mixed", help="commands + queries + SSE subscribers at once, read-your-writes checks",
                       description="The command mix (open model) and the query mix (open model) at once, with "
                       "--subscribers SSE subscribers on /streams/public counting events (order and gaps), and a "
                       "sample of acknowledged commands read back with ?minPosition=<position> (read-your-writes): "
                       "the read must return 200 with a version >= the acknowledged one.")
    m.add_argument("--rate", type=float, default=500, help="commands/s (default 500)")
    m.add_argument("--query-rate", type=float, default=1000, help="queries/s (default 1000)")
    m.add_argument("--subscribers", type=int, default=50, help="SSE subscribers (default 50)")
    m.add_argument("--duration", type=float, default=10, help="seconds (default 10, max 600)")
    m.add_argument("--connections", type=int, default=32, help="command connections (default 32)")
    m.add_argument("--query-connections", type=int, default=32, help="query connections (default 32)")
    m.add_argument("--ryw-sample", type=float, default=0.1, help="fraction of acks read back with minPosition (default 0.1)")
    m.add_argument("--seed", type=int, default=1)
    add_target(m)

    sub.add_parser("sse", help="SSE subscribers on /streams/public, delivery latency, RSS (loadtest_sse.py; "
                   "`scripts/loadtest sse --help`)", add_help=False)

    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "sse":
        from .loadtest_sse import main as sse_main
        return sse_main(argv[1:])
    a, rest = ap.parse_known_args(argv)
    if rest:
        ap.error(f"unknown arguments {rest}")
    if a.cmd == "commands":
        if a.connections is None:
            a.connections = 256 if a.rate == 0 else 64
        return cmd_commands(a)
    if a.cmd == "queries":
        return cmd_queries(a)
    return cmd_mixed(a)
