"""Answers kept between requests (the server renders a page, a document, a history or a
public-log page once and serves it again while nothing it shows has moved) are never stale:
every change shows at once to a reader that waits for its position, and 304s stop when the
document changes."""

from cqrs_client import describe, line, poll


def test_list_detail_and_history_follow_a_change(cqrs_api):
    api = cqrs_api
    c = api.register(name="Memo Before", credit_limit=5_000)
    cid = c["id"]
    listed = lambda page: {i["customerId"]: i["name"] for i in page["items"]}
    # Read each answer twice (the second from what the server kept), then change the customer.
    for _ in range(2):
        assert listed(api.view("/queries/customers", {"limit": 500})).get(cid) == "Memo Before"
        assert api.customer(cid)["name"] == "Memo Before"
        assert len(api.history("customers", cid)) == 1
    renamed = api.customer_cmd(cid, "rename", {"name": "Memo After"})
    token = renamed["position"]
    page = api.view("/queries/customers", {"limit": 500, "minPosition": token})
    assert listed(page)[cid] == "Memo After"
    assert api.customer(cid, min_position=token)["name"] == "Memo After"
    history = api.view(f"/queries/customers/{cid}/history", {"minPosition": token})["events"]
    assert [e["type"] for e in history][-1] == "CustomerRenamed", history
    # Without a wait, the same request (the same key as the kept answers) shows it too, at once
    # now that the view has it.
    assert listed(api.view("/queries/customers", {"limit": 500}))[cid] == "Memo After"
    assert api.customer(cid)["name"] == "Memo After"


def test_a_filtered_list_follows_a_status_change(cqrs_api):
    api = cqrs_api
    c = api.register(name="Memo Orders", credit_limit=5_000)
    o = api.place(c["id"], [line("M", 1, 100)])
    api.wait_order(o["id"], "approved")
    approved = lambda: [i["orderId"] for i in api.view("/queries/orders", {"status": "approved", "limit": 500})["items"]]
    assert o["id"] in approved() and o["id"] in approved()
    shipped = api.order_cmd(o["id"], "ship", {})
    page = api.view("/queries/orders", {"status": "approved", "limit": 500, "minPosition": shipped["position"]})
    assert o["id"] not in [i["orderId"] for i in page["items"]]
    assert o["id"] not in approved()


def test_not_modified_stops_when_the_page_changes(cqrs_api):
    api = cqrs_api
    c = api.register(name="Memo Tag", credit_limit=5_000)
    params = {"limit": 500}
    first = api.get("/queries/customers", params)
    tag = first.headers["etag"]
    again = api.get("/queries/customers", params, headers={"If-None-Match": tag})
    assert again.status_code == 304, describe(again)
    renamed = api.customer_cmd(c["id"], "rename", {"name": "Memo Tag Renamed"})
    api.view("/queries/customers", {**params, "minPosition": renamed["position"]})
    changed = api.get("/queries/customers", params, headers={"If-None-Match": tag})
    assert changed.status_code == 200, describe(changed)
    assert changed.headers["etag"] != tag
    assert "Memo Tag Renamed" in changed.text


def test_public_log_pages_grow_with_the_log_and_full_pages_stay(cqrs_api):
    api = cqrs_api
    api.register(name="Memo Log", credit_limit=5_000)
    api.settle()
    head = api.view("/public/events", {"after": 0, "limit": 1})["lastPosition"]
    tail = {"after": max(0, head - 1), "limit": 1000}
    short = api.view("/public/events", tail)
    assert [e["position"] for e in short["events"]] == [head]
    full = api.view("/public/events", {"after": 0, "limit": 1})
    c = api.register(name="Memo Log Two", credit_limit=5_000)
    grown = poll(lambda: api.view("/public/events", tail), lambda p: len(p["events"]) > 1, 15, "the short page to grow")
    assert grown["events"][0] == short["events"][0]
    assert any(e["data"].get("customerId") == c["id"] for e in grown["events"])
    assert grown["lastPosition"] > head
    # A full page keeps its events; only the head it reports moves.
    full_again = api.view("/public/events", {"after": 0, "limit": 1})
    assert full_again["events"] == full["events"] and full_again["nextAfter"] == full["nextAfter"]
    assert full_again["lastPosition"] >= grown["lastPosition"]
