"""The split deployment, for real: `scripts/cluster up` (its own PostgreSQL, a customers and an
orders writer, a standby of each, two query replicas per service, nginx in front), then the
saga, read-your-writes on every replica, SSE resume across replicas, convergence of the
replicas, a standby taking over from a SIGKILLed writer, and a writer losing its lease exits
rather than write beside another."""
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from conftest import REPO_ROOT, SSEConnection, server_binary

CLUSTER = REPO_ROOT / "scripts" / "cluster"


class Cluster:
    def __init__(self, directory: Path, layout: dict):
        self.dir, self.layout = directory, layout
        self.front = f"http://127.0.0.1:{layout['front']}"
        self.ports = {p["name"]: p["port"] for p in layout["processes"]}
        self.http = httpx.Client(timeout=15)

    def url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def pid(self, name: str) -> int:
        return int((self.dir / "run" / f"{name}.pid").read_text().strip())

    def health(self, name: str) -> dict:
        return self.http.get(self.url(name, "/health")).json()

    def writer(self, name: str) -> str | None:
        try:
            return self.health(name)["role"]["writer"]
        except (httpx.HTTPError, ValueError, KeyError):
            return None

    def log(self, name: str) -> str:
        return (self.dir / "logs" / f"{name}.log").read_text(errors="replace")

    def psql(self, sql: str) -> str:
        out = subprocess.run(["psql", self.layout["url"], "-Atqc", sql], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def command(self, path: str, body: dict, base: str | None = None, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.http.post((base or self.front) + path, json=body, headers=headers)

    def register(self, base: str | None = None, allow_503: bool = False) -> tuple[str, dict] | None:
        """Registers a new customer; with allow_503, None when the answer is a 503 (a standby, or
        nginx's view of the writers still catching up with a failover: the client retries)."""
        cid = "c-" + uuid.uuid4().hex[:10]
        r = self.command("/commands/customers/register", {"customerId": cid, "name": "Cluster Customer",
                                                          "email": f"{cid}@example.com", "creditLimit": 100_000,
                                                          "currency": "EUR"}, base, key="k-" + cid)
        if allow_503 and r.status_code == 503 and r.headers.get("retry-after"):
            return None
        assert r.status_code == 201, r.text
        return cid, r.json()


def eventually(check, timeout=20.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (httpx.HTTPError, ValueError, KeyError, OSError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


@pytest.fixture(scope="module")
def cluster():
    directory = Path(tempfile.mkdtemp(prefix="tributary-cluster-"))
    os.chmod(directory, 0o755)
    env = {**os.environ, "TRIBUTARY_BIN": str(server_binary())}
    up = subprocess.run([str(CLUSTER), "up", str(directory), "--standbys", "--replicas", "2", "--fsync", "off"],
                        capture_output=True, text=True, env=env, timeout=300)
    if up.returncode != 0:
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in (directory / "logs").glob("*.log"))
        pytest.fail(f"scripts/cluster up failed ({up.returncode}):\n{up.stdout}\n{up.stderr}\n{logs}")
    last = up.stdout.strip().splitlines()[-1]
    layout = json.loads((directory / "cluster.json").read_text())
    assert last == f"front: http://127.0.0.1:{layout['front']}", up.stdout
    c = Cluster(directory, layout)
    yield c
    down = subprocess.run([str(CLUSTER), "down", str(directory)], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    # Every process ended cleanly on SIGTERM (a SIGKILLed one was started again by its supervisor).
    for name in c.ports:
        assert "stopped cleanly" in c.log(name).splitlines()[-1], f"{name}: {c.log(name)[-800:]}"


def test_every_process_reports_its_role(cluster):
    roles = {name: cluster.health(name)["role"] for name in cluster.ports}
    assert roles["customers"] == {"name": "customers", "service": "customers", "writer": "leader"}
    assert roles["orders"] == {"name": "orders", "service": "orders", "writer": "leader"}
    assert roles["customers-standby"]["writer"] == "standby"
    assert roles["orders-q2"] == {"name": "query", "service": "orders", "writer": "none"}
    # A replica opens only its service's store and the public log, and runs read models only.
    health = cluster.health("customers-q1")
    assert set(health["stores"]) == {"customers", "public"}
    assert {c["kind"] for c in health["components"]} == {"projection"}
    metrics = cluster.http.get(cluster.url("orders", "/metrics")).text
    assert 'tributary_process_writer{role="orders",service="orders"} 1' in metrics
    assert 'tributary_process_writer{role="query",service="orders"} 0' in cluster.http.get(cluster.url("orders-q1", "/metrics")).text
    ready = cluster.http.get(cluster.url("customers-standby", "/ready"))
    assert ready.status_code == 200 and ready.json()["role"]["writer"] == "standby"


def test_saga_through_the_front(cluster):
    cid, _ = cluster.register()
    oid = "o-" + uuid.uuid4().hex[:10]
    placed = cluster.command("/commands/orders/place", {"orderId": oid, "customerId": cid, "currency": "EUR",
                                                        "lines": [{"sku": "book", "quantity": 2, "unitPrice": 1500}]})
    assert placed.status_code == 201, placed.text
    # The customers service reserves credit from the public log; the orders service approves.
    order = eventually(lambda: (o := cluster.http.get(f"{cluster.front}/queries/orders/{oid}").json())["status"] == "approved" and o,
                       what="the order approved")
    assert order["total"] == 3000
    customer = eventually(lambda: (c := cluster.http.get(f"{cluster.front}/queries/customers/{cid}").json())["reservedCredit"] == 3000 and c,
                          what="the credit reserved")
    assert customer["availableCredit"] == 97_000
    stats = cluster.http.get(f"{cluster.front}/queries/stats")
    assert stats.status_code == 200 and stats.json()["ordersByStatus"]["approved"] >= 1


def test_read_your_writes_on_every_replica(cluster):
    cid, ack = cluster.register()
    token = ack["position"]
    for replica in ("customers-q1", "customers-q2"):
        r = cluster.http.get(cluster.url(replica, f"/queries/customers/{cid}?minPosition={token}"))
        assert r.status_code == 200, (replica, r.text)
        assert r.json()["customerId"] == cid
    # A position no replica has: bounded wait, then 503 + Retry-After.
    ahead = int(token.split(":")[1]) + 1_000_000
    r = cluster.http.get(cluster.url("customers-q1", f"/queries/customers/{cid}?minPosition=customers:{ahead}"))
    assert r.status_code == 503 and r.headers.get("retry-after"), r.text


def test_sse_resume_on_another_replica(cluster):
    for _ in range(3):
        cluster.register()
    first = SSEConnection(("127.0.0.1", cluster.ports["customers-q1"]), "/streams/public?lastEventId=0")
    events = first.events(3)
    first.close()
    # Resume after the second event on a replica of the other service: the ids are public-log positions.
    second = SSEConnection(("127.0.0.1", cluster.ports["orders-q2"]), "/streams/public", headers={"Last-Event-ID": events[1].id})
    resumed = second.next_event()
    second.close()
    assert (resumed.id, resumed.event, resumed.data) == (events[2].id, events[2].event, events[2].data)
    # Through nginx, unbuffered.
    with cluster.http.stream("GET", f"{cluster.front}/streams/public", headers={"Last-Event-ID": events[1].id}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("id:"):
                assert line.split(":", 1)[1].strip() == events[2].id
                break


def test_replicas_never_write(cluster):
    before = cluster.health("customers")["stores"]["customers"]["lastPosition"]
    r = cluster.command("/commands/customers/register", {"customerId": "c-replica", "name": "N", "email": "n@example.com",
                                                         "creditLimit": 1, "currency": "EUR"},
                        base=cluster.url("customers-q1", ""))
    assert r.status_code == 421 and r.json()["type"] == "/problems/read-only-replica", r.text
    move = cluster.http.post(cluster.url("orders-q1", "/admin/components/orders/orders.views/rebuild"), json={"reason": "test"})
    assert move.status_code == 421, move.text
    assert cluster.health("customers")["stores"]["customers"]["lastPosition"] == before
    # Two leases are held, by the two writers; no replica holds or asks for one.
    assert cluster.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") == "2"
    assert cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'tributary lease%'") == "4"  # + standbys


def test_replicas_converge(cluster):
    tokens = {}
    for _ in range(5):
        cid, ack = cluster.register()
        tokens["customers"] = ack["position"]
    answers = {}
    for replica in ("customers-q1", "customers-q2", "customers-standby", "customers"):
        r = cluster.http.get(cluster.url(replica, f"/queries/customers?limit=500&minPosition={tokens['customers']}"))
        assert r.status_code == 200, r.text
        answers[replica] = r.json()["items"]
    assert all(a == answers["customers"] for a in answers.values())
    for name in cluster.ports:
        cons = cluster.http.get(cluster.url(name, "/admin/consistency"), timeout=60)
        assert cons.status_code == 200 and cons.json()["consistent"] is True, (name, cons.text)


def test_standby_takes_over_from_a_killed_writer(cluster):
    refused = cluster.command("/commands/customers/register", {"customerId": "c-standby", "name": "S", "email": "s@example.com",
                                                               "creditLimit": 1, "currency": "EUR"},
                              base=cluster.url("customers-standby", ""))
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1", refused.text
    assert refused.json()["type"] == "/problems/standby"
    acked = [cluster.register() for _ in range(3)]
    leader = cluster.pid("customers")
    killed_at = time.monotonic()
    os.kill(leader, signal.SIGKILL)
    # Whoever tries first after PostgreSQL ends the dead session takes the lease: the standby, or
    # the killed process started again by its supervisor (which then starts as a standby).
    eventually(lambda: cluster.pid("customers") != leader, timeout=15, what="the supervisor to start the writer again")
    writers = lambda: sorted(n for n in ("customers", "customers-standby") if cluster.writer(n) == "leader")
    eventually(lambda: len(writers()) == 1, timeout=15, what="one customers writer again")
    # Commands through the front reach the new writer (nginx passes over a dead or standby one).
    cid, _ = eventually(lambda: cluster.register(allow_503=True), timeout=15, what="a command through the front")
    took = time.monotonic() - killed_at
    assert took < 10, f"takeover took {took:.1f} s"
    eventually(lambda: {cluster.writer("customers"), cluster.writer("customers-standby")} == {"leader", "standby"},
               timeout=30, what="one leader and one standby")
    for acked_cid, ack in acked:
        history = cluster.http.get(f"{cluster.front}/queries/customers/{acked_cid}/history").json()["events"]
        assert history[0]["position"] == int(ack["position"].split(":")[1])
    held = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'tributary lease customers'")
    assert cluster.psql(held) == "1"


def test_a_writer_that_loses_its_lease_exits(cluster):
    leader = "orders" if cluster.writer("orders") == "leader" else "orders-standby"
    other = "orders-standby" if leader == "orders" else "orders"
    pid = cluster.pid(leader)
    ended = cluster.psql("SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                         "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'tributary lease orders'")
    assert ended == "1"
    eventually(lambda: "lost the orders writer lease" in cluster.log(leader), timeout=10, what="the lease loss logged")
    eventually(lambda: cluster.pid(leader) != pid, timeout=10, what="the process to exit and start again")
    eventually(lambda: cluster.writer(other) == "leader" or cluster.writer(leader) == "leader", timeout=20,
               what="a new orders writer")
    writers = [n for n in ("orders", "orders-standby") if cluster.writer(n) == "leader"]
    assert len(writers) == 1, writers
    cid, _ = eventually(lambda: cluster.register(allow_503=True), timeout=15, what="a customer registered")
    oid = "o-" + uuid.uuid4().hex[:10]
    placed = eventually(lambda: (r := cluster.command("/commands/orders/place", {
        "orderId": oid, "customerId": cid, "currency": "EUR", "lines": [{"sku": "x", "quantity": 1, "unitPrice": 100}]},
        key="k-" + oid)).status_code == 201 and r, timeout=20, what="an order placed with the new writer")
    assert placed.json()["id"] == oid


def test_a_replica_needs_only_select(cluster):
    """A query replica opens its stores read-only: no DDL, no writer session, so a database role
    with SELECT on the two schemas is all it needs (and it could not append if it tried)."""
    cluster.psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reader') THEN CREATE ROLE reader LOGIN; END IF; END $$")
    for schema in ("tributary_customers", "tributary_public"):
        cluster.psql(f"GRANT USAGE ON SCHEMA {schema} TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO reader")
    cid, ack = cluster.register()
    url = cluster.layout["url"].replace("postgresql://postgres@", "postgresql://reader@")
    proc = subprocess.Popen([str(server_binary()), "serve", "--role", "query", "--service", "customers", "--postgres", url,
                             "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in proc.stdout:
            if "listening on http://127.0.0.1:" in line:
                port = int(line.split("listening on http://127.0.0.1:")[1].split()[0].rstrip('"'))
                break
        assert port, "the read-only replica did not start"
        r = cluster.http.get(f"http://127.0.0.1:{port}/queries/customers/{cid}?minPosition={ack['position']}")
        assert r.status_code == 200 and r.json()["customerId"] == cid, r.text
        eventually(lambda: cluster.http.get(f"http://127.0.0.1:{port}/ready").status_code == 200, what="the replica ready")
        # Per store: the blocking connection, the reader (LISTEN, the tail) and the loader; no writer.
        sessions = cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reader'")
        assert sessions == "6", sessions
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
