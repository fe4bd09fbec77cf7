"""SSE: the public log stream (/streams/public): live delivery, resume without gap or duplicate,
type filters, Last-Event-ID validation, heartbeat, CORS, and slow-consumer cut-off."""

import json
import threading
import time
import uuid

import httpx
import pytest
from httpx_sse import connect_sse

from conftest import SSEConnection


def register(http: httpx.Client, cid: str | None = None) -> str:
    cid = cid or uuid.uuid4().hex[:16]
    r = http.post("/commands/customers/register",
                  json={"customerId": cid, "name": "Ann", "email": f"{cid}@example.com", "creditLimit": 100000, "currency": "EUR"})
    assert r.status_code == 201, r.text
    return cid


def rename(http: httpx.Client, cid: str, name: str) -> None:
    r = http.post(f"/commands/customers/{cid}/rename", json={"name": name})
    assert r.status_code == 200, r.text


def public_log(http: httpx.Client, after: int) -> list[dict]:
    """Every public event after `after` (paged through /public/events)."""
    out = []
    while True:
        page = http.get("/public/events", params={"after": after, "limit": 1000}).json()
        out += page["events"]
        if page["nextAfter"] == after or not page["events"]:
            return out
        after = page["nextAfter"]


def head_position(http: httpx.Client) -> int:
    return http.get("/public/events", params={"limit": 1}).json()["lastPosition"]


def wait_for_head(http: httpx.Client, at_least: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        h = head_position(http)
        if h >= at_least or time.monotonic() > deadline:
            return h
        time.sleep(0.02)


@pytest.fixture(scope="module")
def http(sse_server):
    with httpx.Client(base_url=sse_server.base, timeout=10) as c:
        yield c


def test_live_events_with_sse_headers_and_envelope(sse_server, http):
    with httpx.Client(base_url=sse_server.base, timeout=10) as client:
        with connect_sse(client, "GET", "/streams/public") as source:
            r = source.response
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-cache, no-store"
            assert r.headers["x-accel-buffering"] == "no"
            cid = register(http)
            for sse in source.iter_sse():
                if not sse.data:
                    continue  # httpx-sse also yields the retry-only block (WHATWG clients dispatch nothing)
                envelope = json.loads(sse.data)
                if envelope["type"] == "customer.registered" and envelope["data"]["customerId"] == cid:
                    assert sse.event == "customer.registered"
                    assert int(sse.id) >= 1
                    assert envelope["source"] == "customers" and envelope["version"] == 1
                    break


def test_ok_comment_and_retry_come_first(sse_server):
    c = SSEConnection(sse_server.address, "/streams/public")
    try:
        assert c.status == 200
        c.next_event(timeout=0.2)
        assert c.comments and c.comments[0] == "ok"
        assert c.retry == 2000
    finally:
        c.close()


def test_reconnect_with_last_event_id_gets_exactly_the_missed_events(sse_server, http):
    cid = register(http)
    start = wait_for_head(http, 1)
    first = SSEConnection(sse_server.address, f"/streams/public?lastEventId={start}")
    for i in range(5):
        rename(http, cid, f"Before {i}")
    got = first.events(5)
    assert [int(e.id) for e in got] == list(range(start + 1, start + 6))
    last = int(got[-1].id)
    first.close()  # disconnect mid-stream

    # Keep writing while disconnected, and keep writing through the reconnect (the seam).
    for i in range(20):
        rename(http, cid, f"While away {i}")
    stop = threading.Event()

    def writer():
        n = 0
        with httpx.Client(base_url=sse_server.base, timeout=10) as w:
            while not stop.is_set() and n < 40:
                rename(w, cid, f"During {n}")
                n += 1
    t = threading.Thread(target=writer)
    t.start()
    second = SSEConnection(sse_server.address, "/streams/public", headers={"Last-Event-ID": str(last)})
    t.join()
    stop.set()
    assert wait_for_head(http, last + 60) >= last + 60
    # The log read is the reference: other writers (a saga still settling, another test) may append
    # after the head was read, and behind nginx the head and the page may come from different
    # replicas. Whatever the log holds after `last`, the stream must deliver exactly that, in order.
    expected = [e["position"] for e in public_log(http, last)]
    assert expected == list(range(last + 1, last + 1 + len(expected))) and len(expected) >= 60
    head = expected[-1]
    received = []
    deadline = time.monotonic() + 15
    while (not received or int(received[-1].id) < head) and time.monotonic() < deadline:
        e = second.next_event(timeout=2)
        if e is None:
            break
        received.append(e)
    second.close()
    assert [int(e.id) for e in received] == expected  # no gap, no duplicate, in order


def test_types_filter(sse_server, http):
    c = SSEConnection(sse_server.address, "/streams/public?types=customer.renamed,order.shipped")
    try:
        cid = register(http)
        rename(http, cid, "Filtered")
        e = c.next_event(timeout=5)
        assert e is not None and e.event == "customer.renamed"
        assert json.loads(e.data)["data"]["customerId"] == cid
    finally:
        c.close()


def test_filtered_resume_replays_only_matching_types(sse_server, http):
    before = head_position(http)
    cid = register(http)
    rename(http, cid, "Replayed")
    wait_for_head(http, before + 2)
    c = SSEConnection(sse_server.address, f"/streams/public?types=customer.renamed&lastEventId={before}")
    try:
        events = c.events(1, timeout=5)
        assert [e.event for e in events] == ["customer.renamed"]
        assert json.loads(events[0].data)["data"]["customerId"] == cid
    finally:
        c.close()


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "99999999999"])
def test_bad_last_event_id_is_400_problem(sse_server, http, value):
    r = http.get("/streams/public", headers={"Last-Event-ID": value})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "/problems/bad-last-event-id"
    r = http.get("/streams/public", params={"lastEventId": value})
    assert r.status_code == 400


def test_heartbeat_comments_on_a_quiet_stream(sse_server):
    c = SSEConnection(sse_server.address, "/streams/public?types=no.such-type")
    try:
        c.next_event(timeout=1.2)  # nothing matches: only comments arrive
        beats = [x for x in c.comments if x == ""]
        assert len(beats) >= 2, c.comments
    finally:
        c.close()


def test_cors_headers_on_streams_and_preflight(sse_server, http):
    c = SSEConnection(sse_server.address, "/streams/public", headers={"Origin": "https://app.example"})
    try:
        assert c.headers.get("access-control-allow-origin") == "https://app.example"
    finally:
        c.close()
    other = SSEConnection(sse_server.address, "/streams/public", headers={"Origin": "https://evil.example"})
    try:
        assert "access-control-allow-origin" not in other.headers
    finally:
        other.close()
    r = http.options("/commands/customers/register", headers={"Origin": "https://app.example",
                                                              "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in r.headers["access-control-allow-methods"]


def metric(http: httpx.Client, name: str) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_subscriber_that_never_reads_is_cut_off_while_others_keep_receiving(sse_server, http):
    slow_before = metric(http, "tributary_sse_slow_consumer_disconnects_total")
    stuck = SSEConnection(sse_server.address, "/streams/public", rcvbuf=4096)
    reader = SSEConnection(sse_server.address, "/streams/public?types=order.placed")
    cid = register(http)
    # Big events (~11 KB: 100 lines with 64-character skus) fill the kernel buffers quickly.
    lines = [{"sku": f"{i:03d}" + "s" * 61, "quantity": 1, "unitPrice": 1} for i in range(100)]
    placed = []
    received = 0
    deadline = time.monotonic() + 30
    with httpx.Client(base_url=sse_server.base, timeout=10) as w:
        # Write until the server reports the stuck subscriber gone (bounded in time and count).
        while time.monotonic() < deadline and len(placed) < 2000:
            for _ in range(20):
                oid = uuid.uuid4().hex[:16]
                r = w.post("/commands/orders/place", json={"orderId": oid, "customerId": cid, "currency": "EUR", "lines": lines})
                assert r.status_code == 201, r.text
                placed.append(oid)
            received += len(reader.events(20, timeout=5))
            if metric(http, "tributary_sse_slow_consumer_disconnects_total") > slow_before:
                break
    assert metric(http, "tributary_sse_slow_consumer_disconnects_total") >= slow_before + 1, f"after {len(placed)} orders"
    # The healthy reader got every order and keeps receiving.
    last = place_marker = uuid.uuid4().hex[:16]
    http.post("/commands/orders/place", json={"orderId": place_marker, "customerId": cid, "currency": "EUR",
                                              "lines": lines[:1]}).raise_for_status()
    while True:
        e = reader.next_event(timeout=5)
        assert e is not None, f"reader stalled after {received} events"
        received += 1
        if json.loads(e.data)["data"]["orderId"] == last:
            break
    assert received == len(placed) + 1
    # The stuck one: whatever the kernel buffered, then the end of the stream.
    while stuck.next_event(timeout=5) is not None:
        pass
    assert stuck.closed
    stuck.close()
    reader.close()


def test_many_subscribers_each_get_every_event_once_in_order(sse_server, http):
    """150 subscribers: enough that the fan-out spreads its socket writes over several threads
    (`scripts/loadtest sse` measures the speed). Three different filters (different bytes per
    socket, so a mix-up between sockets shows) and one subscriber with a tiny receive buffer
    that reads only at the end (its bytes queue up behind the fan-out writes): each must see
    exactly its part of the public log, in order, once."""
    head = head_position(http)
    filters = [("customer.registered", "customer.renamed"), ("customer.renamed",), ("customer.registered",)]
    subs = [(f, SSEConnection(sse_server.address, "/streams/public?types=" + ",".join(f)))
            for i in range(150) for f in [filters[i % 3]]]   # only this test writes these types meanwhile
    late = SSEConnection(sse_server.address, "/streams/public?types=customer.renamed", rcvbuf=2048)
    try:
        cid = register(http)
        for i in range(30):
            rename(http, cid, f"Ann {i} " + "x" * 180)   # ~15 KB of renames: more than the late one's buffer
        deadline = time.monotonic() + 10
        while True:   # the publisher moves the 31 events to the public log
            log = [e for e in public_log(http, head) if e["type"] in filters[0]]
            if len(log) >= 31 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert len(log) == 31
        for n, (f, s) in enumerate(subs + [(filters[1], late)]):
            expected = [e for e in log if e["type"] in f]
            got = s.events(len(expected), timeout=10)
            assert [int(e.id) for e in got] == [e["position"] for e in expected], f"subscriber {n} {f}"
            assert [json.loads(e.data)["id"] for e in got] == [e["id"] for e in expected], f"subscriber {n} {f}"
            assert s.next_event(timeout=0.2) is None, f"subscriber {n} got more than the log holds"
    finally:
        for _, s in subs:
            s.close()
        late.close()
