"""--command-listen / --query-listen: the command API and the query API on separate addresses.
Each address answers the other API's routes with a 404 problem; operational routes and the
specs are served everywhere; a command posted on one address is read back on the other."""

import re
import time

import httpx
import pytest

from conftest import start_server_with_args, stop_server

SPLIT_LINE = re.compile(r"listening on http://127\.0\.0\.1:(\d+) \((commands|queries)\)")


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    server = start_server_with_args(tmp_path_factory.mktemp("split"), ["--command-listen", "127.0.0.1:0"])
    deadline = time.monotonic() + 10
    ports = {}
    while len(ports) < 2 and time.monotonic() < deadline:
        ports = {m.group(2): int(m.group(1)) for m in map(SPLIT_LINE.search, list(server.output)) if m}
        time.sleep(0.05)
    assert set(ports) == {"commands", "queries"}, server.output
    assert ports["commands"] != ports["queries"]
    with httpx.Client(base_url=f"http://127.0.0.1:{ports['commands']}", timeout=10) as commands, \
            httpx.Client(base_url=f"http://127.0.0.1:{ports['queries']}", timeout=10) as queries:
        yield commands, queries
    stop_server(server)


def test_commands_on_one_address_are_read_on_the_other(split):
    commands, queries = split
    created = commands.post("/commands/customers/register",
                            json={"customerId": "split-1", "name": "Split Listener", "email": "split@example.com",
                                  "creditLimit": 500, "currency": "EUR"})
    assert created.status_code == 201, created.text
    view = queries.get("/queries/customers/split-1", params={"minPosition": created.json()["position"]})
    assert view.status_code == 200, view.text
    assert view.json()["name"] == "Split Listener"


@pytest.mark.parametrize("side,method,path", [
    ("queries", "POST", "/commands/customers/register"),
    ("commands", "GET", "/queries/customers"),
    ("commands", "GET", "/public/events"),
    ("commands", "GET", "/queries/stats"),
])
def test_the_other_apis_routes_are_404_problems(split, side, method, path):
    commands, queries = split
    client = commands if side == "commands" else queries
    r = client.request(method, path, json={} if method == "POST" else None)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/problems/not-served-here")


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics", "/openapi/api.yaml"])
def test_operational_routes_are_served_on_both(split, path):
    for client in split:
        assert client.get(path).status_code == 200, (client.base_url, path)
