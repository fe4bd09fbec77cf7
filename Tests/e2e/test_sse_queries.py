"""SSE: read-model streams: customer/order documents (several ids on one connection), the
order list view and the stats view."""

import json
import time
import uuid

import httpx
import pytest

from conftest import SSEConnection


@pytest.fixture(scope="module")
def http(sse_server):
    with httpx.Client(base_url=sse_server.base, timeout=10) as c:
        yield c


def register(http, cid=None):
    cid = cid or uuid.uuid4().hex[:16]
    r = http.post("/commands/customers/register",
                  json={"customerId": cid, "name": "Ann", "email": f"{cid}@example.com", "creditLimit": 100000, "currency": "EUR"})
    assert r.status_code == 201, r.text
    return cid


def place(http, cid, oid=None):
    oid = oid or uuid.uuid4().hex[:16]
    r = http.post("/commands/orders/place", json={"orderId": oid, "customerId": cid, "currency": "EUR",
                                                   "lines": [{"sku": "a", "quantity": 2, "unitPrice": 150}]})
    assert r.status_code == 201, r.text
    return oid


def until(conn, predicate, timeout=10.0):
    """Events until one satisfies `predicate` (returned with everything before it)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        e = conn.next_event(timeout=max(0.01, deadline - time.monotonic()))
        if e is None:
            break
        seen.append(e)
        if predicate(e):
            return seen
    raise AssertionError(f"no matching event; saw {seen}")


def test_several_customers_on_one_connection(sse_server, http):
    a = register(http)
    b = uuid.uuid4().hex[:16]  # not registered yet
    c = SSEConnection(sse_server.address, f"/streams/queries/customers/{a}?ids={b}")
    try:
        first = c.events(2)
        assert [e.event for e in first] == ["customer", "not-found"]
        assert json.loads(first[0].data)["customerId"] == a
        assert json.loads(first[1].data) == {"id": b}
        assert first[0].id.startswith("customers:")
        http.post(f"/commands/customers/{a}/rename", json={"name": "Renamed A"}).raise_for_status()
        until(c, lambda e: e.event == "customer" and json.loads(e.data)["name"] == "Renamed A")
        register(http, b)
        until(c, lambda e: e.event == "customer" and json.loads(e.data)["customerId"] == b)
        # Order activity (from the public log) changes the customer document too.
        place(http, a)
        until(c, lambda e: e.event == "customer" and json.loads(e.data)["customerId"] == a and json.loads(e.data)["orderCount"] == 1)
    finally:
        c.close()


def test_order_document_follows_the_saga(sse_server, http):
    cid = register(http)
    oid = uuid.uuid4().hex[:16]
    c = SSEConnection(sse_server.address, f"/streams/queries/orders/{oid}")
    try:
        assert c.next_event().event == "not-found"
        place(http, cid, oid)
        events = until(c, lambda e: json.loads(e.data).get("status") == "approved")
        assert all(e.event == "order" for e in events)
        token = events[-1].id
        assert token.startswith("orders:")
        # The id is a consistency token: usable as minPosition.
        r = http.get(f"/queries/orders/{oid}", params={"minPosition": token})
        assert r.status_code == 200 and r.json()["status"] == "approved"
        # Resuming a document stream sends the current document again first.
        again = SSEConnection(sse_server.address, f"/streams/queries/orders?ids={oid}", headers={"Last-Event-ID": token})
        e = again.next_event()
        assert e.event == "order" and json.loads(e.data)["status"] == "approved"
        again.close()
    finally:
        c.close()


def test_order_list_stream_sends_snapshot_then_upserts_and_removals(sse_server, http):
    cid = register(http)
    existing = place(http, cid)
    deadline = time.monotonic() + 5
    while http.get(f"/queries/orders/{existing}").json().get("status") != "approved" and time.monotonic() < deadline:
        time.sleep(0.02)
    c = SSEConnection(sse_server.address, f"/streams/queries/orders?customerId={cid}&status=approved")
    try:
        snap = c.next_event()
        assert snap.event == "snapshot"
        assert [o["orderId"] for o in json.loads(snap.data)["items"]] == [existing]
        fresh = place(http, cid)
        until(c, lambda e: e.event == "upsert" and json.loads(e.data)["orderId"] == fresh)
        http.post(f"/commands/orders/{existing}/cancel", json={"reason": "changed mind"}).raise_for_status()
        removed = until(c, lambda e: e.event == "remove")
        assert json.loads(removed[-1].data)["orderId"] == existing
        assert json.loads(removed[-1].data)["status"] == "cancelled"
    finally:
        c.close()


def test_stats_stream(sse_server, http):
    c = SSEConnection(sse_server.address, "/streams/queries/stats")
    try:
        first = json.loads(c.next_event().data)
        cid = register(http)
        place(http, cid)
        until(c, lambda e: json.loads(e.data)["orderCount"] == first["orderCount"] + 1)
    finally:
        c.close()


@pytest.mark.parametrize("path", ["/streams/queries/orders/bad!id", "/streams/queries/customers?ids=",
                                  "/streams/queries/orders?status=lost", "/streams/queries/stats?lastEventId=nonsense"])
def test_bad_query_stream_requests_are_400(sse_server, http, path):
    r = http.get(path)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
