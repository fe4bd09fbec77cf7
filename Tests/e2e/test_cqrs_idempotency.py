"""Idempotency-Key: a retry with the same key and body replays the first response and appends
nothing (also across a restart); the same key with another body is 422."""

import uuid

from cqrs_client import Api, assert_problem, describe, line


def key() -> str:
    return f"test-{uuid.uuid4()}"


def test_same_key_same_body_replays_first_response(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    k = key()
    first = api.post(f"/commands/customers/{c['id']}/rename", {"name": "Once"}, headers={"Idempotency-Key": k})
    second = api.post(f"/commands/customers/{c['id']}/rename", {"name": "Once"}, headers={"Idempotency-Key": k})
    assert first.status_code == 200, describe(first)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert second.headers.get("etag") == first.headers.get("etag")
    history = api.history("customers", c["id"])
    assert [e["type"] for e in history].count("CustomerRenamed") == 1, history
    assert [e["version"] for e in history] == [0, 1]


def test_replayed_creation_returns_the_same_generated_id(cqrs_api):
    api = cqrs_api
    k = key()
    body = {"name": "Idem Potent", "email": "idem@example.com", "creditLimit": 500, "currency": "EUR"}
    first = api.post("/commands/customers/register", body, headers={"Idempotency-Key": k})
    second = api.post("/commands/customers/register", body, headers={"Idempotency-Key": k})
    assert first.status_code == 201, describe(first)
    assert (second.status_code, second.content) == (201, first.content)
    cid = first.json()["id"]
    assert len(api.history("customers", cid)) == 1
    registered = [e for e in api.public_events(types="customer.registered") if e["data"]["customerId"] == cid]
    assert len(registered) == 1


def test_replayed_place_order_appends_one_order(cqrs_api):
    api = cqrs_api
    c = api.register()
    k = key()
    body = {"customerId": c["id"], "currency": "EUR", "lines": [line("A", 1, 100)]}
    first = api.post("/commands/orders/place", body, headers={"Idempotency-Key": k})
    second = api.post("/commands/orders/place", body, headers={"Idempotency-Key": k})
    assert first.status_code == 201, describe(first)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    api.wait_order(first.json()["id"], "approved")
    listed = api.view("/queries/orders", {"customerId": c["id"]})["items"]
    assert len(listed) == 1
    cust = api.wait_customer(c["id"], lambda v: v["reservedCredit"] == 100, "one reservation")
    assert cust["orderCount"] == 1


def test_same_key_different_body_is_422_and_appends_nothing(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    k = key()
    first = api.post(f"/commands/customers/{c['id']}/rename", {"name": "Original"}, headers={"Idempotency-Key": k})
    assert first.status_code == 200, describe(first)
    other = api.post(f"/commands/customers/{c['id']}/rename", {"name": "Different"}, headers={"Idempotency-Key": k})
    assert_problem(other, 422)
    assert [e["version"] for e in api.history("customers", c["id"])] == [0, 1]
    assert api.customer(c["id"], min_position=first.json()["position"])["name"] == "Original"
    # The original request still replays.
    again = api.post(f"/commands/customers/{c['id']}/rename", {"name": "Original"}, headers={"Idempotency-Key": k})
    assert (again.status_code, again.content) == (200, first.content)


def test_failed_command_with_key_then_retry(cqrs_api):
    """A key used on a rejected command must not make the retry succeed silently with another answer."""
    api = cqrs_api
    c = api.register(wait_replica=False)
    k = key()
    bad = api.post(f"/commands/customers/{c['id']}/change-email", {"email": "not-an-email"}, headers={"Idempotency-Key": k})
    assert_problem(bad, 422, {"email"})
    bad2 = api.post(f"/commands/customers/{c['id']}/change-email", {"email": "not-an-email"}, headers={"Idempotency-Key": k})
    assert bad2.status_code == 422
    assert [e["version"] for e in api.history("customers", c["id"])] == [0]


def test_idempotent_retry_survives_restart(server_factory):
    srv = server_factory.start()
    api = Api(srv.base)
    try:
        k_reg, k_ren, k_place = key(), key(), key()
        # Explicit ids here: replaying a command whose id the server generates is covered above.
        cid, oid = str(uuid.uuid4()), str(uuid.uuid4())
        reg_body = {"customerId": cid, "name": "Durable", "email": "durable@example.com", "creditLimit": 5_000,
                    "currency": "EUR"}
        reg = api.post("/commands/customers/register", reg_body, headers={"Idempotency-Key": k_reg})
        assert reg.status_code == 201, describe(reg)
        assert reg.json()["id"] == cid
        ren = api.post(f"/commands/customers/{cid}/rename", {"name": "Durable Two"}, headers={"Idempotency-Key": k_ren})
        assert ren.status_code == 200, describe(ren)
        api.wait_orders_replica(cid, "customer.renamed")
        place_body = {"orderId": oid, "customerId": cid, "currency": "EUR", "lines": [line("A", 2, 100)]}
        placed = api.post("/commands/orders/place", place_body, headers={"Idempotency-Key": k_place})
        assert placed.status_code == 201, describe(placed)
        api.wait_order(placed.json()["id"], "approved")
        api.settle()
        before_customer = api.history("customers", cid)
        before_order = api.history("orders", placed.json()["id"])
        before_public = api.public_events()
    finally:
        api.close()

    srv = server_factory.restart()
    api = Api(srv.base)
    try:
        for path, body, k, first in [("/commands/customers/register", reg_body, k_reg, reg),
                                     (f"/commands/customers/{cid}/rename", {"name": "Durable Two"}, k_ren, ren),
                                     ("/commands/orders/place", place_body, k_place, placed)]:
            again = api.post(path, body, headers={"Idempotency-Key": k})
            assert (again.status_code, again.content) == (first.status_code, first.content), \
                f"after restart: {describe(again)} vs first {first.status_code} {first.text}"
        # Same key, different body after the restart: still 422.
        assert_problem(api.post(f"/commands/customers/{cid}/rename", {"name": "Other"},
                                headers={"Idempotency-Key": k_ren}), 422)
        api.settle()
        assert api.history("customers", cid) == before_customer
        assert api.history("orders", placed.json()["id"]) == before_order
        assert api.public_events() == before_public
    finally:
        api.close()
    server_factory.stop()
