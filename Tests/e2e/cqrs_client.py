"""A small client for the CQRS end-to-end tests (test_cqrs_*.py): commands, queries, polling.

Everything is plain httpx against the real server; helpers only remove repetition and make
failures say what the server answered.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable

import httpx

POLL_TIMEOUT = 10.0
PROBLEM_JSON = "application/problem+json"


def new_id() -> str:
    return str(uuid.uuid4())


def describe(r: httpx.Response) -> str:
    return f"{r.request.method} {r.request.url} -> {r.status_code} {dict(r.headers)} {r.text[:600]}"


class Api:
    """Wraps an httpx.Client bound to one server."""

    def __init__(self, base: str, timeout: float = 15.0):
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    # --- raw ---

    def post(self, path: str, body: Any = None, headers: dict | None = None, content: bytes | None = None) -> httpx.Response:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        if content is None:
            content = json.dumps(body if body is not None else {}).encode()
        r = self.http.post(path, content=content, headers=h)
        assert r.status_code < 500, "server error: " + describe(r)
        return r

    def get(self, path: str, params: dict | None = None, headers: dict | None = None) -> httpx.Response:
        r = self.http.get(path, params=params, headers=headers or {})
        # 503 is a documented answer for minPosition waits; anything else 5xx is a bug.
        assert r.status_code < 500 or r.status_code == 503, "server error: " + describe(r)
        return r

    # --- commands (assert success, return the JSON body) ---

    def ok(self, r: httpx.Response, status: int | tuple = (200, 201)) -> dict:
        statuses = status if isinstance(status, tuple) else (status,)
        assert r.status_code in statuses, describe(r)
        body = r.json()
        assert set(body) >= {"id", "version", "position"}, body
        assert r.headers.get("etag") == f'"{body["version"]}"', describe(r)
        return body

    def register(self, name: str = "Ann Example", email: str | None = None, credit_limit: int = 10_000,
                 currency: str = "EUR", customer_id: str | None = None, headers: dict | None = None,
                 wait_replica: bool = True) -> dict:
        """Registers a customer; by default also waits until the orders service's replica has seen
        the customer.registered public event (via minPosition=public:N on an orders view), so a
        following place-order is not refused by the (legitimately) lagging replica."""
        body = {"name": name, "email": email or f"{uuid.uuid4().hex[:10]}@example.com",
                "creditLimit": credit_limit, "currency": currency}
        if customer_id is not None:
            body["customerId"] = customer_id
        result = self.ok(self.post("/commands/customers/register", body, headers), 201)
        if wait_replica:
            self.wait_orders_replica(result["id"], "customer.registered")
        return result

    def public_position_of(self, event_type: str, where: Callable[[dict], bool]) -> int:
        """Polls the public log for the last event of `event_type` matching `where`; its position."""
        found = poll(lambda: [e for e in self.public_events(types=event_type) if where(e)], bool,
                     POLL_TIMEOUT, f"public event {event_type}")
        return found[-1]["position"]

    def wait_orders_replica(self, cid: str, event_type: str) -> None:
        pos = self.public_position_of(event_type, lambda e: e["data"].get("customerId") == cid)
        r = self.get("/queries/orders", {"minPosition": f"public:{pos}", "limit": 1})
        assert r.status_code == 200, describe(r)

    def customer_cmd(self, cid: str, action: str, body: dict | None = None, headers: dict | None = None,
                     expect: int = 200) -> dict:
        return self.ok(self.post(f"/commands/customers/{cid}/{action}", body or {}, headers), expect)

    def place(self, customer_id: str, lines: list[dict], currency: str = "EUR", order_id: str | None = None,
              headers: dict | None = None) -> dict:
        body = {"customerId": customer_id, "currency": currency, "lines": lines}
        if order_id is not None:
            body["orderId"] = order_id
        return self.ok(self.post("/commands/orders/place", body, headers), 201)

    def order_cmd(self, oid: str, action: str, body: dict | None = None, headers: dict | None = None,
                  expect: int = 200) -> dict:
        return self.ok(self.post(f"/commands/orders/{oid}/{action}", body or {}, headers), expect)

    # --- queries ---

    def view(self, path: str, params: dict | None = None) -> dict:
        r = self.get(path, params)
        assert r.status_code == 200, describe(r)
        return r.json()

    def customer(self, cid: str, min_position: str | None = None, **params) -> dict:
        if min_position:
            params["minPosition"] = min_position
        return self.view(f"/queries/customers/{cid}", params)

    def order(self, oid: str, min_position: str | None = None, **params) -> dict:
        if min_position:
            params["minPosition"] = min_position
        return self.view(f"/queries/orders/{oid}", params)

    def stats(self) -> dict:
        return self.view("/queries/stats")

    def history(self, kind: str, sid: str) -> list[dict]:
        return self.view(f"/queries/{kind}/{sid}/history")["events"]

    def public_events(self, **params) -> list[dict]:
        """Every public event (paged with `after`) matching params (e.g. types=...)."""
        events, after = [], 0
        while True:
            page = self.view("/public/events", {**params, "after": after, "limit": 200})
            events += page["events"]
            if not page["events"]:
                return events
            after = page["nextAfter"]

    def _document(self, path: str) -> dict | None:
        """The document, or None while it is not there (404): on a query replica of a split
        deployment a document can show up a moment after its command was acknowledged."""
        r = self.get(path)
        if r.status_code == 404:
            return None
        assert r.status_code == 200, describe(r)
        return r.json()

    def wait_order(self, oid: str, statuses: set[str] | str, timeout: float = POLL_TIMEOUT,
                   where: Callable[[dict], bool] = lambda o: True) -> dict:
        wanted = {statuses} if isinstance(statuses, str) else statuses
        return poll(lambda: self._document(f"/queries/orders/{oid}"), lambda o: o is not None and o["status"] in wanted and where(o),
                    timeout, f"order {oid} to reach {sorted(wanted)}")

    def wait_customer(self, cid: str, where: Callable[[dict], bool], what: str, timeout: float = POLL_TIMEOUT) -> dict:
        return poll(lambda: self._document(f"/queries/customers/{cid}"), lambda c: c is not None and where(c), timeout,
                    f"customer {cid}: {what}")

    def settle(self, timeout: float = POLL_TIMEOUT) -> None:
        """Waits until no order is pending and the public log stopped growing with every view caught up."""
        def quiet():
            orders = self.view("/queries/orders", {"status": "pending", "limit": 500})["items"]
            health = self.view("/health")
            last = self.view("/public/events", {"after": 0, "limit": 1})["lastPosition"]
            lags = [c.get("lag", 0) for c in health["components"] if c["kind"] in ("projection", "publisher")]
            return (not orders and all(l == 0 for l in lags)), last
        deadline = time.monotonic() + timeout
        previous = None
        while True:
            calm, last = quiet()
            if calm and previous == last:
                return
            previous = last if calm else None
            if time.monotonic() > deadline:
                raise AssertionError(f"system did not settle within {timeout}s: {self.view('/health')}")
            time.sleep(0.1)


def poll(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float, what: str) -> Any:
    """Calls fetch until done(value) or the deadline; fails with the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {value}")
        time.sleep(0.02)


def line(sku: str, quantity: int, unit_price: int) -> dict:
    return {"sku": sku, "quantity": quantity, "unitPrice": unit_price}


def assert_problem(r: httpx.Response, status: int, fields: set[str] | None = None, type_: str | None = None) -> dict:
    """Asserts an RFC 9457 problem with the given status (and field names in `errors`)."""
    assert r.status_code < 500 or r.status_code == status, "server error: " + describe(r)
    assert r.status_code == status, describe(r)
    assert r.headers.get("content-type", "").split(";")[0].strip() == PROBLEM_JSON, describe(r)
    body = r.json()
    assert body.get("status") == status, body
    assert isinstance(body.get("type"), str) and body["type"].startswith("/problems/"), body
    assert isinstance(body.get("title"), str) and body["title"], body
    if type_ is not None:
        assert body["type"] == f"/problems/{type_}", body
    if fields is not None:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, body
        for e in errors:
            assert isinstance(e.get("field"), str) and isinstance(e.get("message"), str), e
        got = {e["field"] for e in errors}
        assert fields <= got, f"expected field errors {sorted(fields)}, got {sorted(got)}: {body}"
    return body
