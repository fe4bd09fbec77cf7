"""Read-your-writes with minPosition, the position header, ETag/304 and cursor pagination."""

import re
import time

from cqrs_client import assert_problem, describe, line

POSITION_HEADER = re.compile(r"^(\w+)=(\d+)(?:, (\w+)=(\d+))*$")


def positions(r) -> dict:
    value = r.headers.get("tributary-position", "")
    assert POSITION_HEADER.match(value), describe(r)
    return {k: int(v) for k, v in (part.split("=") for part in value.split(", "))}


def test_post_then_get_with_min_position_always_sees_the_write(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    for i in range(50):
        w = api.customer_cmd(c["id"], "rename", {"name": f"Name {i}"})
        r = api.get(f"/queries/customers/{c['id']}", {"minPosition": w["position"]})
        assert r.status_code == 200, describe(r)
        assert r.json()["name"] == f"Name {i}"
        assert r.json()["version"] == w["version"]
        store, pos = w["position"].split(":")
        assert positions(r)[store] >= int(pos)


def test_new_customer_visible_in_list_and_detail_with_min_position(cqrs_api):
    api = cqrs_api
    for _ in range(20):
        c = api.register(wait_replica=False)
        detail = api.get(f"/queries/customers/{c['id']}", {"minPosition": c["position"]})
        assert detail.status_code == 200, describe(detail)
        listed = api.get("/queries/customers", {"minPosition": c["position"], "limit": 500})
        assert c["id"] in {x["customerId"] for x in listed.json()["items"]}


def test_order_writes_read_back_with_min_position(cqrs_api):
    api = cqrs_api
    c = api.register()
    for i in range(10):
        o = api.place(c["id"], [line(f"S{i}", 1, 10)])
        r = api.get(f"/queries/orders/{o['id']}", {"minPosition": o["position"]})
        assert r.status_code == 200, describe(r)
        assert r.json()["orderId"] == o["id"]
        assert set(positions(r)) == {"orders", "public"}
        stats = api.get("/queries/stats", {"minPosition": o["position"]})
        assert stats.status_code == 200 and positions(stats)["orders"] >= int(o["position"].split(":")[1])


def test_position_header_names_the_stores_of_each_view(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    assert set(positions(api.get(f"/queries/customers/{c['id']}", {"minPosition": c["position"]}))) == {"customers", "public"}
    assert set(positions(api.get("/queries/customers"))) == {"customers", "public"}
    assert set(positions(api.get("/queries/orders"))) == {"orders", "public"}
    assert "orders" in positions(api.get("/queries/stats"))


def test_min_position_of_a_store_the_view_does_not_reflect_is_400(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    assert_problem(api.get(f"/queries/customers/{c['id']}", {"minPosition": "orders:1"}), 400)
    assert_problem(api.get("/queries/orders", {"minPosition": "customers:1"}), 400)
    for bad in ["nonsense", "customers:", "customers:-1", "customers:abc", ":5", "nosuchstore:1"]:
        assert_problem(api.get(f"/queries/customers/{c['id']}", {"minPosition": bad}), 400)


def test_min_position_far_in_the_future_is_503_with_retry_after(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    start = time.monotonic()
    r = api.get(f"/queries/customers/{c['id']}", {"minPosition": "customers:999999999"})
    elapsed = time.monotonic() - start
    assert_problem(r, 503)
    retry_after = r.headers.get("retry-after")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, describe(r)
    assert 3.0 <= elapsed <= 7.0, f"waited {elapsed:.2f}s (bound is ~5 s)"


def test_min_position_wait_is_released_by_a_later_write(cqrs_api, server):
    """A GET waiting for the next position returns as soon as that write lands (not after the bound)."""
    import threading
    import httpx
    api = cqrs_api
    c = api.register(wait_replica=False)
    w = api.customer_cmd(c["id"], "rename", {"name": "Before"})
    store, pos = w["position"].split(":")
    box = {}

    def reader():
        with httpx.Client(base_url=server, timeout=15) as http:
            t0 = time.monotonic()
            box["r"] = http.get(f"/queries/customers/{c['id']}", params={"minPosition": f"{store}:{int(pos) + 1}"})
            box["t"] = time.monotonic() - t0

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.3)  # let the reader start waiting (not an assertion)
    api.customer_cmd(c["id"], "rename", {"name": "After"})
    t.join(10)
    assert box["r"].status_code == 200, describe(box["r"])
    assert box["r"].json()["name"] == "After"
    assert box["t"] < 4.0, box["t"]


def test_if_none_match_gives_304_until_the_view_changes(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    path = f"/queries/customers/{c['id']}"
    first = api.get(path, {"minPosition": c["position"]})
    etag = first.headers["etag"]
    again = api.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304, describe(again)
    assert again.content == b""
    assert again.headers.get("etag") == etag
    w = api.customer_cmd(c["id"], "change-email", {"email": "changed@example.com"})
    changed = api.get(path, {"minPosition": w["position"]}, headers={"If-None-Match": etag})
    assert changed.status_code == 200, describe(changed)
    assert changed.headers["etag"] != etag
    assert changed.json()["email"] == "changed@example.com"
    # Lists and stats have ETags too.
    for p in ["/queries/customers", "/queries/orders", "/queries/stats"]:
        r = api.get(p)
        assert r.status_code == 200 and r.headers.get("etag"), describe(r)
        assert api.get(p, headers={"If-None-Match": r.headers["etag"]}).status_code in (200, 304)
    # A non-matching tag gives the full document.
    assert api.get(path, headers={"If-None-Match": '"nope"'}).status_code == 200


def test_cursor_pagination_covers_every_customer_exactly_once(cqrs_api):
    api = cqrs_api
    created = [api.register(name=f"Page {i:02d}", wait_replica=False) for i in range(25)]
    last = max(created, key=lambda c: int(c["position"].split(":")[1]))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7, "minPosition": last["position"]}
        if cursor:
            params["cursor"] = cursor
        page = api.view("/queries/customers", params)
        assert len(page["items"]) <= 7
        seen += [x["customerId"] for x in page["items"]]
        pages += 1
        cursor = page.get("nextCursor")
        if not cursor:
            break
        assert pages < 100
    assert len(seen) == len(set(seen)), "duplicates across pages"
    assert {c["id"] for c in created} <= set(seen)
    everything = api.view("/queries/customers", {"limit": 500})["items"]
    assert sorted(seen) == sorted(x["customerId"] for x in everything)
    assert pages == -(-len(seen) // 7) or pages == -(-len(seen) // 7) + 1


def test_cursor_pagination_of_orders_with_filters(cqrs_api):
    api = cqrs_api
    c = api.register(credit_limit=1_000_000)
    orders = [api.place(c["id"], [line("P", 1, 10 + i)]) for i in range(9)]
    for o in orders:
        api.wait_order(o["id"], "approved")
    seen, cursor = [], None
    while True:
        params = {"customerId": c["id"], "status": "approved", "limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = api.view("/queries/orders", params)
        seen += [x["orderId"] for x in page["items"]]
        assert all(x["customerId"] == c["id"] and x["status"] == "approved" for x in page["items"])
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(o["id"] for o in orders)


def test_bad_query_parameters_are_400(cqrs_api):
    api = cqrs_api
    for path, params in [("/queries/customers", {"limit": "0"}), ("/queries/customers", {"limit": "abc"}),
                         ("/queries/customers", {"limit": "100000"}), ("/queries/customers", {"status": "bogus"}),
                         ("/queries/orders", {"status": "bogus"}), ("/queries/orders", {"limit": "-3"}),
                         ("/public/events", {"after": "-1"}), ("/public/events", {"limit": "x"})]:
        assert_problem(api.get(path, params), 400)
