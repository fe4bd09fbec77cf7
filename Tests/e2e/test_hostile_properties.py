"""Property tests for the command API (hypothesis): random sequences of valid and invalid
commands (wrong types, missing fields, negative/huge numbers, unknown ids, duplicate skus,
garbage bodies) never produce a 5xx, and the invariants hold after every sequence:
- a customer's availableCredit is never negative and reservedCredit ≤ creditLimit;
- an order's total equals the sum of quantity × unitPrice of its lines;
- in every touched stream's history, versions are 0,1,2,… and positions strictly increase."""

import json
import uuid

import httpx
from hypothesis import HealthCheck, given, settings, strategies as st

INT = st.one_of(st.integers(-5, 20_000), st.sampled_from([0, -1, 2**31, 2**53, 2**63 - 1, 2**63, -(2**63)]),
                st.just("12"), st.just(1.5), st.none())
TEXT = st.one_of(st.text(max_size=12), st.just(""), st.just("x" * 600), st.just("\u0000\ud7ff"), st.none(), st.just(7))
CURRENCY = st.sampled_from(["EUR", "USD", "XXX", "", "eur", None])
SKU = st.sampled_from(["A", "B", "C", "", None])


def line():
    return st.fixed_dictionaries({"sku": SKU, "quantity": INT, "unitPrice": INT})


def maybe_drop(d):
    """Sometimes removes a key, to exercise missing-field errors."""
    return st.builds(lambda d, k: {x: v for x, v in d.items() if x != k}, d, st.sampled_from(["", "name", "sku", "lines", "creditLimit", "quantity"]))


CUSTOMER_IDX = st.integers(0, 3)   # index into this example's customers; 3 is often unknown
ORDER_IDX = st.integers(0, 3)

OPS = st.one_of(
    st.tuples(st.just("register"), maybe_drop(st.fixed_dictionaries({
        "name": st.one_of(st.just("Prop Tester"), TEXT), "email": st.one_of(st.just("p@example.com"), TEXT),
        "creditLimit": st.one_of(st.integers(0, 20_000), INT), "currency": st.one_of(st.just("EUR"), CURRENCY)}))),
    st.tuples(st.just("place"), CUSTOMER_IDX, maybe_drop(st.fixed_dictionaries({
        "currency": st.one_of(st.just("EUR"), CURRENCY),
        "lines": st.one_of(st.lists(st.fixed_dictionaries({"sku": st.sampled_from(["A", "B", "C"]), "quantity": st.integers(1, 5),
                                                          "unitPrice": st.integers(0, 3000)}), min_size=1, max_size=3),
                           st.lists(line(), max_size=3), st.just("nope"))}))),
    st.tuples(st.just("add-line"), ORDER_IDX, maybe_drop(line())),
    st.tuples(st.just("remove-line"), ORDER_IDX, st.fixed_dictionaries({"sku": SKU})),
    st.tuples(st.just("cancel"), ORDER_IDX, st.fixed_dictionaries({"reason": TEXT})),
    st.tuples(st.just("ship"), ORDER_IDX, st.just({})),
    st.tuples(st.just("change-credit-limit"), CUSTOMER_IDX, st.fixed_dictionaries({"creditLimit": INT})),
    st.tuples(st.just("rename"), CUSTOMER_IDX, st.fixed_dictionaries({"name": TEXT})),
    st.tuples(st.just("deactivate"), CUSTOMER_IDX, st.just({})),
    st.tuples(st.just("garbage"), st.sampled_from(["/commands/customers/register", "/commands/orders/place"]),
              st.binary(max_size=40)),
)


def post(http, path, body=None, content=None):
    r = http.post(path, content=content if content is not None else json.dumps(body).encode(),
                  headers={"Content-Type": "application/json"})
    assert r.status_code < 500, f"POST {path} {body if content is None else content!r} -> {r.status_code} {r.text[:400]}"
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return r


def check_invariants(http, customers, orders):
    for cid in customers:
        r = http.get(f"/queries/customers/{cid}")
        if r.status_code == 404:
            continue
        c = r.json()
        assert c["availableCredit"] >= 0, c
        assert c["reservedCredit"] <= c["creditLimit"], c
        check_history(http, "customers", cid)
    for oid in orders:
        r = http.get(f"/queries/orders/{oid}")
        if r.status_code == 404:
            continue
        o = r.json()
        assert o["total"] == sum(l["quantity"] * l["unitPrice"] for l in o["lines"]), o
        check_history(http, "orders", oid)


def check_history(http, kind, sid):
    r = http.get(f"/queries/{kind}/{sid}/history")
    if r.status_code != 200:
        return
    events = r.json()["events"]
    assert [e["version"] for e in events] == list(range(len(events))), events
    positions = [e["position"] for e in events]
    assert all(a < b for a, b in zip(positions, positions[1:])), positions


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=st.lists(OPS, min_size=1, max_size=12))
def test_random_command_sequences_never_5xx_and_keep_invariants(server, ops):
    with httpx.Client(base_url=server, timeout=15) as http:
        tag = uuid.uuid4().hex[:8]
        customers = [f"pc-{tag}-{i}" for i in range(4)]
        orders = [f"po-{tag}-{i}" for i in range(4)]
        registered = placed = 0
        for op in ops:
            kind = op[0]
            if kind == "register":
                body = dict(op[1], customerId=customers[registered % 3])
                registered += 1
                post(http, "/commands/customers/register", body)
            elif kind == "place":
                body = dict(op[2], customerId=customers[op[1]], orderId=orders[placed % 3])
                placed += 1
                post(http, "/commands/orders/place", body)
            elif kind in ("add-line", "remove-line", "cancel", "ship"):
                post(http, f"/commands/orders/{orders[op[1]]}/{kind}", op[2])
            elif kind in ("change-credit-limit", "rename", "deactivate"):
                post(http, f"/commands/customers/{customers[op[1]]}/{kind}", op[2])
            else:
                post(http, op[1], content=op[2])
        check_invariants(http, customers, orders)
