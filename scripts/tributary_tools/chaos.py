"""scripts/tool chaos: crash safety end to end: SIGKILL the real server under a command load, restart, check.

  scripts/tool chaos [--cycles N] [--max-seconds S] [--clients C] [--bin PATH] [--data DIR] [--seed X]
                     [--postgres-dir DIR] [--poison]

Runs `tributary serve --durability fsync` on 127.0.0.1 (port 0) and a load of C keep-alive
clients (unique ids, an Idempotency-Key per command): register customers, place orders, cancel
some. Every command answered 2xx is logged with its response (DATA/../acks.jsonl). At a random
moment (sometimes during start-up catch-up) the server gets SIGKILL; then `tributary verify`
checks CRCs and the hash chain of every store, the server is restarted, commands that were in
flight are retried with their Idempotency-Key, and once /ready is 200 and every component lag
in /health is 0 and the public log is quiet:
  1. every acknowledged command's event is in its stream's history (version and position);
  2. every internal event of a type that maps to a public event has exactly one public event
     (by causationId = internal eventId), and public ids are unique (no duplicate, none missing);
  3. consumers applied each public event exactly once: at most one credit reservation and one
     release per order; each customer's reservedCredit equals the sum of the totals of its
     approved/pending orders computed from the public log; availableCredit is never negative;
  4. GET /admin/consistency reports the live read models equal to a fresh rebuild.
With --poison, the credit saga cannot handle the placement of about one order in seven (the
test hook TRIBUTARY_INJECT_FAULT): it parks them and goes on. Between cycles the operator skips
one now and then and retries them all while the fault is still there (they stay parked); the
checks tolerate exactly the parked and skipped orders (pending, no credit). At the end the fix
is deployed (a restart without the hook), the parked events are retried, the process is killed
at a random moment of that and the retry is run again: every parked order is then resolved once
(at most one reservation each), nothing stays parked, and all the checks hold with only the
skipped orders left pending.
Defaults: 20 cycles, 600 s bound (stops early, reporting how many cycles ran), 3 clients.
Exit status 0 only if every check of every cycle passed. With TRIBUTARY_TOKEN set, every request
carries it as a Bearer token (needs commands:write, queries:read and admin).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from . import server as launcher
from .server import ServerError, existing_binary as default_binary


class ChaosFailure(AssertionError):
    pass


#: --poison: the credit saga fails on these orders' events (see docs/operations.md).
POISON_PREFIX = "o-poison-"
POISON_ENV = {"TRIBUTARY_INJECT_FAULT": f"component=customers-credit,match={POISON_PREFIX}"}
CREDIT = "/admin/parked/customers/customers-credit"


class Server(launcher.Server):
    """The shared launcher with chaos's contract: started on construction (--durability fsync);
    a failed start, or no exit within 15 s of SIGTERM, is a ChaosFailure."""

    def __init__(self, binary: Path, data: Path, extra: list[str] | None = None, env: dict | None = None):
        super().__init__(binary, "fsync", data, extra or [], env)
        try:
            self.start(listen_timeout=60)
        except ServerError as e:
            raise ChaosFailure("server did not start:\n" + "\n".join(e.output[-30:])) from None

    def stop(self) -> int:
        code = super().stop(timeout=15)
        if code is None:
            raise ChaosFailure("server did not exit within 15 s of SIGTERM")
        return code


class Client:
    """One keep-alive HTTP/1.1 connection; reconnects after errors."""

    def __init__(self, port: int, timeout: float = 15.0):
        self.port, self.timeout, self.conn = port, timeout, None

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        h = dict(headers or {})
        if os.environ.get("TRIBUTARY_TOKEN"):   # a server with --tokens-file: an admin+write+read token
            h.setdefault("Authorization", "Bearer " + os.environ["TRIBUTARY_TOKEN"])
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
            raw = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), raw
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def json(self, path: str) -> dict:
        status, _, raw = self.request("GET", path)
        if status != 200:
            raise ChaosFailure(f"GET {path} -> {status} {raw[:300]!r}")
        return json.loads(raw)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Load:
    """C client threads issuing commands until stopped; records acks and in-flight commands."""

    def __init__(self, port: int, clients: int, rng: random.Random, state: "State"):
        self.port, self.rng, self.state = port, rng, state
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(random.Random(rng.random()),), daemon=True)
                        for _ in range(clients)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=20)

    def next_command(self, rng: random.Random) -> tuple[str, dict, str]:
        st = self.state
        with st.lock:
            customers = list(st.customers)
            orders = list(st.open_orders)
        roll = rng.random()
        if not customers or roll < 0.25:
            cid = "c-" + uuid.uuid4().hex[:12]
            return "/commands/customers/register", {"customerId": cid, "name": "Chaos Customer",
                                                    "email": f"{cid}@example.com", "creditLimit": 10_000,
                                                    "currency": "EUR"}, cid
        if orders and roll < 0.45:
            oid = rng.choice(orders)
            return f"/commands/orders/{oid}/cancel", {"reason": "chaos"}, oid
        oid = (POISON_PREFIX if st.poison and rng.random() < 0.15 else "o-") + uuid.uuid4().hex[:12]
        lines = [{"sku": f"SKU-{k}", "quantity": rng.randint(1, 3), "unitPrice": rng.choice([500, 1000, 1500])}
                 for k in range(rng.randint(1, 2))]
        return "/commands/orders/place", {"orderId": oid, "customerId": rng.choice(customers), "currency": "EUR",
                                          "lines": lines}, oid

    def run(self, rng: random.Random) -> None:
        client = Client(self.port, timeout=10)
        while not self.stop_flag.is_set():
            path, body, sid = self.next_command(rng)
            key = "k-" + uuid.uuid4().hex
            try:
                status, _, raw = client.request("POST", path, body, {"Idempotency-Key": key})
            except (OSError, http.client.HTTPException):
                self.state.in_flight(path, body, sid, key)
                time.sleep(0.05)
                continue
            self.state.answered(path, body, sid, key, status, raw)
        client.close()


class State:
    """Everything the checks need, kept across cycles."""

    def __init__(self, ack_log: Path, poison: bool = False):
        self.poison = poison
        #: Orders whose parked placement the operator skipped: pending for ever, no credit.
        self.skipped_orders: set[str] = set()
        self.lock = threading.Lock()
        self.acks: list[dict] = []
        self.customers: list[str] = []
        self.open_orders: list[str] = []
        self.pending_retry: list[tuple] = []
        self.ack_log = ack_log.open("a")
        self.statuses: dict[int, int] = {}

    def in_flight(self, path, body, sid, key) -> None:
        with self.lock:
            self.pending_retry.append((path, body, sid, key))

    def answered(self, path, body, sid, key, status, raw) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status >= 500 and status != 503:
                raise ChaosFailure(f"POST {path} -> {status} {raw[:300]!r}")
            if not 200 <= status < 300:
                return
            resp = json.loads(raw)
            ack = {"path": path, "body": body, "stream": sid, "key": key, "status": status, "response": resp}
            self.acks.append(ack)
            self.ack_log.write(json.dumps(ack) + "\n")
            self.ack_log.flush()
            if path.endswith("/register"):
                self.customers.append(sid)
            elif path.endswith("/place"):
                self.open_orders.append(sid)
            elif path.endswith("/cancel") and sid in self.open_orders:
                self.open_orders.remove(sid)


def parked_orders(client: Client) -> set[str]:
    """The orders whose saga events are parked (their `sequence`)."""
    return {p["sequence"] for p in client.json("/admin/parked")["parked"] if p.get("sequence")}


def tolerated(client: Client, state: "State | None") -> set[str]:
    """Orders that may stay pending without credit: parked or skipped (--poison), else none."""
    if state is None or not state.poison:
        return set()
    return parked_orders(client) | state.skipped_orders


def wait_settled(client: Client, timeout: float = 60.0, state: "State | None" = None) -> dict:
    """/ready 200, projection and publisher lags 0, no pending order (but those `tolerated`),
    and the public log unchanged for 0.5 s. (Consumer lags are not used: a consumer subscribed
    with an event-type filter reports lag ≥ 1 forever when the newest public events are of
    types it ignores.)"""
    deadline = time.monotonic() + timeout
    previous, since = None, 0.0
    while True:
        try:
            status, _, _ = client.request("GET", "/ready")
            if status == 200:
                # 503 (degraded) while events are parked: the report is the same document.
                _, _, raw = client.request("GET", "/health")
                health = json.loads(raw)
                lags = [c.get("lag", 0) for c in health["components"] if c["kind"] in ("projection", "publisher")]
                if state is not None and state.poison:
                    allowed = tolerated(client, state)
                    pending = [o for o in paged(client, "/queries/orders?status=pending") if o["orderId"] not in allowed]
                else:
                    pending = client.json("/queries/orders?status=pending&limit=1")["items"]
                last = client.json("/public/events?after=0&limit=1")["lastPosition"]
                calm = all(l == 0 for l in lags) and not pending
                if calm and previous == last:
                    if time.monotonic() - since >= 0.5:
                        return health
                else:
                    previous, since = (last if calm else None), time.monotonic()
        except (OSError, http.client.HTTPException, ChaosFailure):
            previous = None
        if time.monotonic() > deadline:
            raise ChaosFailure(f"server did not settle within {timeout}s")
        time.sleep(0.1)


def paged(client: Client, path: str, key: str = "items") -> list[dict]:
    out, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        page = client.json(path + f"{sep}limit=500" + (f"&cursor={cursor}" if cursor else ""))
        out += page[key]
        cursor = page.get("nextCursor")
        if not cursor:
            return out


def public_log(client: Client) -> list[dict]:
    events, after = [], 0
    while True:
        page = client.json(f"/public/events?after={after}&limit=500")
        if not page["events"]:
            return events
        events += page["events"]
        after = page["nextAfter"]


def check(client: Client, state: State) -> dict:
    """All checks; returns counts. Raises ChaosFailure with a precise message on a violation."""
    histories: dict[tuple[str, str], list[dict]] = {}
    customers = paged(client, "/queries/customers")
    orders = paged(client, "/queries/orders")
    for kind, items, idkey in (("customers", customers, "customerId"), ("orders", orders, "orderId")):
        for item in items:
            histories[(kind, item[idkey])] = client.json(f"/queries/{kind}/{item[idkey]}/history")["events"]
    # 1. acknowledged commands are stored.
    with state.lock:
        acks = list(state.acks)
    for ack in acks:
        kind = "customers" if "/customers/" in ack["path"] else "orders"
        events = histories.get((kind, ack["stream"]))
        if events is None:
            raise ChaosFailure(f"acknowledged {ack['path']} for '{ack['stream']}' but the stream is gone: {ack}")
        want_version = ack["response"]["version"]
        want_pos = int(ack["response"]["position"].split(":")[1])
        if not any(e["version"] == want_version and e["position"] == want_pos for e in events):
            raise ChaosFailure(f"acknowledged event missing (version {want_version}, position {want_pos}): {ack}; "
                               f"history versions {[(e['version'], e['position']) for e in events]}")
    for events in histories.values():
        versions = [e["version"] for e in events]
        if versions != list(range(len(versions))):
            raise ChaosFailure(f"stream versions not 0..n-1: {versions}")
    # 2. public log: exactly once per mapped internal event.
    log = public_log(client)
    ids = [e["id"] for e in log]
    if len(ids) != len(set(ids)):
        raise ChaosFailure("duplicate public event ids")
    positions = [e["position"] for e in log]
    if positions != list(range(1, len(log) + 1)):
        raise ChaosFailure("public log positions not gapless 1..n")
    by_cause: dict[str, list[dict]] = {}
    for e in log:
        by_cause.setdefault(e["causationId"], []).append(e)
    internal = [(kind, e) for (kind, _), evs in histories.items() for e in evs]
    mapped_types = {(kind, e["type"]) for kind, e in internal if e["eventId"] in by_cause}
    mapped = 0
    for kind, e in internal:
        if (kind, e["type"]) not in mapped_types:
            continue
        pub = [p for p in by_cause.get(e["eventId"], []) if p["source"] == kind]
        if len(pub) != 1:
            raise ChaosFailure(f"internal {kind} event {e['type']} {e['eventId']} has {len(pub)} public events: {pub}")
        mapped += 1
    published_internal = sum(1 for e in log if e["source"] in ("customers", "orders"))
    if published_internal != mapped:
        raise ChaosFailure(f"{published_internal} public events but {mapped} mapped internal events")
    # 3. consumers: exactly-once effects.
    reserved_by_order: dict[str, int] = {}
    released: dict[str, int] = {}
    order_total: dict[str, int] = {}
    order_status: dict[str, str] = {}
    order_customer: dict[str, str] = {}
    for e in log:
        d = e["data"]
        t = e["type"]
        if t == "customer.credit-reserved":
            reserved_by_order[d["orderId"]] = reserved_by_order.get(d["orderId"], 0) + 1
        elif t == "customer.credit-released":
            released[d["orderId"]] = released.get(d["orderId"], 0) + 1
        elif t.startswith("order."):
            oid = d["orderId"]
            if "total" in d:
                order_total[oid] = d["total"]
            if "customerId" in d:
                order_customer[oid] = d["customerId"]
            order_status[oid] = {"order.placed": "pending", "order.approved": "approved", "order.rejected": "rejected",
                                 "order.cancelled": "cancelled", "order.shipped": "shipped",
                                 "order.lines-changed": "pending"}.get(t, order_status.get(oid, "pending"))
    for oid, n in reserved_by_order.items():
        if n > 1:
            raise ChaosFailure(f"order {oid} has {n} credit reservations")
    for oid, n in released.items():
        if n > 1:
            raise ChaosFailure(f"order {oid} has {n} credit releases")
    expected_reserved: dict[str, int] = {}
    without_credit = tolerated(client, state)
    for oid, status in order_status.items():
        if status == "pending" and oid in without_credit:
            if oid in reserved_by_order and oid not in released:
                raise ChaosFailure(f"order {oid} is parked or skipped but holds a credit reservation")
            continue
        if status in ("approved", "pending"):
            cid = order_customer[oid]
            expected_reserved[cid] = expected_reserved.get(cid, 0) + order_total[oid]
    for c in customers:
        want = expected_reserved.get(c["customerId"], 0)
        if c["reservedCredit"] != want or c["availableCredit"] < 0:
            raise ChaosFailure(f"customer {c['customerId']}: reservedCredit {c['reservedCredit']} (available "
                               f"{c['availableCredit']}), expected {want} from the public log")
    live = {o["orderId"]: o["status"] for o in orders}
    for oid, status in order_status.items():
        if live.get(oid) != status:
            raise ChaosFailure(f"order {oid}: read model says {live.get(oid)}, public log says {status}")
    # 4. read models equal a fresh rebuild.
    cons = client.json("/admin/consistency")
    if cons.get("consistent") is not True:
        raise ChaosFailure(f"/admin/consistency: {json.dumps(cons)[:800]}")
    return {"acks": len(acks), "streams": len(histories), "public": len(log), "mapped": mapped}


def verify_stores(binary: Path, data: Path) -> None:
    r = subprocess.run([str(binary), "verify", "--data", str(data), *launcher.engine_args(data)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise ChaosFailure(f"tributary verify failed ({r.returncode}): {r.stdout[-800:]} {r.stderr[-800:]}")


def retry_in_flight(client: Client, state: State) -> int:
    """Re-sends commands whose answer was lost to the kill, with the same Idempotency-Key."""
    with state.lock:
        pending, state.pending_retry = state.pending_retry, []
    for path, body, sid, key in pending:
        status, _, raw = client.request("POST", path, body, {"Idempotency-Key": key})
        state.answered(path, body, sid, key, status, raw)
    return len(pending)


def operator_moves(client: Client, state: State, rng: random.Random) -> tuple[int, int]:
    """--poison, between cycles: now and then skip one parked placement, or retry them all while
    the fault is still there (each stays parked with a `failed` outcome). Returns (skipped, retried)."""
    parked = client.json("/admin/parked")["parked"]
    skipped = retried = 0
    heads = [p for p in parked if p["eventType"] == "order.placed" and p["attempts"] > 0]
    if heads and rng.random() < 0.3:
        head = rng.choice(heads)
        status, _, raw = client.request("POST", f"{CREDIT}/{head['position']}/skip", {"reason": "chaos: skip"})
        if status != 200:
            raise ChaosFailure(f"skip of parked {head['position']} -> {status} {raw[:300]!r}")
        with state.lock:
            state.skipped_orders.add(head["sequence"])
        skipped = 1
    if parked and rng.random() < 0.3:
        status, _, raw = client.request("POST", f"{CREDIT}/retry", {"reason": "chaos: retry with the fault still in"})
        if status != 200:
            raise ChaosFailure(f"retry of every parked event -> {status} {raw[:300]!r}")
        outcomes = {e["outcome"] for e in json.loads(raw)["retried"]}
        if outcomes - {"failed"}:
            raise ChaosFailure(f"a parked event resolved while the fault is in: {raw[:300]!r}")
        retried = 1
    return skipped, retried


def deploy_fix(binary: Path, data: Path, server: Server, state: State, rng: random.Random, log) -> tuple[Server, int]:
    """--poison, at the end: restart without the fault, retry the parked events, SIGKILL the
    process at a random moment of that, restart and retry again; nothing may stay parked."""
    server.kill()
    server = Server(binary, data)
    client = Client(server.port)
    wait_settled(client, state=state)
    before = len(client.json("/admin/parked")["parked"])
    retry = threading.Thread(target=lambda: _retry_all_ignoring_the_kill(server.port))
    retry.start()
    time.sleep(rng.uniform(0.0, 0.4))
    server.kill()
    retry.join(timeout=30)
    client.close()
    verify_stores(binary, data)
    server = Server(binary, data)
    client = Client(server.port)
    wait_settled(client, state=state)
    status, _, raw = client.request("POST", f"{CREDIT}/retry", {"reason": "chaos: the fix is deployed"})
    if status != 200 or {e["outcome"] for e in json.loads(raw)["retried"]} - {"resolved"}:
        raise ChaosFailure(f"retry after the fix -> {status} {raw[:600]!r}")
    left = client.json("/admin/parked")["parked"]
    if left:
        raise ChaosFailure(f"{len(left)} events still parked after the fix: {left[:3]}")
    log(f"fix deployed: {before} parked events retried (killed once during the retry), none left; "
        f"{len(state.skipped_orders)} skipped")
    client.close()
    return server, before


def _retry_all_ignoring_the_kill(port: int) -> None:
    client = Client(port, timeout=30)
    try:
        client.request("POST", f"{CREDIT}/retry", {"reason": "chaos: the fix is deployed"})
    except (OSError, http.client.HTTPException):
        pass   # the kill
    finally:
        client.close()


def run(cycles: int, max_seconds: float, clients: int, binary: Path, data: Path, seed: int,
        log=print, restart_database=None, poison: bool = False) -> dict:
    """With `restart_database` (the server on PostgreSQL), every other cycle stops the database
    the hard way (`pg_ctl stop -m immediate`) and starts it again under the load instead of
    killing the server, which must come back by itself. With `poison`, see the module comment."""
    rng = random.Random(seed)
    state = State(data.parent / "acks.jsonl", poison=poison)
    started = time.monotonic()
    kills = during_startup = retried = database_restarts = skips = poisoned_retries = parked_at_fix = 0
    env = POISON_ENV if poison else None

    def launch() -> Server:
        return Server(binary, data, env=env)
    server = launch()
    try:
        cycle = 0
        while cycle < cycles:
            if time.monotonic() - started > max_seconds:
                log(f"time bound {max_seconds}s reached after {cycle} cycles")
                break
            cycle += 1
            client = Client(server.port)
            if rng.random() < 0.2:
                # Kill during start-up catch-up (publisher/consumers replaying), before settling.
                time.sleep(rng.uniform(0.0, 0.3))
                server.kill(); kills += 1; during_startup += 1
                client.close()
                verify_stores(binary, data)
                server = launch()
                client = Client(server.port)
            wait_settled(client, state=state)
            retried += retry_in_flight(client, state)
            wait_settled(client, state=state)
            counts = check(client, state)
            if poison:
                s, r = operator_moves(client, state, rng)
                skips += s
                poisoned_retries += r
            client.close()
            load = Load(server.port, clients, rng, state)
            load.start()
            time.sleep(rng.uniform(0.3, 2.0))
            if restart_database is not None and cycle % 2 == 1:
                restart_database(); database_restarts += 1
                time.sleep(rng.uniform(0.3, 1.0))
                load.stop()
                log(f"cycle {cycle}/{cycles}: checked {counts['acks']} acked commands, {counts['streams']} streams, "
                    f"{counts['public']} public events; database stopped -m immediate and restarted under load "
                    f"({time.monotonic() - started:.0f}s)")
                continue
            server.kill(); kills += 1
            load.stop()
            verify_stores(binary, data)
            log(f"cycle {cycle}/{cycles}: checked {counts['acks']} acked commands, {counts['streams']} streams, "
                f"{counts['public']} public events; SIGKILL at random moment; verify ok "
                f"({time.monotonic() - started:.0f}s)", )
            server = launch()
        client = Client(server.port)
        wait_settled(client, state=state)
        retried += retry_in_flight(client, state)
        if poison:
            client.close()
            server, parked_at_fix = deploy_fix(binary, data, server, state, rng, log)
            kills += 2   # the old process, then the one killed during the retry
            client = Client(server.port)
        wait_settled(client, state=state)
        counts = check(client, state)
        client.close()
        code = server.stop()
        if code != 0:
            raise ChaosFailure(f"server exited {code} on SIGTERM")
        verify_stores(binary, data)
        return {"cycles": cycle, "kills": kills, "killsDuringStartup": during_startup, "retried": retried,
                "databaseRestarts": database_restarts, "skipped": skips, "retriesWithTheFault": poisoned_retries,
                "parkedAtFix": parked_at_fix,
                "statuses": state.statuses, "seconds": round(time.monotonic() - started, 1), **counts}
    finally:
        server.kill()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="scripts/tool chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cycles", type=int, default=20, help="SIGKILL/restart cycles (1..1000, default 20)")
    p.add_argument("--max-seconds", type=float, default=600, help="stop after this long whatever the count (default 600)")
    p.add_argument("--clients", type=int, default=3, help="keep-alive load clients (1..16, default 3)")
    p.add_argument("--bin", type=Path, default=default_binary(), help="tributary binary")
    p.add_argument("--data", type=Path, help="data directory (default: a fresh temporary one, removed on success)")
    p.add_argument("--seed", type=int, default=int(time.time()), help="random seed (printed)")
    p.add_argument("--poison", action="store_true",
                   help="the credit saga fails on some orders (test hook): it parks them; the operator skips and "
                        "retries, the fix is deployed at the end (see the module comment)")
    p.add_argument("--postgres-dir", type=Path,
                   help="a cluster started by `scripts/tool postgres start --dir DIR`: the server runs on it, and every "
                        "other cycle restarts the database (pg_ctl stop -m immediate) instead of killing the server")
    a = p.parse_args(argv)
    restart_database = None
    if a.postgres_dir is not None:
        from .pgcluster import Cluster
        cluster = Cluster.existing(a.postgres_dir)
        os.environ["TRIBUTARY_SERVER_POSTGRES"] = cluster.url

        def restart_database():
            cluster.stop("immediate")
            time.sleep(0.5)
            cluster.start()
    cycles = max(1, min(a.cycles, 1000))
    clients = max(1, min(a.clients, 16))
    tmp = None
    if a.data is None:
        tmp = Path(tempfile.mkdtemp(prefix="tributary-chaos-"))
        data = tmp / "data"
    else:
        data = a.data
    data.mkdir(parents=True, exist_ok=True)
    print(f"chaos: {cycles} cycles, {clients} clients, seed {a.seed}, data {data}, binary {a.bin}", flush=True)
    try:
        result = run(cycles, a.max_seconds, clients, a.bin, data, a.seed, log=lambda m: print(m, flush=True),
                     restart_database=restart_database, poison=a.poison)
    except ChaosFailure as e:
        print(f"CHAOS FAILED: {e}\n(data kept in {data}; acks in {data.parent / 'acks.jsonl'})", file=sys.stderr)
        return 1
    print(f"chaos passed: {json.dumps(result)}")
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0
