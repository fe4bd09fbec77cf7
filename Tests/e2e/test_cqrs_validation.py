"""Bad commands and queries: the right status (400/404/409/415/422), application/problem+json,
field names in `errors`, and never a 5xx — for every case."""

import json
import uuid

import pytest

from cqrs_client import Api, assert_problem, describe, line

GOOD_CUSTOMER = {"name": "Val Id", "email": "valid@example.com", "creditLimit": 1_000, "currency": "EUR"}
LONG = "x" * 5_000


def without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


def good_order(cid: str, **over) -> dict:
    body = {"customerId": cid, "currency": "EUR", "lines": [line("SKU-1", 1, 100)]}
    body.update(over)
    return body


@pytest.fixture(scope="module")
def world(cqrs_api):
    """Fixed ids for the cases: an active customer with an approved order, a shipped order,
    a cancelled order, and a deactivated customer."""
    api = cqrs_api
    c = api.register(name="World", credit_limit=100_000)
    approved = api.place(c["id"], [line("A", 1, 100)])
    shipped = api.place(c["id"], [line("B", 1, 100)])
    cancelled = api.place(c["id"], [line("C", 1, 100)])
    for o in (approved, shipped, cancelled):
        api.wait_order(o["id"], "approved")
    api.order_cmd(shipped["id"], "ship", {})
    api.order_cmd(cancelled["id"], "cancel", {"reason": "test"})
    gone = api.register(name="Gone")
    api.customer_cmd(gone["id"], "deactivate", {})
    api.wait_orders_replica(gone["id"], "customer.deactivated")
    return {"c": c["id"], "approved": approved["id"], "shipped": shipped["id"], "cancelled": cancelled["id"],
            "gone": gone["id"]}


# (name, path template, body (dict or raw bytes), content type, expected status, expected field names)
CASES = [
    # --- register: missing fields, one at a time ---
    *[(f"register-missing-{f}", "/commands/customers/register", without(GOOD_CUSTOMER, f), None, 422, {f})
      for f in ("name", "email", "creditLimit", "currency")],
    ("register-empty-object", "/commands/customers/register", {}, None, 422, None),
    # --- register: wrong types ---
    ("register-name-number", "/commands/customers/register", {**GOOD_CUSTOMER, "name": 1}, None, 422, {"name"}),
    ("register-name-null", "/commands/customers/register", {**GOOD_CUSTOMER, "name": None}, None, 422, {"name"}),
    ("register-email-number", "/commands/customers/register", {**GOOD_CUSTOMER, "email": 5}, None, 422, {"email"}),
    ("register-limit-string", "/commands/customers/register", {**GOOD_CUSTOMER, "creditLimit": "1000"}, None, 422, {"creditLimit"}),
    ("register-limit-float", "/commands/customers/register", {**GOOD_CUSTOMER, "creditLimit": 10.5}, None, 422, {"creditLimit"}),
    ("register-limit-huge", "/commands/customers/register", {**GOOD_CUSTOMER, "creditLimit": 10**30}, None, 422, {"creditLimit"}),
    ("register-currency-array", "/commands/customers/register", {**GOOD_CUSTOMER, "currency": ["EUR"]}, None, 422, {"currency"}),
    ("register-id-number", "/commands/customers/register", {**GOOD_CUSTOMER, "customerId": 7}, None, 422, {"customerId"}),
    ("register-body-array", "/commands/customers/register", [GOOD_CUSTOMER], None, 422, None),
    ("register-body-string", "/commands/customers/register", "hello", None, 422, None),
    # --- register: invalid values ---
    *[(f"register-bad-email-{i}", "/commands/customers/register", {**GOOD_CUSTOMER, "email": e}, None, 422, {"email"})
      for i, e in enumerate(["nope", "a@", "@example.com", "a b@example.com", "", "a@@b.com"])],
    ("register-empty-name", "/commands/customers/register", {**GOOD_CUSTOMER, "name": ""}, None, 422, {"name"}),
    ("register-blank-name", "/commands/customers/register", {**GOOD_CUSTOMER, "name": "   "}, None, 422, {"name"}),
    ("register-negative-limit", "/commands/customers/register", {**GOOD_CUSTOMER, "creditLimit": -1}, None, 422, {"creditLimit"}),
    ("register-unknown-currency", "/commands/customers/register", {**GOOD_CUSTOMER, "currency": "XXX"}, None, 422, {"currency"}),
    ("register-currency-empty", "/commands/customers/register", {**GOOD_CUSTOMER, "currency": ""}, None, 422, {"currency"}),
    ("register-overlong-name", "/commands/customers/register", {**GOOD_CUSTOMER, "name": LONG}, None, 422, {"name"}),
    ("register-overlong-email", "/commands/customers/register", {**GOOD_CUSTOMER, "email": LONG + "@example.com"}, None, 422, {"email"}),
    ("register-overlong-id", "/commands/customers/register", {**GOOD_CUSTOMER, "customerId": LONG}, None, 422, {"customerId"}),
    ("register-empty-id", "/commands/customers/register", {**GOOD_CUSTOMER, "customerId": ""}, None, 422, {"customerId"}),
    ("register-all-bad", "/commands/customers/register",
     {"name": "", "email": "bad", "creditLimit": -5, "currency": "QQQ"}, None, 422, {"name", "email", "creditLimit", "currency"}),
    ("register-existing-id", "/commands/customers/register", {**GOOD_CUSTOMER, "customerId": "{c}"}, None, 409, None),
    # --- register: transport ---
    ("register-text-plain", "/commands/customers/register", GOOD_CUSTOMER, "text/plain", 415, None),
    ("register-form", "/commands/customers/register", b"name=a&email=b", "application/x-www-form-urlencoded", 415, None),
    ("register-no-content-type", "/commands/customers/register", GOOD_CUSTOMER, "", 415, None),
    ("register-malformed-json", "/commands/customers/register", b'{"name": "a",', None, 400, None),
    ("register-trailing-garbage", "/commands/customers/register", b'{"name": "a"} xyz', None, 400, None),
    ("register-empty-body", "/commands/customers/register", b"", None, 400, None),
    ("register-invalid-utf8", "/commands/customers/register", b'{"name": "\xff\xfe"}', None, 400, None),
    # --- customer commands ---
    ("rename-missing-name", "/commands/customers/{c}/rename", {}, None, 422, {"name"}),
    ("rename-empty-name", "/commands/customers/{c}/rename", {"name": ""}, None, 422, {"name"}),
    ("rename-overlong", "/commands/customers/{c}/rename", {"name": LONG}, None, 422, {"name"}),
    ("rename-number", "/commands/customers/{c}/rename", {"name": 42}, None, 422, {"name"}),
    ("rename-unknown", "/commands/customers/{unknown}/rename", {"name": "X"}, None, 404, None),
    ("rename-deactivated", "/commands/customers/{gone}/rename", {"name": "X"}, None, 409, None),
    ("rename-malformed", "/commands/customers/{c}/rename", b"{name:", None, 400, None),
    ("rename-not-json", "/commands/customers/{c}/rename", b"X", "text/plain", 415, None),
    ("email-bad", "/commands/customers/{c}/change-email", {"email": "not-an-email"}, None, 422, {"email"}),
    ("email-missing", "/commands/customers/{c}/change-email", {}, None, 422, {"email"}),
    ("email-unknown", "/commands/customers/{unknown}/change-email", {"email": "a@example.com"}, None, 404, None),
    ("limit-negative", "/commands/customers/{c}/change-credit-limit", {"creditLimit": -1}, None, 422, {"creditLimit"}),
    ("limit-string", "/commands/customers/{c}/change-credit-limit", {"creditLimit": "lots"}, None, 422, {"creditLimit"}),
    ("limit-missing", "/commands/customers/{c}/change-credit-limit", {}, None, 422, {"creditLimit"}),
    ("limit-below-reserved", "/commands/customers/{c}/change-credit-limit", {"creditLimit": 0}, None, 409, None),
    ("limit-unknown", "/commands/customers/{unknown}/change-credit-limit", {"creditLimit": 1}, None, 404, None),
    ("deactivate-twice", "/commands/customers/{gone}/deactivate", {}, None, 409, None),
    ("deactivate-unknown", "/commands/customers/{unknown}/deactivate", {}, None, 404, None),
    # --- place ---
    ("place-missing-lines", "/commands/orders/place", "ORDER-lines", None, 422, {"lines"}),
    ("place-missing-customer", "/commands/orders/place", "ORDER-customerId", None, 422, {"customerId"}),
    ("place-missing-currency", "/commands/orders/place", "ORDER-currency", None, 422, {"currency"}),
    ("place-empty-lines", "/commands/orders/place", {"lines": []}, None, 422, {"lines"}),
    ("place-lines-object", "/commands/orders/place", {"lines": {"sku": "A"}}, None, 422, {"lines"}),
    ("place-negative-quantity", "/commands/orders/place", {"lines": [line("A", -1, 100)]}, None, 422, {"lines[0].quantity"}),
    ("place-zero-quantity", "/commands/orders/place", {"lines": [line("A", 0, 100)]}, None, 422, {"lines[0].quantity"}),
    ("place-float-quantity", "/commands/orders/place", {"lines": [line("A", 1.5, 100)]}, None, 422, {"lines[0].quantity"}),
    ("place-negative-price", "/commands/orders/place", {"lines": [line("A", 1, -100)]}, None, 422, {"lines[0].unitPrice"}),
    ("place-price-string", "/commands/orders/place", {"lines": [line("A", 1, "100")]}, None, 422, {"lines[0].unitPrice"}),
    ("place-second-line-bad", "/commands/orders/place", {"lines": [line("A", 1, 1), line("", 1, 1)]}, None, 422, {"lines[1].sku"}),
    ("place-missing-sku", "/commands/orders/place", {"lines": [{"quantity": 1, "unitPrice": 1}]}, None, 422, {"lines[0].sku"}),
    ("place-overlong-sku", "/commands/orders/place", {"lines": [line(LONG, 1, 1)]}, None, 422, {"lines[0].sku"}),
    ("place-unknown-currency", "/commands/orders/place", {"currency": "XXX"}, None, 422, {"currency"}),
    ("place-currency-mismatch", "/commands/orders/place", {"currency": "USD"}, None, 422, {"currency"}),
    ("place-unknown-customer", "/commands/orders/place", {"customerId": "{unknown}"}, None, 422, {"customerId"}),
    ("place-deactivated-customer", "/commands/orders/place", {"customerId": "{gone}"}, None, 422, {"customerId"}),
    ("place-overlong-order-id", "/commands/orders/place", {"orderId": LONG}, None, 422, {"orderId"}),
    ("place-existing-order-id", "/commands/orders/place", {"orderId": "{approved}"}, None, 409, None),
    ("place-not-json", "/commands/orders/place", b"lines", "text/plain", 415, None),
    ("place-malformed", "/commands/orders/place", b'{"lines": [', None, 400, None),
    # --- order commands ---
    ("add-line-negative", "/commands/orders/{approved}/add-line", line("Z", -2, 1), None, 422, {"quantity"}),
    ("add-line-missing-price", "/commands/orders/{approved}/add-line", {"sku": "Z", "quantity": 1}, None, 422, {"unitPrice"}),
    ("add-line-unknown-order", "/commands/orders/{unknown}/add-line", line("Z", 1, 1), None, 404, None),
    ("add-line-shipped", "/commands/orders/{shipped}/add-line", line("Z", 1, 1), None, 409, None),
    ("add-line-cancelled", "/commands/orders/{cancelled}/add-line", line("Z", 1, 1), None, 409, None),
    ("remove-line-missing-sku", "/commands/orders/{approved}/remove-line", {}, None, 422, {"sku"}),
    ("remove-line-unknown-order", "/commands/orders/{unknown}/remove-line", {"sku": "A"}, None, 404, None),
    ("remove-line-shipped", "/commands/orders/{shipped}/remove-line", {"sku": "B"}, None, 409, None),
    ("cancel-missing-reason", "/commands/orders/{approved}/cancel", {}, None, 422, {"reason"}),
    ("cancel-overlong-reason", "/commands/orders/{approved}/cancel", {"reason": LONG * 2}, None, 422, {"reason"}),
    ("cancel-unknown", "/commands/orders/{unknown}/cancel", {"reason": "r"}, None, 404, None),
    ("cancel-shipped", "/commands/orders/{shipped}/cancel", {"reason": "r"}, None, 409, None),
    ("cancel-cancelled", "/commands/orders/{cancelled}/cancel", {"reason": "r"}, None, 409, None),
    ("ship-cancelled", "/commands/orders/{cancelled}/ship", {}, None, 409, None),
    ("ship-shipped", "/commands/orders/{shipped}/ship", {}, None, 409, None),
    ("ship-unknown", "/commands/orders/{unknown}/ship", {}, None, 404, None),
    ("ship-malformed", "/commands/orders/{approved}/ship", b"{", None, 400, None),
]


def fill(value, world):
    subst = {**world, "unknown": f"unknown-{uuid.uuid4()}"}
    if isinstance(value, str):
        for k, v in subst.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value


@pytest.mark.parametrize("name,path,body,ctype,status,fields", CASES, ids=[c[0] for c in CASES])
def test_bad_command(cqrs_api, world, name, path, body, ctype, status, fields):
    api = cqrs_api
    path = fill(path, world)
    if isinstance(body, str) and body.startswith("ORDER-"):
        body = without(good_order(world["c"]), body[len("ORDER-"):])
    elif path.endswith("/orders/place") and isinstance(body, dict):
        body = {**good_order(world["c"]), **fill(body, world)}
    else:
        body = fill(body, world)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": ctype} if ctype is not None else {"Content-Type": "application/json"}
    if ctype == "":
        headers = {}
    r = api.http.post(path, content=content, headers=headers)
    assert r.status_code < 500, describe(r)
    assert_problem(r, status, fields)


def test_rejected_commands_appended_nothing(cqrs_api, world):
    """Runs after the table (same module): the fixed streams kept their versions."""
    api = cqrs_api
    assert api.customer(world["gone"])["status"] == "deactivated"
    assert [e["type"] for e in api.history("orders", world["shipped"])][-1] == "OrderShipped"
    assert [e["type"] for e in api.history("orders", world["cancelled"])][-1] == "OrderCancelled"
    r = api.get("/admin/consistency")
    assert r.status_code == 200 and r.json()["consistent"] is True, describe(r)


QUERY_CASES = [
    ("/queries/customers/{unknown}", {}, 404),
    ("/queries/orders/{unknown}", {}, 404),
    ("/queries/customers/{unknown}/history", {}, 404),
    ("/queries/customers", {"limit": "0"}, 400),
    ("/queries/customers", {"limit": "many"}, 400),
    ("/queries/customers", {"status": "zombie"}, 400),
    ("/queries/customers", {"cursor": "\u0000garbage"}, 400),
    ("/queries/orders", {"status": "lost"}, 400),
    ("/queries/orders", {"limit": "99999999999999999999"}, 400),
    ("/queries/customers/{c}", {"version": "-1"}, 400),
    ("/queries/customers/{c}", {"version": "one"}, 400),
    ("/queries/customers/{c}", {"asOf": "2026-13-45T99:00:00Z"}, 400),
    ("/queries/orders/{approved}", {"asOf": "now"}, 400),
    ("/queries/customers/{c}", {"minPosition": "orders:1"}, 400),
    ("/queries/customers/{c}", {"minPosition": "garbage"}, 400),
    ("/public/events", {"after": "-5"}, 400),
    ("/public/events", {"after": "abc"}, 400),
    ("/public/events", {"limit": "0"}, 400),
]


@pytest.mark.parametrize("path,params,status", QUERY_CASES, ids=[f"{p}?{q}" for p, q, _ in QUERY_CASES])
def test_bad_query(cqrs_api, world, path, params, status):
    r = cqrs_api.http.get(fill(path, world), params=params)
    assert r.status_code < 500, describe(r)
    assert_problem(r, status)


def test_bad_headers_are_400(cqrs_api, world):
    api = cqrs_api
    for headers in [{"If-Match": "not-a-version"}, {"Idempotency-Key": "x" * 300}, {"Idempotency-Key": "has space"}]:
        r = api.http.post(f"/commands/customers/{world['c']}/rename", content=b'{"name": "H"}',
                          headers={"Content-Type": "application/json", **headers})
        assert r.status_code < 500, describe(r)
        assert_problem(r, 400)


def test_unknown_routes_are_404_problems(cqrs_api):
    api = cqrs_api
    for path in ["/commands/customers/x/explode", "/commands/planets/place", "/queries/planets", "/nope"]:
        r = api.http.post(path, content=b"{}", headers={"Content-Type": "application/json"}) if path.startswith("/commands") \
            else api.http.get(path)
        assert r.status_code < 500, describe(r)
        assert r.status_code in (404, 405), describe(r)
        assert r.headers.get("content-type", "").startswith("application/problem+json"), describe(r)
