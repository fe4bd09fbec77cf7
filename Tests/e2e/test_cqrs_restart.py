"""Restart on the same data directory (SIGTERM, exit 0, fsync durability): every read model
is identical afterwards, and /admin/consistency agrees before and after."""

import uuid

import pytest

from cqrs_client import Api, describe, line

# Headers that legitimately differ between two processes / two requests.
PROCESS_HEADERS = {"date", "server", "x-correlation-id", "connection", "keep-alive"}


def scenario(api: Api) -> dict:
    """A mixed run: customers in two currencies, approved/rejected/cancelled/shipped orders,
    line changes, renames, a deactivation."""
    ids = {}
    eur = api.register(name="Eve Euro", credit_limit=10_000, currency="EUR")
    usd = api.register(name="Uma Usd", credit_limit=5_000, currency="USD")
    poor = api.register(name="Pat Poor", credit_limit=100, currency="EUR")
    gone = api.register(name="Gus Gone", credit_limit=1_000, currency="EUR")
    ids["customers"] = [eur["id"], usd["id"], poor["id"], gone["id"]]

    o_ship = api.place(eur["id"], [line("A", 2, 1_000), line("B", 1, 500)])
    o_cancel = api.place(eur["id"], [line("C", 1, 3_000)])
    o_lines = api.place(usd["id"], [line("D", 1, 1_000)], currency="USD")
    o_reject = api.place(poor["id"], [line("E", 1, 1_000)])
    o_usd_ship = api.place(usd["id"], [line("F", 3, 100)], currency="USD")
    ids["orders"] = [o_ship["id"], o_cancel["id"], o_lines["id"], o_reject["id"], o_usd_ship["id"]]

    api.wait_order(o_ship["id"], "approved")
    api.order_cmd(o_ship["id"], "ship", {})
    api.wait_order(o_cancel["id"], "approved")
    api.order_cmd(o_cancel["id"], "cancel", {"reason": "customer request"})
    api.wait_order(o_lines["id"], "approved")
    api.order_cmd(o_lines["id"], "add-line", line("G", 2, 250))
    api.wait_order(o_lines["id"], "approved", where=lambda o: o["total"] == 1_500)
    api.order_cmd(o_lines["id"], "remove-line", {"sku": "D"})
    api.wait_order(o_reject["id"], "rejected")
    api.wait_order(o_usd_ship["id"], "approved")
    api.order_cmd(o_usd_ship["id"], "ship", {})

    api.customer_cmd(eur["id"], "rename", {"name": "Eve Renamed"})
    api.customer_cmd(usd["id"], "change-email", {"email": "uma@example.org"})
    api.customer_cmd(poor["id"], "change-credit-limit", {"creditLimit": 200})
    api.customer_cmd(gone["id"], "deactivate", {})
    api.wait_order(o_lines["id"], "approved", where=lambda o: o["total"] == 500)
    api.wait_order(o_ship["id"], "shipped", where=lambda o: o["customerName"] == "Eve Renamed")
    api.settle()
    return ids


def capture(api: Api, ids: dict, wait_for: dict | None = None) -> dict:
    """Every read model as (status, headers minus process-specific ones, body bytes)."""
    paths = ["/queries/customers?limit=500", "/queries/customers?status=active&limit=500",
             "/queries/customers?status=deactivated&limit=500", "/queries/customers?limit=2",
             "/queries/orders?limit=500", "/queries/orders?status=approved&limit=500",
             "/queries/orders?status=shipped&limit=500", "/queries/orders?limit=3", "/queries/stats",
             "/public/events?after=0&limit=500", "/public/events?after=3&limit=4&types=order.placed,order.shipped"]
    for cid in ids["customers"]:
        paths += [f"/queries/customers/{cid}", f"/queries/customers/{cid}/history", f"/queries/customers/{cid}?version=0",
                  f"/queries/orders?customerId={cid}&limit=500"]
    for oid in ids["orders"]:
        paths += [f"/queries/orders/{oid}", f"/queries/orders/{oid}/history", f"/queries/orders/{oid}?version=1"]
    out = {}
    for p in paths:
        params = {}
        if wait_for and p.startswith("/queries/"):
            # After the restart, wait until each view reflects what it reflected before.
            store = "customers" if p.startswith("/queries/customers") else "orders"
            tokens = {k: v for k, v in wait_for[store].items() if not (p == "/queries/stats" and k == "public")}
            params = {"minPosition": ",".join(f"{k}:{v}" for k, v in tokens.items())}
        r = api.get(p, params)
        assert r.status_code == 200, describe(r)
        headers = sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() not in PROCESS_HEADERS)
        out[p] = (r.status_code, headers, r.content)
    return out


def view_positions(api: Api) -> dict:
    def parse(r):
        return {k: int(v) for k, v in (part.split("=") for part in r.headers["tributary-position"].split(", "))}
    return {"customers": parse(api.get("/queries/customers")), "orders": parse(api.get("/queries/orders"))}


def consistency(api: Api) -> dict:
    r = api.get("/admin/consistency")
    assert r.status_code == 200, describe(r)
    body = r.json()
    assert body["consistent"] is True, body
    return body


# How the restarted server rebuilds its read models: from the shutdown snapshots (the default),
# or replaying every store from the start off the loop (each read model into a fresh copy on a
# background thread, swapped in when done).
RESTART_MODES = {"snapshots": [], "full-replay-off-loop": ["--snapshot-every", "0", "--background-replay-after", "0"]}


@pytest.mark.parametrize("mode", sorted(RESTART_MODES))
def test_read_models_identical_after_restart(server_factory, mode):
    srv = server_factory.start()
    api = Api(srv.base)
    try:
        ids = scenario(api)
        consistency(api)
        positions = view_positions(api)
        before = capture(api, ids)
        assert before == capture(api, ids), "read models changed while idle"
    finally:
        api.close()

    server_factory.extra_args = RESTART_MODES[mode]
    srv = server_factory.restart()
    api = Api(srv.base)
    try:
        after = capture(api, ids, wait_for=positions)
        api.settle()
        after = capture(api, ids, wait_for=positions)
        diffs = [(p, before[p], after.get(p)) for p in before if before[p] != after.get(p)]
        assert not diffs, "read models differ after restart:\n" + "\n".join(
            f"{p}\n  before: {b[0]} {b[1]} {b[2][:400]!r}\n  after:  {a and a[0]} {a and a[1]} {a and a[2][:400]!r}"
            for p, b, a in diffs[:5])
        consistency(api)
        off_loop = [l for l in srv.output if "off the loop" in l]
        assert len(off_loop) == (4 if mode == "full-replay-off-loop" else 0), "\n".join(srv.output)
        # The restarted server still takes writes and the saga still runs.
        o = api.place(ids["customers"][0], [line("NEW", 1, 10)])
        api.wait_order(o["id"], "approved")
        consistency(api)
    finally:
        api.close()
    server_factory.stop()


def test_second_restart_without_writes_changes_nothing(server_factory):
    srv = server_factory.start()
    api = Api(srv.base)
    try:
        c = api.register(name="Twice", customer_id=str(uuid.uuid4()))
        o = api.place(c["id"], [line("A", 1, 10)])
        api.wait_order(o["id"], "approved")
        api.settle()
        ids = {"customers": [c["id"]], "orders": [o["id"]]}
        positions = view_positions(api)
        before = capture(api, ids)
    finally:
        api.close()
    for _ in range(2):
        srv = server_factory.restart()
        api = Api(srv.base)
        try:
            api.settle()
            assert capture(api, ids, wait_for=positions) == before
            assert api.get("/ready").status_code == 200
        finally:
            api.close()
    server_factory.stop()
