"""Operating components through the admin API, on the real server: a poison event injected with
the test hook `TRIBUTARY_INJECT_FAULT` (see docs/operations.md) stops a read model and is parked
by the credit saga, which carries on for the other orders; after the "fix" (a restart without the
hook) a retry applies the effect exactly once, a skip is recorded and holds, a read model resumed
past the poison and then rebuilt under a command load ends consistent, and no query ever answers
from a half-built view. The server is SIGKILLed between the steps and during a rebuild."""

import threading
import time
import uuid

import httpx

from conftest import server_binary
from cqrs_client import Api, line, poll
from tributary_tools.server import Server   # scripts/ is on sys.path (conftest)

J = {"Content-Type": "application/json"}


def start(data, **env):
    return Server(server_binary(), "fsync", data, env=env or None).start(listen_timeout=60, ready_timeout=60)


def restart(server: Server, api: Api, data, **env) -> tuple[Server, Api]:
    """SIGKILL, then a new process on the same data (with `env`)."""
    server.kill()
    api.close()
    server = start(data, **env)
    return server, Api(server.url)


def move(api: Api, path: str, reason: str, **body) -> httpx.Response:
    return api.post(path, {"reason": reason, **body})


def health(api: Api) -> tuple[int, dict]:
    r = api.get("/health")
    return r.status_code, r.json()


def component(api: Api, name: str) -> dict:
    return next(c for c in health(api)[1]["components"] if c["name"] == name)


def parked(api: Api) -> list[dict]:
    r = api.get("/admin/parked")
    assert r.status_code == 200, r.text
    return r.json()["parked"]


def caught_up(api: Api, timeout: float = 20) -> None:
    """Every component has followed its store to the end (lag 0), twice in a row with the
    public log unchanged: what was acknowledged has reached every view."""
    def state():
        doc = api.get("/health").json()
        last = api.view("/public/events", {"after": 0, "limit": 1})["lastPosition"]
        return all(c["lag"] == 0 for c in doc["components"]), last
    previous = None
    deadline = time.monotonic() + timeout
    while True:
        calm, last = state()
        if calm and previous == last:
            return
        previous = last if calm else None
        assert time.monotonic() < deadline, api.get("/health").text
        time.sleep(0.1)


def journal(api: Api, service: str) -> list[dict]:
    r = api.get(f"/admin/operations/{service}")
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def test_the_saga_parks_a_poison_event_goes_on_and_a_retry_applies_it_once(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server = start(data, TRIBUTARY_INJECT_FAULT="component=customers-credit,match=poison-")
    api = Api(server.url)
    try:
        assert any("TEST HOOK TRIBUTARY_INJECT_FAULT" in l for l in server.output), "the binary predates the hook"
        cid = api.register(name="Pia Park", credit_limit=100_000)["id"]
        poison1, good, poison2, poison3 = (f"o-poison-{uuid.uuid4().hex[:8]}", f"o-{uuid.uuid4().hex[:8]}",
                                           f"o-poison-{uuid.uuid4().hex[:8]}", f"o-poison-{uuid.uuid4().hex[:8]}")
        api.place(cid, [line("A", 1, 1_000)], order_id=poison1)
        api.place(cid, [line("B", 1, 2_000)], order_id=good)
        api.wait_order(good, "approved")   # the saga went on past the poison
        api.order_cmd(poison1, "cancel", {"reason": "changed my mind"})   # the same order: parked behind it
        api.place(cid, [line("C", 1, 4_000)], order_id=poison2)
        api.place(cid, [line("D", 1, 8_000)], order_id=poison3)
        found = poll(lambda: parked(api), lambda p: len(p) == 4, 20, "four parked events")
        first, behind, second, third = found
        assert (first["eventType"], first["sequence"], first["attempts"]) == ("order.placed", poison1, 1), first
        assert "injected fault" in first["error"] and first["component"] == "customers-credit", first
        assert (behind["eventType"], behind["sequence"], behind["attempts"]) == ("order.cancelled", poison1, 0), behind
        assert f"behind public position {first['position']}" in behind["error"], behind
        assert api.order(poison2)["status"] == "pending" and api.customer(cid)["reservedCredit"] == 2_000
        status, doc = health(api)
        assert status == 503 and doc["status"] == "degraded", doc
        credit = component(api, "customers-credit")
        assert credit["parked"] == 4 and not credit["healthy"] and credit["status"] == "running", credit
        metrics = api.get("/metrics").text
        assert 'tributary_component_parked{service="customers",kind="consumer",name="customers-credit"} 4' in metrics
        # Out of order: refused while the first of the sequence stays parked.
        r = move(api, f"/admin/parked/customers/customers-credit/{behind['position']}/retry", "too early")
        assert r.status_code == 409 and "behind" in r.json()["detail"], r.text

        # The fix is deployed: the process dies, a new one starts without the fault.
        server, api = restart(server, api, data)
        assert [p["position"] for p in parked(api)] == [p["position"] for p in found], "parked events survive a SIGKILL"
        assert api.order(poison2)["status"] == "pending", "a parked event is not handled again by itself"

        r = move(api, f"/admin/parked/customers/customers-credit/{third['position']}/skip", "duplicate, refunded by hand")
        assert r.status_code == 200 and r.json()["type"] == "operations.parked-event-skipped", r.text
        r = move(api, "/admin/parked/customers/customers-credit/retry", "deployed the fix")
        assert r.status_code == 200, r.text
        retried = r.json()["retried"]
        assert [(e["position"], e["outcome"]) for e in retried] == [(first["position"], "resolved"), (behind["position"], "resolved"),
                                                                   (second["position"], "resolved")], retried
        api.wait_order(poison2, "approved")
        api.wait_order(poison1, "cancelled")
        assert move(api, f"/admin/parked/customers/customers-credit/{second['position']}/retry", "again").status_code == 404
        assert parked(api) == [] and health(api)[0] == 200

        # Exactly once, also after another SIGKILL: poison1 reserved then released, poison2
        # reserved once, poison3 never.
        server, api = restart(server, api, data)
        caught_up(api)
        customer = api.customer(cid)
        assert customer["reservedCredit"] == 2_000 + 4_000, customer
        assert api.order(poison3)["status"] == "pending"
        entries = journal(api, "customers")
        kinds = [e["type"].split(".")[1] for e in entries]
        assert kinds.count("event-parked") == 4 and kinds.count("parked-event-skipped") == 1, kinds
        assert kinds.count("parked-event-retried") == 3, kinds
        skip = next(e for e in entries if e["type"] == "operations.parked-event-skipped")
        assert skip["by"] == "development" and skip["reason"] == "duplicate, refunded by hand" and skip["recordedAt"], skip
        r = api.get("/admin/consistency")
        assert r.status_code == 200 and r.json()["consistent"], r.text
    finally:
        api.close()
        server.kill()


def test_a_read_model_stops_is_resumed_past_the_poison_and_rebuilt_live_under_load(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server = start(data, TRIBUTARY_INJECT_FAULT="component=customers-directory,match=Poisonous")
    api = Api(server.url)
    try:
        ids = [api.register(name=f"Cara Number{i}", wait_replica=False)["id"] for i in range(20)]
        victim = ids[0]
        r = api.customer_cmd(victim, "rename", {"name": "Poisonous Pill"})
        token = r["position"]
        stopped = poll(lambda: component(api, "customers-directory"), lambda c: c["status"] == "failed", 20, "the view to stop")
        assert "injected fault" in stopped["error"] and not stopped["healthy"], stopped
        assert health(api)[0] == 503
        r = api.get(f"/queries/customers/{victim}", {"minPosition": token})
        assert r.status_code == 503 and r.json()["type"] == "/problems/projection-failed", r.text
        r = move(api, "/admin/components/customers/customers-credit/resume", "not failed")
        assert r.status_code == 409, r.text
        r = move(api, "/admin/components/customers/no-such-view/resume", "typo")
        assert r.status_code == 404, r.text
        assert api.post("/admin/components/customers/customers-directory/resume", {}).status_code == 422

        # From where it stopped: the fault is still there, so it stops again.
        r = move(api, "/admin/components/customers/customers-directory/resume", "try again", **{"from": "failed"})
        assert r.status_code == 200 and r.json()["outcome"] == "failed", r.text
        poll(lambda: component(api, "customers-directory"), lambda c: c["status"] == "failed", 20, "the view to stop again")
        # Past the poison: the view goes on without that one event.
        r = move(api, "/admin/components/customers/customers-directory/resume", "skip the bad rename", **{"from": "next"})
        assert r.status_code == 200 and r.json()["outcome"] == "next", r.text
        later = api.register(name="Lou Later", wait_replica=False)
        assert api.customer(later["id"], min_position=later["position"])["name"] == "Lou Later"
        assert api.customer(victim)["name"] == "Cara Number0"
        assert api.get("/admin/consistency").status_code == 409, "the skipped event is missing, and the check says so"

        # The fix: a restart without the fault. The skip holds (recorded before it took effect).
        server.kill()
        server = start(data, TRIBUTARY_FAULT_INJECT="slow:150")   # a slow disk: rebuilds take a while
        api.close()
        api = Api(server.url)
        assert api.customer(victim)["name"] == "Cara Number0"

        # A rebuild the process does not live to finish: nothing changes.
        r = move(api, "/admin/components/customers/customers-directory/rebuild", "first attempt")
        assert r.status_code == 202 and r.json()["type"] == "operations.rebuild-started", r.text
        server, api = restart(server, api, data, TRIBUTARY_FAULT_INJECT="slow:150")
        assert api.customer(victim)["name"] == "Cara Number0"

        # Under a command load, rebuild it again; meanwhile the old view answers, whole.
        stop, acked, errors = threading.Event(), [], []

        def load():
            client = Api(server.url)
            try:
                while not stop.is_set() and len(acked) < 300:
                    r = client.post("/commands/customers/register",
                                    {"name": "Lee Load", "email": f"{uuid.uuid4().hex[:10]}@example.com", "creditLimit": 1, "currency": "EUR"})
                    (acked if r.status_code == 201 else errors).append(r)
            finally:
                client.close()
        loader = threading.Thread(target=load)
        loader.start()
        try:
            time.sleep(0.3)
            seen = len(api.view("/queries/customers", {"limit": 500})["items"])
            r = move(api, "/admin/components/customers/customers-directory/rebuild", "fixed the projection")
            assert r.status_code == 202, r.text
            assert move(api, "/admin/components/customers/customers-directory/rebuild", "twice").status_code == 409
            progress, finished = 0, None
            deadline = time.monotonic() + 60
            while finished is None and time.monotonic() < deadline:
                count = len(api.view("/queries/customers", {"limit": 500})["items"])
                assert count >= seen, f"a query answered from a half-built view: {count} customers after {seen}"
                seen = count
                if component(api, "customers-directory").get("rebuild"):
                    progress += 1
                finished = next((e for e in journal(api, "customers") if e["type"] == "operations.rebuild-finished"), None)
                time.sleep(0.02)
            assert finished is not None, "the rebuild did not finish"
            assert progress > 0, "/health never showed the rebuild's progress"
        finally:
            stop.set()
            loader.join()
        assert not errors, errors[:3]
        caught_up(api)
        assert api.customer(victim)["name"] == "Poisonous Pill"
        r = api.get("/admin/consistency")
        assert r.status_code == 200 and r.json()["consistent"], r.text
        assert health(api)[0] == 200

        # And after a SIGKILL the rebuilt view is what comes back.
        server, api = restart(server, api, data)
        caught_up(api)
        assert api.customer(victim)["name"] == "Poisonous Pill"
        r = api.get("/admin/consistency")
        assert r.status_code == 200 and r.json()["consistent"], r.text
        kinds = [e["type"] for e in journal(api, "customers")]
        assert kinds.count("operations.component-resumed") == 2 and kinds.count("operations.rebuild-started") == 2, kinds
    finally:
        api.close()
        server.kill()
