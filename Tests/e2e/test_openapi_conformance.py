"""The real server against openapi/api.yaml and openapi/public-events.yaml.

Every operation is driven with realistic requests (success and error paths); each response's
status must be documented, its content type listed, its documented headers valid and its body
valid against the schema of that status. A full saga then produces every public event, and each
must validate against its schema in public-events.yaml; every event schema must be produced.
"""

import time
import uuid

import httpx
import pytest

from openapi_support import API, EVENTS_PATH, API_PATH, Conformance, event_schemas, is_sse, operations, validate_public_event

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def conf():
    return Conformance()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=15) as client:
        yield client


def uid(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def register(http, conf, cid=None, limit=100_000, currency="EUR", **kw):
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "creditLimit": limit, "currency": currency}
    if cid:
        body["customerId"] = cid
    r = conf.check(http.post("/commands/customers/register", json=body, **kw))
    assert r.status_code == 201, r.text
    wait_replica(http, conf, r.json()["id"])
    return r


def wait_replica(http, conf, cid, timeout=10.0):
    """Waits until Orders' customer replica has seen the registration (so `place` is not refused
    by the legitimately lagging replica): minPosition=public:N on an orders view."""
    deadline = time.monotonic() + timeout
    while True:
        events = http.get("/public/events", params={"types": "customer.registered", "limit": 1000,
                                                   "after": max(0, http.get("/public/events", params={"limit": 1}).json()["lastPosition"] - 1000)}).json()["events"]
        found = [e["position"] for e in events if e["data"]["customerId"] == cid]
        if found:
            break
        assert time.monotonic() < deadline, f"customer.registered for {cid} never published"
        time.sleep(0.05)
    r = conf.check(http.get("/queries/orders", params={"minPosition": f"public:{found[-1]}", "limit": 1}))
    assert r.status_code == 200, r.text


def place(http, conf, cid, oid=None, lines=None, currency="EUR", expect=201):
    body = {"customerId": cid, "currency": currency, "lines": lines if lines is not None else [{"sku": "BOOK-1", "quantity": 2, "unitPrice": 1500}]}
    if oid:
        body["orderId"] = oid
    r = conf.check(http.post("/commands/orders/place", json=body))
    assert r.status_code == expect, r.text
    return r


def wait_status(http, oid, *statuses, after=None, timeout=10.0):
    """Polls the order view until its status is one of `statuses`; `after` is a command response
    whose position the view must reflect first."""
    params = {"minPosition": after.json()["position"]} if after is not None else {}
    deadline = time.monotonic() + timeout
    while True:
        r = http.get(f"/queries/orders/{oid}", params=params)
        if r.status_code == 200 and r.json()["status"] in statuses:
            return r.json()
        assert time.monotonic() < deadline, f"order {oid} never reached {statuses}: {r.text}"
        time.sleep(0.05)


def test_customer_commands_conform(http, conf):
    cid = uid("c")
    r = register(http, conf, cid, headers={"X-Correlation-ID": "corr-1"})
    assert r.json() == {"id": cid, "version": 0, "position": r.json()["position"]}
    assert r.headers["x-correlation-id"] == "corr-1"
    # Generated id.
    gen = register(http, conf).json()["id"]
    uuid.UUID(gen)
    # 409 exists, 422 validation and type errors, 415, 400 malformed JSON.
    assert conf.check(http.post("/commands/customers/register", json={"customerId": cid, "name": "A B", "email": "a@b.co", "creditLimit": 1, "currency": "EUR"})).status_code == 409
    r = conf.check(http.post("/commands/customers/register", json={"name": " ", "email": "x", "creditLimit": -1, "currency": "XXX"}))
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"name", "email", "creditLimit", "currency"}
    assert conf.check(http.post("/commands/customers/register", json={"name": 1})).status_code == 422
    assert conf.check(http.post("/commands/customers/register", content=b"{}", headers={"Content-Type": "text/plain"})).status_code == 415
    assert conf.check(http.post("/commands/customers/register", content=b"{bad", headers=JSON)).status_code == 400
    # Idempotent retry replays, a different body with the same key is 422.
    key = {"Idempotency-Key": uid("k")}
    body = {"customerId": uid("c"), "name": "Grace Hopper", "email": "grace@example.com", "creditLimit": 10, "currency": "USD"}
    first = conf.check(http.post("/commands/customers/register", json=body, headers=key))
    again = conf.check(http.post("/commands/customers/register", json=body, headers=key))
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert conf.check(http.post("/commands/customers/register", json=dict(body, name="Other Name"), headers=key)).status_code == 422
    assert conf.check(http.post("/commands/customers/register", json=body, headers={"Idempotency-Key": "has space"})).status_code == 400
    # rename / change-email / change-credit-limit / deactivate, with If-Match.
    r = conf.check(http.post(f"/commands/customers/{cid}/rename", json={"name": "Ada King"}, headers={"If-Match": '"0"'}))
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    r = conf.check(http.post(f"/commands/customers/{cid}/rename", json={"name": "Ada Queen"}, headers={"If-Match": '"0"'}))
    assert r.status_code == 412 and r.json()["actualVersion"] == 1 and r.headers["etag"] == '"1"'
    assert conf.check(http.post(f"/commands/customers/{cid}/rename", json={"name": "x y"}, headers={"If-Match": "nope"})).status_code == 400
    assert conf.check(http.post(f"/commands/customers/{uid('missing')}/rename", json={"name": "x y"})).status_code == 404
    r = conf.check(http.post(f"/commands/customers/{uid('missing')}/rename", json={"name": "x y"}, headers={"If-Match": '"3"'}))
    assert r.status_code in (404, 412)
    assert conf.check(http.post(f"/commands/customers/{cid}/change-email", json={"email": "ada.king@example.com"})).status_code == 200
    assert conf.check(http.post(f"/commands/customers/{cid}/change-email", json={"email": "not-an-email"})).status_code == 422
    assert conf.check(http.post(f"/commands/customers/{cid}/change-credit-limit", json={"creditLimit": 200_000})).status_code == 200
    assert conf.check(http.post(f"/commands/customers/{cid}/change-credit-limit", json={"creditLimit": "lots"})).status_code == 422
    assert conf.check(http.post(f"/commands/customers/{cid}/deactivate")).status_code == 200
    assert conf.check(http.post(f"/commands/customers/{cid}/deactivate", json={})).status_code == 409
    assert conf.check(http.post(f"/commands/customers/{gen}/deactivate", json={})).status_code == 200


@pytest.mark.parametrize("path,body", [
    ("/commands/customers/register", {"name": "Grace Hopper", "email": "grace@example.com", "creditLimit": 10, "currency": "USD"}),
    ("/commands/orders/place", None),
])
def test_idempotent_replay_of_a_generated_id_returns_the_created_id(http, conf, path, body):
    if body is None:
        cid = register(http, conf).json()["id"]
        body = {"customerId": cid, "currency": "EUR", "lines": [{"sku": "A", "quantity": 1, "unitPrice": 1}]}
    key = {"Idempotency-Key": uid("k")}
    first = conf.check(http.post(path, json=body, headers=key))
    again = conf.check(http.post(path, json=body, headers=key))
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()


def test_order_commands_conform(http, conf):
    cid = uid("c")
    register(http, conf, cid, limit=10_000)
    oid = uid("o")
    r = place(http, conf, cid, oid)
    assert r.json()["position"].startswith("orders:")
    place(http, conf, cid, oid, expect=409)
    r = place(http, conf, uid("nobody"), expect=422)
    assert r.json()["errors"][0]["field"] == "customerId"
    place(http, conf, cid, lines=[{"sku": "bad sku", "quantity": 0, "unitPrice": -1}], expect=422)
    place(http, conf, cid, lines=[], expect=422)
    place(http, conf, cid, currency="XYZ", expect=422)
    wait_status(http, oid, "approved")
    added = conf.check(http.post(f"/commands/orders/{oid}/add-line", json={"sku": "PEN-7", "quantity": 1, "unitPrice": 500}))
    assert added.status_code == 200
    assert conf.check(http.post(f"/commands/orders/{oid}/add-line", json={"sku": "PEN-7", "quantity": 1, "unitPrice": 500})).status_code == 409
    assert conf.check(http.post(f"/commands/orders/{oid}/add-line", json={"sku": "PEN-8", "quantity": 10_001, "unitPrice": 5})).status_code == 422
    assert conf.check(http.post("/commands/orders/not%20valid/add-line", json={"sku": "A", "quantity": 1, "unitPrice": 5})).status_code == 422
    assert conf.check(http.post(f"/commands/orders/{uid('missing')}/add-line", json={"sku": "A", "quantity": 1, "unitPrice": 5})).status_code == 404
    removed = conf.check(http.post(f"/commands/orders/{oid}/remove-line", json={"sku": "PEN-7"}))
    assert removed.status_code == 200
    assert conf.check(http.post(f"/commands/orders/{oid}/remove-line", json={"sku": "NOPE"})).status_code == 409
    assert conf.check(http.post(f"/commands/orders/{oid}/remove-line", json={"sku": "BOOK-1"})).status_code == 409
    wait_status(http, oid, "approved", after=removed)
    assert conf.check(http.post(f"/commands/orders/{oid}/ship")).status_code == 200
    assert conf.check(http.post(f"/commands/orders/{oid}/ship", json={})).status_code == 409
    assert conf.check(http.post(f"/commands/orders/{oid}/cancel", json={"reason": "too late"})).status_code == 409
    other = place(http, conf, cid).json()["id"]
    assert conf.check(http.post(f"/commands/orders/{other}/cancel", json={"reason": ""})).status_code == 422
    assert conf.check(http.post(f"/commands/orders/{other}/cancel", json={"reason": "changed my mind"}, headers={"If-Match": '"99"'})).status_code == 412
    assert conf.check(http.post(f"/commands/orders/{other}/cancel", json={"reason": "changed my mind"})).status_code == 200
    assert conf.check(http.post(f"/commands/orders/{other}/ship", content=b"[]", headers=JSON)).status_code in (409, 422)


def test_queries_conform(http, conf):
    cid = uid("c")
    pos = register(http, conf, cid).json()["position"]
    oid = uid("o")
    opos = place(http, conf, cid, oid).json()["position"]
    r = conf.check(http.get(f"/queries/customers/{cid}", params={"minPosition": pos}))
    assert r.status_code == 200 and r.json()["customerId"] == cid
    etag = r.headers["etag"]
    assert conf.check(http.get(f"/queries/customers/{cid}", headers={"If-None-Match": etag})).status_code in (200, 304)
    assert conf.check(http.get(f"/queries/customers/{cid}", params={"version": 0})).json()["version"] == 0
    assert conf.check(http.get(f"/queries/customers/{cid}", params={"asOf": "2000-01-01T00:00:00Z"})).status_code == 404
    assert conf.check(http.get(f"/queries/customers/{cid}", params={"asOf": "yesterday"})).status_code == 400
    assert conf.check(http.get(f"/queries/customers/{cid}", params={"version": -1})).status_code == 400
    assert conf.check(http.get(f"/queries/customers/{uid('missing')}")).status_code == 404
    assert conf.check(http.get(f"/queries/customers/{cid}/history")).status_code == 200
    assert conf.check(http.get(f"/queries/customers/{uid('missing')}/history")).status_code == 404
    register(http, conf)
    page = conf.check(http.get("/queries/customers", params={"limit": 1, "status": "active"})).json()
    assert len(page["items"]) == 1 and "nextCursor" in page
    assert conf.check(http.get("/queries/customers", params={"cursor": page["nextCursor"], "limit": 500})).status_code == 200
    for bad in ({"limit": 0}, {"limit": 501}, {"limit": "x"}, {"status": "gone"}, {"cursor": "a/b"}, {"minPosition": "nope"}, {"minPosition": "stats:1"}):
        assert conf.check(http.get("/queries/customers", params=bad)).status_code == 400, bad

    r = conf.check(http.get(f"/queries/orders/{oid}", params={"minPosition": opos}))
    assert r.status_code == 200 and r.json()["orderId"] == oid
    r304 = conf.check(http.get(f"/queries/orders/{oid}", headers={"If-None-Match": r.headers["etag"]}))
    assert r304.status_code in (200, 304)
    wait_status(http, oid, "approved")
    cancel = conf.check(http.post(f"/commands/orders/{oid}/cancel", json={"reason": "test"}))
    assert "cancellationReason" in wait_status(http, oid, "cancelled", after=cancel)
    conf.check(http.get(f"/queries/orders/{oid}"))
    assert conf.check(http.get(f"/queries/orders/{oid}", params={"version": 0})).json()["status"] == "pending"
    assert conf.check(http.get(f"/queries/orders/{oid}", params={"asOf": "2999-01-01T00:00:00.5Z"})).status_code == 200
    assert conf.check(http.get(f"/queries/orders/{uid('missing')}")).status_code == 404
    h = conf.check(http.get(f"/queries/orders/{oid}/history")).json()
    assert [e["type"] for e in h["events"]][:1] == ["OrderPlaced"]
    assert conf.check(http.get(f"/queries/orders/{uid('missing')}/history")).status_code == 404
    place(http, conf, cid)
    page = conf.check(http.get("/queries/orders", params={"customerId": cid, "limit": 1})).json()
    assert page["nextCursor"]
    assert conf.check(http.get("/queries/orders", params={"cursor": page["nextCursor"]})).status_code == 200
    assert conf.check(http.get("/queries/orders", params={"status": "cancelled"})).status_code == 200
    for bad in ({"limit": 0}, {"cursor": "zzz"}, {"status": "lost"}):
        assert conf.check(http.get("/queries/orders", params=bad)).status_code == 400, bad
    s = conf.check(http.get("/queries/stats"))
    assert s.status_code == 200
    assert conf.check(http.get("/queries/stats", headers={"If-None-Match": s.headers["etag"]})).status_code in (200, 304)
    assert conf.check(http.get("/queries/stats", params={"minPosition": "customers:1"})).status_code == 400
    # An unreached position: the documented 503 + Retry-After after the bounded wait.
    r = conf.check(http.get("/queries/stats", params={"minPosition": "orders:999999999"}))
    assert r.status_code == 503 and r.headers["retry-after"]


def test_public_log_and_operations_conform(http, conf):
    r = conf.check(http.get("/public/events", params={"limit": 5}))
    assert r.status_code == 200 and len(r.json()["events"]) <= 5
    assert conf.check(http.get("/public/events", params={"after": 2, "types": "order.placed,customer.registered"})).status_code == 200
    for bad in ({"after": -1}, {"after": "x"}, {"limit": 0}, {"limit": 1001}):
        assert conf.check(http.get("/public/events", params=bad)).status_code == 400, bad
    assert conf.check(http.get("/health")).status_code == 200
    assert conf.check(http.get("/ready")).status_code == 200
    assert conf.check(http.get("/metrics")).status_code == 200
    assert conf.check(http.get("/admin/consistency")).status_code == 200


def test_stream_browser_and_trace_conform(http, conf):
    cid = uid("browse")
    register(http, conf, cid)
    r = place(http, conf, cid)
    oid, correlation = r.json()["id"], r.headers["x-correlation-id"]
    wait_status(http, oid, "approved")
    page = conf.check(http.get("/admin/stores/orders/streams", params={"containing": oid, "limit": 5}))
    assert page.status_code == 200 and [s["name"] for s in page.json()["streams"]] == [f"order-{oid}"], page.text
    first = conf.check(http.get("/admin/stores/customers/streams", params={"limit": 1}))
    assert first.status_code == 200 and first.json()["next"], first.text
    assert conf.check(http.get("/admin/stores/customers/streams", params={"limit": 1, "after": first.json()["next"]})).status_code == 200
    assert conf.check(http.get("/admin/stores/nowhere/streams")).status_code == 404
    for bad in ("-3", "9223372036854775807", "not-a-cursor"):   # a cursor the file store never issued
        assert conf.check(http.get("/admin/stores/orders/streams", params={"after": bad})).status_code == 400, bad
    assert conf.check(http.get("/admin/stores/orders/streams", params={"limit": 0})).status_code == 400
    stream = conf.check(http.get(f"/admin/stores/orders/streams/order-{oid}", params={"limit": 1}))
    assert stream.status_code == 200 and stream.json()["next"] == 1 and stream.json()["events"][0]["type"] == "OrderPlaced", stream.text
    assert conf.check(http.get("/admin/stores/orders/streams/order-none-such")).status_code == 404
    trace = conf.check(http.get(f"/admin/trace/{correlation}"))
    types = [e["type"] for e in trace.json()["events"]]
    assert trace.status_code == 200 and {"OrderPlaced", "order.placed", "CreditReserved", "order.approved"} <= set(types), types
    assert conf.check(http.get("/admin/trace/unknown-correlation")).json()["count"] == 0


def test_console_session_conforms(http, conf):
    # Development mode: nothing to exchange, no cookie.
    r = conf.check(http.post("/ui/session"))
    assert r.status_code == 204 and "set-cookie" not in r.headers
    r = conf.check(http.delete("/ui/session"))
    assert r.status_code == 204 and "Max-Age=0" in r.headers["set-cookie"]


def test_operator_moves_conform(conf, tmp_path):
    """The admin moves on components, on a server of their own with a poison event injected
    (`TRIBUTARY_INJECT_FAULT`): the credit saga parks, a read model stops."""
    from conftest import server_binary
    from tributary_tools.server import Server
    fault = "component=customers-credit,match=poison-;component=customers-directory,match=Poisonous"
    server = Server(server_binary(), "none", tmp_path / "data", env={"TRIBUTARY_INJECT_FAULT": fault}).start(ready_timeout=60)
    why = {"reason": "conformance"}
    try:
        with httpx.Client(base_url=server.url, timeout=15) as http:
            cid = register(http, conf).json()["id"]
            for _ in range(2):
                place(http, conf, cid, oid=uid("o-poison"))
            deadline = time.monotonic() + 20
            while len(parked := conf.check(http.get("/admin/parked")).json()["parked"]) < 2:
                assert time.monotonic() < deadline, parked
                time.sleep(0.1)
            first, second = (p["position"] for p in parked)
            base = "/admin/parked/customers/customers-credit"
            r = conf.check(http.post(f"{base}/{first}/retry", json=why))   # the fault is still there
            assert r.status_code == 200 and r.json()["outcome"] == "failed", r.text
            assert conf.check(http.post(f"{base}/{second}/skip", json=why)).status_code == 200
            assert conf.check(http.post(f"{base}/{second}/skip", json=why)).status_code == 404
            r = conf.check(http.post(f"{base}/retry", json=why))
            assert r.status_code == 200 and [e["outcome"] for e in r.json()["retried"]] == ["failed"], r.text
            assert conf.check(http.post(f"{base}/{first}/retry", json={})).status_code == 422
            assert conf.check(http.post(f"{base}/{first}/retry", content=b"reason", headers={"Content-Type": "text/plain"})).status_code == 415
            assert conf.check(http.post(f"{base}/{first}/retry", content=b"{", headers=JSON)).status_code == 400

            assert conf.check(http.post(f"/commands/customers/{cid}/rename", json={"name": "Poisonous Pill"})).status_code == 200
            view = "/admin/components/customers/customers-directory"
            deadline = time.monotonic() + 20
            while not any(c["name"] == "customers-directory" and c["status"] == "failed" for c in http.get("/health").json()["components"]):
                assert time.monotonic() < deadline, "the view did not stop"
                time.sleep(0.1)
            assert conf.check(http.post("/admin/components/customers/customers-order-activity/resume", json=why)).status_code == 409
            assert conf.check(http.post("/admin/components/customers/no-such-view/resume", json=why)).status_code == 404
            r = conf.check(http.post(f"{view}/resume", json={**why, "from": "next"}))
            assert r.status_code == 200 and r.json()["outcome"] == "next", r.text
            r = conf.check(http.post("/admin/components/customers/customers-order-activity/rebuild", json=why))
            assert r.status_code == 202, r.text
            r = conf.check(http.get("/admin/operations/customers"))
            assert r.status_code == 200 and r.json()["count"] >= 6, r.text
            assert conf.check(http.get("/admin/operations/nobody")).status_code == 404
    finally:
        server.kill()


@pytest.mark.parametrize("name,path", [("api.yaml", API_PATH), ("public-events.yaml", EVENTS_PATH)])
def test_specs_are_served_verbatim(http, conf, name, path):
    r = http.get(f"/openapi/{name}")
    conf.check(r)
    assert r.status_code == 200 and r.content == path.read_bytes()


def test_every_operation_was_exercised(conf):
    # Runs after the tests above (file order); SSE operations have their own tests (issue 5).
    missing = []
    for path, method, op in operations():
        if is_sse(op) or path.startswith("/openapi/"):
            continue
        if not any(p == path and m == method and s.startswith("2") for p, m, s in conf.seen):
            missing.append(f"{method.upper()} {path}")
    assert not missing, f"operations never exercised with a 2xx: {missing}"


# --- (c) public events of a full saga against public-events.yaml ---

def collect(http, start, cid, wanted, timeout=10.0):
    """The public events about customer `cid` after `start`, once they include every (type, version) in `wanted`."""
    deadline = time.monotonic() + timeout
    while True:
        events, after = [], start
        while True:
            page = http.get("/public/events", params={"after": after, "limit": 1000}).json()
            events += page["events"]
            if not page["events"] or page["nextAfter"] >= page["lastPosition"]:
                break
            after = page["nextAfter"]
        mine = [e for e in events if e["data"].get("customerId") == cid]
        if {(e["type"], e["version"]) for e in mine} >= wanted or time.monotonic() > deadline:
            return mine
        time.sleep(0.1)


def test_saga_public_events_validate_and_cover_every_event_schema(http, conf):
    start = http.get("/public/events", params={"limit": 1}).json()["lastPosition"]
    cid = uid("saga")
    register(http, conf, cid, limit=10_000)
    conf.check(http.post(f"/commands/customers/{cid}/rename", json={"name": "Ada King"}))
    conf.check(http.post(f"/commands/customers/{cid}/change-email", json={"email": "ada.king@example.com"}))
    conf.check(http.post(f"/commands/customers/{cid}/change-credit-limit", json={"creditLimit": 20_000}))
    approved = place(http, conf, cid, lines=[{"sku": "BOOK-1", "quantity": 2, "unitPrice": 1500}]).json()["id"]
    wait_status(http, approved, "approved")
    added = conf.check(http.post(f"/commands/orders/{approved}/add-line", json={"sku": "PEN-7", "quantity": 1, "unitPrice": 500}))
    wait_status(http, approved, "approved", after=added)
    assert conf.check(http.post(f"/commands/orders/{approved}/ship")).status_code == 200
    cancelled = place(http, conf, cid).json()["id"]
    wait_status(http, cancelled, "approved")
    assert conf.check(http.post(f"/commands/orders/{cancelled}/cancel", json={"reason": "changed my mind"})).status_code == 200
    rejected = place(http, conf, cid, lines=[{"sku": "CAR", "quantity": 1, "unitPrice": 10_000_000}]).json()["id"]
    assert wait_status(http, rejected, "rejected")["rejectionReason"]
    wanted = set(event_schemas())
    mine = collect(http, start, cid, wanted - {("customer.deactivated", 1)})
    assert conf.check(http.post(f"/commands/customers/{cid}/deactivate")).status_code == 200
    mine = collect(http, start, cid, wanted)
    produced = {(e["type"], e["version"]) for e in mine}
    names = set()
    for e in mine:
        names.add(validate_public_event(e))
        assert e["correlationId"] and e["causationId"]
    missing = {f"{t} v{v}" for t, v in wanted - produced}
    assert not missing, f"event schemas no test produced: {sorted(missing)}"
    assert names == set(event_schemas().values())


# --- SSE: the documents carried by the streams match the spec's schemas ---

def read_sse(http, path, params=None, want=1, timeout=5.0):
    """The first `want` events (dicts with id/event/data) of an SSE stream, or fewer at timeout."""
    events, current = [], {}
    deadline = time.monotonic() + timeout
    with http.stream("GET", path, params=params, timeout=timeout) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].split(";")[0] == "text/event-stream"
        for line in r.iter_lines():
            if line == "":
                if "data" in current:
                    events.append(current)
                    if len(events) >= want:
                        break
                current = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                current[field] = current.get(field, "") + ("\n" if field == "data" and field in current else "") + value
            if time.monotonic() > deadline:
                break
    return events


def test_sse_documents_match_their_schemas(http, conf):
    import json
    from openapi_support import validate
    cid = uid("sse")
    register(http, conf, cid)
    oid = place(http, conf, cid).json()["id"]
    wait_status(http, oid, "approved")
    checks = [
        (f"/streams/queries/customers/{cid}", None, {"customer": "#/components/schemas/CustomerView"}),
        (f"/streams/queries/orders/{oid}", None, {"order": "#/components/schemas/OrderView"}),
        ("/streams/queries/orders", {"customerId": cid}, {"snapshot": "#/components/schemas/OrderPage"}),
        ("/streams/queries/stats", None, {"stats": "#/components/schemas/OrderStats"}),
    ]
    for path, params, schemas in checks:
        events = read_sse(http, path, params)
        assert events, f"{path}: no event"
        for e in events:
            assert e["event"] in schemas, (path, e)
            validate(json.loads(e["data"]), schemas[e["event"]])
    for e in read_sse(http, "/streams/health"):
        assert e["event"] == "health", e
        validate(json.loads(e["data"]), "#/components/schemas/HealthFrame")
    events = read_sse(http, "/streams/public", {"lastEventId": 0}, want=5)
    assert len(events) == 5
    for e in events:
        envelope = json.loads(e["data"])
        assert e["event"] == envelope["type"] and e["id"].isdigit()
        validate_public_event(envelope)
