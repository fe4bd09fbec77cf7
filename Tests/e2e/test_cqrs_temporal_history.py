"""Temporal queries (?version=, ?asOf=) computed from the stream, and the audit history."""

import time
import uuid
from datetime import datetime, timedelta, timezone

from cqrs_client import assert_problem, describe, line


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_customer_version_and_as_of_give_earlier_states(cqrs_api):
    api = cqrs_api
    c = api.register(name="V Zero", credit_limit=1_000, wait_replica=False)
    names = ["V Zero"]
    for i in range(1, 4):
        time.sleep(0.02)  # distinct commit times, so asOf can point between events (not an assertion)
        api.customer_cmd(c["id"], "rename", {"name": f"V {i}"})
        names.append(f"V {i}")
    time.sleep(0.02)
    last = api.customer_cmd(c["id"], "change-credit-limit", {"creditLimit": 2_000})

    for v, name in enumerate(names):
        r = api.get(f"/queries/customers/{c['id']}", {"version": v})
        assert r.status_code == 200, describe(r)
        state = r.json()
        assert state["version"] == v and state["name"] == name, state
        assert state["creditLimit"] == 1_000
        assert r.headers["etag"].startswith(f'"{v}.')
    assert api.customer(c["id"], version=4)["creditLimit"] == 2_000
    assert api.customer(c["id"], min_position=last["position"])["creditLimit"] == 2_000

    history = api.history("customers", c["id"])
    times = [parse(e["time"]) for e in history]
    assert times == sorted(times)
    for v in range(len(history)):
        # 1 ms after an event's (millisecond) time the event is included; 1 ms before it, it is not.
        # (Exactly at the shown time: see test_as_of_the_time_shown_in_history_includes_that_event.)
        at = api.customer(c["id"], asOf=rfc3339(times[v] + timedelta(milliseconds=1)))
        if v + 1 == len(history) or times[v + 1] - times[v] >= timedelta(milliseconds=2):
            assert at["version"] == v, (v, at)
            assert at["name"] == (names[v] if v < len(names) else names[-1])
        if v > 0 and times[v] - times[v - 1] >= timedelta(milliseconds=2):
            before = api.customer(c["id"], asOf=rfc3339(times[v] - timedelta(milliseconds=1)))
            assert before["version"] == v - 1, (v, before)
    # Seconds-only and offset forms are RFC 3339 too.
    future = datetime.now(timezone.utc) + timedelta(days=1)
    assert api.customer(c["id"], asOf=future.strftime("%Y-%m-%dT%H:%M:%SZ"))["version"] == 4
    assert api.customer(c["id"], asOf=future.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="seconds"))["version"] == 4

    # Before the stream existed: not found; versions that do not exist yet: not found.
    assert_problem(api.get(f"/queries/customers/{c['id']}", {"asOf": "2000-01-01T00:00:00Z"}), 404)
    # A version past the end answers the latest state, labelled truthfully with its own version.
    assert api.customer(c["id"], version=99)["version"] == 4
    assert_problem(api.get(f"/queries/customers/{c['id']}", {"version": -1}), 400)
    assert_problem(api.get(f"/queries/customers/{c['id']}", {"version": "x"}), 400)
    assert_problem(api.get(f"/queries/customers/{c['id']}", {"asOf": "yesterday"}), 400)
    assert_problem(api.get(f"/queries/customers/{uuid.uuid4()}", {"version": 0}), 404)


def test_order_version_and_as_of(cqrs_api):
    api = cqrs_api
    c = api.register(credit_limit=100_000)
    o = api.place(c["id"], [line("A", 1, 1_000)])
    api.wait_order(o["id"], "approved")
    time.sleep(0.02)
    api.order_cmd(o["id"], "add-line", line("B", 2, 500))
    final = api.wait_order(o["id"], "approved", where=lambda v: v["total"] == 2_000)

    v0 = api.order(o["id"], version=0)
    assert v0["status"] == "pending" and v0["total"] == 1_000 and [l["sku"] for l in v0["lines"]] == ["A"], v0
    v1 = api.order(o["id"], version=1)
    assert v1["status"] == "approved" and v1["total"] == 1_000, v1
    v2 = api.order(o["id"], version=2)
    assert v2["total"] == 2_000 and v2["status"] == "pending", v2
    assert api.order(o["id"], version=final["version"])["status"] == "approved"

    history = api.history("orders", o["id"])
    assert [e["version"] for e in history] == list(range(final["version"] + 1))
    t_approved = parse(history[1]["time"]) + timedelta(milliseconds=1)
    assert parse(history[2]["time"]) - parse(history[1]["time"]) >= timedelta(milliseconds=2)
    as_of = api.order(o["id"], asOf=rfc3339(t_approved))
    assert as_of["version"] == 1 and as_of["total"] == 1_000 and as_of["status"] == "approved"
    assert_problem(api.get(f"/queries/orders/{o['id']}", {"asOf": "1999-12-31T23:59:59Z"}), 404)
    assert api.order(o["id"], version=final["version"] + 5)["version"] == final["version"]


def test_history_lists_every_event_with_the_correlation_id_sent(cqrs_api):
    api = cqrs_api
    corr = [f"corr-{uuid.uuid4()}" for _ in range(4)]
    c = api.register(headers={"X-Correlation-ID": corr[0]}, wait_replica=False)
    api.customer_cmd(c["id"], "rename", {"name": "Renamed"}, headers={"X-Correlation-ID": corr[1]})
    api.customer_cmd(c["id"], "change-email", {"email": "hist@example.com"}, headers={"X-Correlation-ID": corr[2]})
    api.customer_cmd(c["id"], "change-credit-limit", {"creditLimit": 777}, headers={"X-Correlation-ID": corr[3]})
    history = api.view(f"/queries/customers/{c['id']}/history")
    assert history["customerId"] == c["id"]
    events = history["events"]
    assert [e["version"] for e in events] == [0, 1, 2, 3]
    assert [e["correlationId"] for e in events] == corr
    for e in events:
        for field in ("type", "version", "time", "data", "correlationId", "causationId", "eventId", "position"):
            assert field in e, (field, e)
        parse(e["time"])
    assert len({e["eventId"] for e in events}) == 4
    assert events[1]["data"].get("givenName") == "Renamed" or events[1]["data"].get("name") == "Renamed", events[1]
    assert events[3]["data"]["creditLimit"] == 777


def test_saga_events_carry_the_order_commands_correlation_id(cqrs_api):
    api = cqrs_api
    c = api.register()
    corr = f"saga-{uuid.uuid4()}"
    o = api.place(c["id"], [line("A", 1, 10)], headers={"X-Correlation-ID": corr})
    api.wait_order(o["id"], "approved")
    order_history = api.history("orders", o["id"])
    assert [e["version"] for e in order_history] == [0, 1]
    assert [e["correlationId"] for e in order_history] == [corr, corr]
    # The reservation in the customer's stream belongs to the same flow.
    reserved = [e for e in api.history("customers", c["id"]) if e["data"].get("orderId") == o["id"]]
    assert reserved and all(e["correlationId"] == corr for e in reserved), reserved
    # So do the public events of the flow (order.approved reaches the public log through the
    # orders publisher, after the order's view has it: wait for it, bounded).
    deadline = time.monotonic() + 10
    while True:
        flow = [e for e in api.public_events() if e["data"].get("orderId") == o["id"]]
        if len(flow) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert [e["type"] for e in flow] == ["order.placed", "customer.credit-reserved", "order.approved"]
    assert all(e["correlationId"] == corr for e in flow)


def test_history_of_unknown_stream_is_404(cqrs_api):
    assert_problem(cqrs_api.get(f"/queries/customers/{uuid.uuid4()}/history"), 404)
    assert_problem(cqrs_api.get(f"/queries/orders/{uuid.uuid4()}/history"), 404)
    assert_problem(cqrs_api.get(f"/queries/orders/{uuid.uuid4()}"), 404)


def test_as_of_the_time_shown_in_history_includes_that_event(cqrs_api):
    """The audit trail shows commit times in milliseconds; feeding such a time back as ?asOf=
    must include the event committed at that (shown) time, for every event of the stream."""
    api = cqrs_api
    c = api.register(name="Shown Time", wait_replica=False)
    for i in range(5):
        time.sleep(0.005)
        api.customer_cmd(c["id"], "rename", {"name": f"Shown {i}"})
    history = api.history("customers", c["id"])
    results = []
    for e in history:
        r = api.get(f"/queries/customers/{c['id']}", {"asOf": e["time"]})
        results.append((e["version"], e["time"], r.status_code, r.json().get("version") if r.status_code == 200 else None))
    wrong = [x for x in results if x[2] != 200 or x[3] < x[0]]
    assert not wrong, f"asOf=<event time from history> excluded the event (version, time, status, got version): {wrong}"
