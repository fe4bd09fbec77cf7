"""Optimistic concurrency over HTTP: If-Match (412 with the actual version), ETags of reads as
If-Match, and many concurrent writers on one stream serialized without gaps."""

import threading

import httpx

from cqrs_client import Api, assert_problem, describe


def test_if_match_current_version_succeeds_stale_is_412(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    r1 = api.customer_cmd(c["id"], "rename", {"name": "Second"}, headers={"If-Match": '"0"'})
    assert r1["version"] == 1

    stale = api.post(f"/commands/customers/{c['id']}/rename", {"name": "Lost update"}, headers={"If-Match": '"0"'})
    body = assert_problem(stale, 412)
    assert body["actualVersion"] == 1, body
    assert body["expectedVersion"] == 0, body
    assert stale.headers.get("etag") == '"1"', describe(stale)

    # Nothing was appended by the refused command.
    assert [e["version"] for e in api.history("customers", c["id"])] == [0, 1]
    assert api.customer(c["id"], min_position=r1["position"])["name"] == "Second"

    # The version from the 412 lets the client retry.
    r2 = api.customer_cmd(c["id"], "rename", {"name": "Third"}, headers={"If-Match": f'"{body["actualVersion"]}"'})
    assert r2["version"] == 2


def test_if_match_on_orders(cqrs_api):
    api = cqrs_api
    c = api.register()
    o = api.place(c["id"], [{"sku": "A", "quantity": 1, "unitPrice": 100}])
    approved = api.wait_order(o["id"], "approved")
    r = api.post(f"/commands/orders/{o['id']}/ship", {}, headers={"If-Match": '"0"'})
    body = assert_problem(r, 412)
    assert body["actualVersion"] == approved["version"]
    api.order_cmd(o["id"], "ship", {}, headers={"If-Match": f'"{approved["version"]}"'})


def test_etag_of_a_read_works_as_if_match(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    read = api.get(f"/queries/customers/{c['id']}", {"minPosition": c["position"]})
    assert read.status_code == 200, describe(read)
    etag = read.headers["etag"]
    assert etag.startswith('"0.') and etag.endswith('"'), etag

    ok = api.post(f"/commands/customers/{c['id']}/change-email", {"email": "new@example.com"}, headers={"If-Match": etag})
    assert ok.status_code == 200, describe(ok)
    assert ok.json()["version"] == 1

    # The same (now stale) read ETag is refused.
    again = api.post(f"/commands/customers/{c['id']}/change-email", {"email": "newer@example.com"}, headers={"If-Match": etag})
    assert assert_problem(again, 412)["actualVersion"] == 1

    # The fresh read has a new ETag that works again.
    fresh = api.get(f"/queries/customers/{c['id']}", {"minPosition": ok.json()["position"]})
    assert fresh.headers["etag"] != etag and fresh.headers["etag"].startswith('"1.')
    ok2 = api.post(f"/commands/customers/{c['id']}/change-email", {"email": "newest@example.com"},
                   headers={"If-Match": fresh.headers["etag"]})
    assert ok2.status_code == 200, describe(ok2)


def test_malformed_if_match_is_400(cqrs_api):
    api = cqrs_api
    c = api.register(wait_replica=False)
    for value in ['"abc"', "garbage", '"-1"']:
        r = api.post(f"/commands/customers/{c['id']}/rename", {"name": "X"}, headers={"If-Match": value})
        assert r.status_code in (400, 412), describe(r)
        assert_problem(r, r.status_code)
    assert [e["version"] for e in api.history("customers", c["id"])] == [0]


def _concurrently(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except BaseException as e:  # surfaced by the assertions below
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_twenty_concurrent_renames_all_succeed_without_gaps(server, cqrs_api):
    c = cqrs_api.register(wait_replica=False)
    n = 20

    def rename(i):
        with httpx.Client(base_url=server, timeout=15) as http:
            return http.post(f"/commands/customers/{c['id']}/rename", json={"name": f"Name {i}"})

    responses = _concurrently(n, rename)
    for r in responses:
        assert isinstance(r, httpx.Response), r
        assert r.status_code == 200, describe(r)
    versions = sorted(r.json()["version"] for r in responses)
    assert versions == list(range(1, n + 1)), versions
    positions = [int(r.json()["position"].split(":")[1]) for r in responses]
    assert len(set(positions)) == n
    # Higher version <=> later global position.
    by_version = sorted((r.json()["version"], int(r.json()["position"].split(":")[1])) for r in responses)
    assert [p for _, p in by_version] == sorted(p for _, p in by_version)

    last = max(responses, key=lambda r: r.json()["version"])
    history = cqrs_api.history("customers", c["id"])
    assert [e["version"] for e in history] == list(range(0, n + 1))
    hist_positions = [e["position"] for e in history]
    assert hist_positions == sorted(hist_positions) and len(set(hist_positions)) == len(hist_positions)
    # The view shows the last rename and the final version.
    view = cqrs_api.customer(c["id"], min_position=last.json()["position"])
    assert view["version"] == n
    assert view["name"] == f"Name {_name_index(last)}"


def _name_index(r):
    import json
    return json.loads(r.request.content)["name"].split()[-1]


def test_concurrent_if_match_same_version_exactly_one_wins(server, cqrs_api):
    c = cqrs_api.register(wait_replica=False)
    n = 8

    def rename(i):
        with httpx.Client(base_url=server, timeout=15) as http:
            return http.post(f"/commands/customers/{c['id']}/rename", json={"name": f"Racer {i}"},
                             headers={"If-Match": '"0"'})

    responses = _concurrently(n, rename)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (n - 1), [describe(r) for r in responses]
    for r in responses:
        if r.status_code == 412:
            assert r.json()["actualVersion"] == 1
    assert [e["version"] for e in cqrs_api.history("customers", c["id"])] == [0, 1]


def test_concurrent_commands_across_many_streams(server, cqrs_api):
    customers = [cqrs_api.register(wait_replica=False)["id"] for _ in range(5)]
    n = 20

    def work(i):
        with httpx.Client(base_url=server, timeout=15) as http:
            return http.post(f"/commands/customers/{customers[i % 5]}/change-credit-limit",
                             json={"creditLimit": 1_000 + i})

    responses = _concurrently(n, work)
    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in responses), responses
    for cid in customers:
        assert [e["version"] for e in cqrs_api.history("customers", cid)] == list(range(0, 5))
    positions = [int(r.json()["position"].split(":")[1]) for r in responses]
    assert len(set(positions)) == n
