"""Open-model command generator: a realistic command mix with unique ids and Idempotency-Keys.

Intended send times are scheduled at a fixed rate; a request that waits for a free connection
keeps its intended time, so latency = response time - intended send time (no coordinated omission).
State (customers, orders, approvals) is tracked from the command responses and from a tail of the
public log (/public/events: order.placed / lines-changed / approved / rejected), so that `ship` is
only sent for orders whose latest decision is an approval."""
import asyncio, json, random, re, time
from collections import Counter
from .common import Conn, Pacer, percentiles, log

MIX = {"register": 10, "place": 35, "add-line": 15, "remove-line": 10, "cancel": 10, "ship": 15, "rename": 5}
SKUS = [f"SKU-{i}" for i in range(1, 41)]


class CommandMix:
    def __init__(self, prefix, seed=1, mix=MIX):
        self.prefix = prefix
        self.rng = random.Random(seed)
        self.ops, self.weights = zip(*mix.items())
        self.n = 0
        self.customers = []            # acknowledged customer ids
        self.orders = {}               # id -> {"lines": {sku: line}, "changes": n, "busy": bool}
        self.open_ids = []             # open (not cancelled/shipped) order ids
        self.public = {}               # id -> [changes seen, last decision type]
        self.acks = []                 # (kind, id, position, version)
        self.pending_customers = 0
        self.fresh = []                # (ack time, id): usable for orders once the Orders replica has them

    def _uid(self, kind):
        self.n += 1
        return f"{self.prefix}-{kind}{self.n}"

    def _remove_open(self, oid):
        try:
            i = self.open_ids.index(oid)
        except ValueError:
            return
        self.open_ids[i] = self.open_ids[-1]; self.open_ids.pop()

    def _pick_open(self, pred, tries=8):
        for _ in range(tries):
            if not self.open_ids:
                return None
            oid = self.rng.choice(self.open_ids)
            o = self.orders[oid]
            if not o["busy"] and pred(oid, o):
                return oid
        return None

    def shippable(self, oid, o):
        p = self.public.get(oid)
        return p is not None and p[1] == "order.approved" and p[0] >= o["changes"]

    def next(self):
        """-> (op, path, body, on_ack) ; on_ack(status, body_json) updates the state."""
        op = self.rng.choices(self.ops, self.weights)[0]
        now = time.monotonic()
        while self.fresh and (self.fresh[0][0] < now - 0.5 or not self.customers):
            self.customers.append(self.fresh.pop(0)[1])
        if op == "register" or not self.customers:
            return self._register()
        if op == "place":
            return self._place()
        if op == "rename":
            cid = self.rng.choice(self.customers)
            return ("rename", f"/commands/customers/{cid}/rename", {"name": f"Renamed {self.n}"},
                    self._ack_customer(cid))
        if op == "ship":
            oid = self._pick_open(self.shippable, tries=16)
        elif op == "remove-line":
            oid = self._pick_open(lambda i, o: len(o["lines"]) > 1)
        else:
            oid = self._pick_open(lambda i, o: True)
        if oid is None:
            return self._place()
        o = self.orders[oid]
        o["busy"] = True
        if op == "add-line":
            sku = self.rng.choice([s for s in SKUS if s not in o["lines"]] or SKUS)
            line = {"sku": sku, "quantity": self.rng.randint(1, 5), "unitPrice": self.rng.randint(100, 20000)}
            return ("add-line", f"/commands/orders/{oid}/add-line", line, self._ack_order(oid, add=line))
        if op == "remove-line":
            sku = self.rng.choice(list(o["lines"]))
            return ("remove-line", f"/commands/orders/{oid}/remove-line", {"sku": sku}, self._ack_order(oid, remove=sku))
        if op == "cancel":
            return ("cancel", f"/commands/orders/{oid}/cancel", {"reason": "load test"}, self._ack_order(oid, close=True))
        return ("ship", f"/commands/orders/{oid}/ship", {}, self._ack_order(oid, close=True))

    def _register(self):
        cid = self._uid("c")
        self.pending_customers += 1
        body = {"customerId": cid, "name": f"Load Customer {cid}", "email": f"{cid}@example.com",
                "creditLimit": 10**14, "currency": "EUR"}

        def ack(status, j):
            self.pending_customers -= 1
            if 200 <= status < 300:
                self.fresh.append((time.monotonic(), cid))
                self._record("customers", cid, j)
        return ("register", "/commands/customers/register", body, ack)

    def _place(self):
        oid = self._uid("o")
        cid = self.rng.choice(self.customers)
        skus = self.rng.sample(SKUS, self.rng.randint(1, 5))
        lines = [{"sku": s, "quantity": self.rng.randint(1, 5), "unitPrice": self.rng.randint(100, 20000)} for s in skus]

        def ack(status, j):
            if 200 <= status < 300:
                self.orders[oid] = {"lines": {l["sku"]: l for l in lines}, "changes": 1, "busy": False, "customer": cid}
                self.open_ids.append(oid)
                self._record("orders", oid, j)
        return ("place", "/commands/orders/place", {"orderId": oid, "customerId": cid, "currency": "EUR", "lines": lines}, ack)

    def _ack_customer(self, cid):
        def ack(status, j):
            if 200 <= status < 300:
                self._record("customers", cid, j)
        return ack

    def _ack_order(self, oid, add=None, remove=None, close=False):
        def ack(status, j):
            o = self.orders[oid]
            o["busy"] = False
            if 200 <= status < 300:
                self._record("orders", oid, j)
                if add:
                    o["lines"][add["sku"]] = add; o["changes"] += 1
                if remove:
                    o["lines"].pop(remove, None); o["changes"] += 1
                if close:
                    self._remove_open(oid)
            elif status == 409 and close:
                pass
        return ack

    def _record(self, kind, ident, j):
        m = re.match(r"^[a-z]+:(\d+)$", str(j.get("position", ""))) if isinstance(j, dict) else None
        if m:
            self.acks.append((kind, ident, int(m.group(1)), j.get("version")))
            self.last_position = j["position"]

    def on_public(self, events):
        for e in events:
            oid = e.get("data", {}).get("orderId")
            if oid is None:
                continue
            p = self.public.setdefault(oid, [0, None])
            if e["type"] in ("order.placed", "order.lines-changed"):
                p[0] += 1
                p[1] = e["type"]
            else:
                p[1] = e["type"]


async def tail_public(host, port, mix, stop, period=0.1):
    """Follows /public/events for order decisions so that ship targets approved orders."""
    c = Conn(host, port)
    after = 0
    st, _, body = await c.request("GET", "/public/events?after=0&limit=1")
    try:
        after = json.loads(body).get("lastPosition", 0) if st == 200 else 0
    except ValueError:
        after = 0
    types = "order.placed,order.lines-changed,order.approved,order.rejected"
    while not stop.is_set():
        st, _, body = await c.request("GET", f"/public/events?after={after}&limit=1000&types={types}")
        if st == 200:
            j = json.loads(body)
            mix.on_public(j.get("events", []))
            after = j.get("nextAfter", after)
            if len(j.get("events", [])) >= 1000:
                continue
        try:
            await asyncio.wait_for(stop.wait(), period)
        except asyncio.TimeoutError:
            pass
    c.close()


class Recorder:
    def __init__(self):
        self.lat = []
        self.by_op = {}
        self.status = Counter()
        self.sent = 0
        self.done = 0
        self.late_max = 0.0

    def add(self, op, status, ms):
        self.done += 1
        self.status[status] += 1
        self.lat.append(ms)
        self.by_op.setdefault(op, []).append(ms)


async def run_open(host, port, mix, rate, duration, conns, rec, max_requests=10**9, progress=True,
                   idem_prefix="k", extra_task=None):
    """Dispatches mix.next() at `rate`/s (0: flat out, closed loop over `conns` connections)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    tail = asyncio.create_task(tail_public(host, port, mix, stop))
    pacer = Pacer(rate, duration, max_requests, conns, rec)
    start = pacer.start
    counter = [0]

    async def worker():
        c = Conn(host, port)
        while (intended := await pacer.next()) is not None:
            op, path, body, ack = mix.next()
            counter[0] += 1
            st, head, data = await c.request("POST", path, body, f"Idempotency-Key: {idem_prefix}-{counter[0]}\r\n")
            now = loop.time()
            try:
                j = json.loads(data) if data and 200 <= st < 300 else None
            except ValueError:
                j = None
            ack(st, j)
            rec.add(op, st, (now - intended) * 1000)
        c.close()

    async def progress_line():
        last = 0
        while True:
            await asyncio.sleep(1)
            t = loop.time() - start
            recent = rec.lat[last:]
            last = len(rec.lat)
            p99 = percentiles(recent)["p99"] if recent else float("nan")
            log(f"  t={t:5.1f}s sent={rec.sent} done={rec.done} backlog={pacer.backlog} "
                f"last-second p99={p99:.1f}ms errors={sum(v for k, v in rec.status.items() if not 200 <= k < 300)}")

    tasks = [asyncio.create_task(worker()) for _ in range(conns)]
    prod = asyncio.create_task(pacer.produce()) if rate > 0 else None
    prog = asyncio.create_task(progress_line()) if progress else None
    extra = asyncio.create_task(extra_task(stop)) if extra_task else None
    # bounded: everything must finish within duration + 30 s
    done, pending = await asyncio.wait(tasks, timeout=duration + 30)
    for t in pending:
        t.cancel()
    rec.unfinished = len(pending)
    elapsed = loop.time() - start
    stop.set()
    for t in (prod, prog):
        if t:
            t.cancel()
    await tail
    if extra:
        await extra
    return elapsed


def summarize(rec, elapsed, rate):
    p = percentiles(list(rec.lat))
    ok = sum(v for k, v in rec.status.items() if 200 <= k < 300)
    return {"intended_rate": rate, "sent": rec.sent, "completed": rec.done, "ok": ok, "elapsed_s": elapsed,
            "throughput": rec.done / elapsed if elapsed else 0.0, "ok_per_s": ok / elapsed if elapsed else 0.0,
            **{k: v for k, v in p.items()}, "status": {str(k): v for k, v in sorted(rec.status.items())},
            "by_op": {op: {"n": len(v), **{k: x for k, x in percentiles(list(v)).items() if k in ("p50", "p99")}}
                      for op, v in sorted(rec.by_op.items())}}


def print_summary(s, label="commands"):
    print(f"{label}: {s['completed']} completed of {s['sent']} scheduled in {s['elapsed_s']:.1f}s -> "
          f"{s['throughput']:.0f}/s (intended {s['intended_rate'] or 'flat out'}), 2xx {s['ok']}")
    print(f"latency from intended send time: p50 {s['p50']:.2f} ms  p90 {s['p90']:.2f} ms  p99 {s['p99']:.2f} ms  "
          f"p99.9 {s['p999']:.2f} ms  max {s['max']:.2f} ms")
    print("responses by status: " + ", ".join(f"{k}: {v}" for k, v in s["status"].items()))
    print("per command: " + ", ".join(f"{op} {v['n']} (p50 {v['p50']:.1f}, p99 {v['p99']:.1f} ms)"
                                      for op, v in s["by_op"].items()))
