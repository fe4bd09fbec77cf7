"""GET /public/events: the envelope, types= filtering, paging with after (no gap, no duplicate),
unique ids, and every public event of an order saga exactly once."""

import re
import uuid
from datetime import datetime

from cqrs_client import assert_problem, describe, line

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ENVELOPE = {"position", "id", "type", "version", "source", "occurredAt", "correlationId", "causationId", "data"}


def run_flows(api):
    """Customers and orders through every saga branch; returns (customer ids, order ids by branch)."""
    c = api.register(name="Log One", credit_limit=5_000)
    poor = api.register(name="Log Poor", credit_limit=10)
    approved = api.place(c["id"], [line("A", 1, 1_000)])
    rejected = api.place(poor["id"], [line("B", 1, 1_000)])
    api.wait_order(approved["id"], "approved")
    api.wait_order(rejected["id"], "rejected")
    changed = api.place(c["id"], [line("C", 1, 100)])
    api.wait_order(changed["id"], "approved")
    api.order_cmd(changed["id"], "add-line", line("D", 2, 100))
    api.wait_order(changed["id"], "approved", where=lambda o: o["total"] == 300)
    api.order_cmd(changed["id"], "cancel", {"reason": "log test"})
    api.order_cmd(approved["id"], "ship", {})
    api.customer_cmd(c["id"], "rename", {"name": "Log Renamed"})
    api.customer_cmd(poor["id"], "deactivate", {})
    api.settle()
    return (c["id"], poor["id"]), {"approved": approved["id"], "rejected": rejected["id"], "changed": changed["id"]}


def test_envelope_fields(cqrs_api):
    api = cqrs_api
    run_flows(api)
    page = api.view("/public/events", {"after": 0, "limit": 500})
    assert set(page) >= {"events", "nextAfter", "lastPosition"}
    events = page["events"]
    assert events
    for e in events:
        assert set(e) >= ENVELOPE, e
        assert isinstance(e["position"], int) and e["position"] > 0
        assert UUID.match(e["id"]), e["id"]
        assert re.match(r"^(customer|order)\.[a-z-]+$", e["type"]), e["type"]
        assert isinstance(e["version"], int) and e["version"] >= 1
        assert e["source"] == e["type"].split(".")[0] + "s", e
        assert e["occurredAt"].endswith("Z")
        datetime.fromisoformat(e["occurredAt"].replace("Z", "+00:00"))
        assert isinstance(e["correlationId"], str) and e["correlationId"]
        assert isinstance(e["causationId"], str) and e["causationId"]
        assert isinstance(e["data"], dict)
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert page["lastPosition"] == positions[-1]
    assert page["nextAfter"] == positions[-1]


def test_event_ids_are_unique(cqrs_api):
    events = cqrs_api.public_events()
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))


def test_paging_with_after_has_no_gap_or_duplicate(cqrs_api):
    api = cqrs_api
    everything = api.view("/public/events", {"after": 0, "limit": 500})["events"]
    for limit in (1, 3, 7):
        got, after = [], 0
        while True:
            page = api.view("/public/events", {"after": after, "limit": limit})
            assert len(page["events"]) <= limit
            if not page["events"]:
                assert page["nextAfter"] == after
                break
            assert page["events"][0]["position"] > after
            got += page["events"]
            after = page["nextAfter"]
        assert got == everything, f"limit {limit}"
    # Starting in the middle continues exactly after that position.
    mid = everything[len(everything) // 2]["position"]
    rest = api.view("/public/events", {"after": mid, "limit": 500})["events"]
    assert rest == [e for e in everything if e["position"] > mid]
    # Past the end: empty page, nextAfter stays.
    end = api.view("/public/events", {"after": everything[-1]["position"], "limit": 10})
    assert end["events"] == [] and end["nextAfter"] == everything[-1]["position"]


def test_types_filter(cqrs_api):
    api = cqrs_api
    everything = api.public_events()
    for types in (["order.placed"], ["order.approved", "customer.credit-reserved"], ["customer.renamed"]):
        filtered = api.public_events(types=",".join(types))
        assert filtered == [e for e in everything if e["type"] in types], types
        assert filtered, f"scenario produced no {types}"
    # Paging through a filtered view with a small limit gives the same sequence.
    got, after = [], 0
    while True:
        page = api.view("/public/events", {"after": after, "limit": 2, "types": "order.placed,order.cancelled"})
        if not page["events"]:
            break
        got += page["events"]
        after = page["nextAfter"]
    assert got == [e for e in everything if e["type"] in ("order.placed", "order.cancelled")]
    assert api.public_events(types="no.such-type") == []


def test_every_public_event_of_an_order_saga_appears_exactly_once(cqrs_api):
    api = cqrs_api
    (c, poor), orders = run_flows(api)
    events = api.public_events()

    def of(order_id):
        return [e["type"] for e in events if e["data"].get("orderId") == order_id]

    assert of(orders["approved"]) == ["order.placed", "customer.credit-reserved", "order.approved", "order.shipped"]
    rejected = of(orders["rejected"])
    assert rejected[:3] == ["order.placed", "customer.credit-rejected", "order.rejected"], rejected
    assert rejected.count("customer.credit-reserved") == 0
    # Rejection releases nothing that was never reserved (at most one release, never a reservation).
    assert rejected.count("customer.credit-released") <= 1
    changed = of(orders["changed"])
    # A line change re-reserves: the old reservation is released and the new total reserved.
    assert changed == ["order.placed", "customer.credit-reserved", "order.approved",
                       "order.lines-changed", "customer.credit-released", "customer.credit-reserved", "order.approved",
                       "order.cancelled", "customer.credit-released"], changed
    amounts = [e["data"].get("amount") for e in events
               if e["data"].get("orderId") == orders["changed"] and e["type"].startswith("customer.credit-")]
    assert amounts == [100, 100, 300, 300], amounts
    # Customer lifecycle events, once each.
    mine = [e["type"] for e in events if e["data"].get("customerId") == c and not e["type"].startswith("order.")
            and "credit-" not in e["type"]]
    assert mine == ["customer.registered", "customer.renamed"]
    assert [e["type"] for e in events if e["data"].get("customerId") == poor and e["type"] == "customer.deactivated"] \
        == ["customer.deactivated"]
    # One flow (place -> credit decision -> approval/rejection), one correlation id: the place command's.
    for oid in orders.values():
        flow = [e for e in events if e["data"].get("orderId") == oid][:3]
        assert len({e["correlationId"] for e in flow}) == 1, flow


def test_bad_public_log_parameters(cqrs_api):
    api = cqrs_api
    for params in ({"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"limit": "-1"}, {"limit": "abc"}):
        r = api.get("/public/events", params)
        assert_problem(r, 400)
    r = api.get("/public/events", {"limit": "100000"})
    assert r.status_code in (200, 400), describe(r)
