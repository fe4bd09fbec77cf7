"""Overload shedding: beyond --max-connections a new client gets 503 + Retry-After and is closed,
while the connections already admitted keep working; a connection freed makes room again. Beyond
--max-queued-commands a command gets 503 + Retry-After (problem type overloaded) and appends nothing.
(The SSE subscriber cap is covered by test_sse_limits.py; peak RSS under a 2× overload is
measured by `scripts/tool overload`.)"""

import json
import socket
import time
import uuid

import httpx
import pytest

from conftest import raw_exchange, start_server_with_args, stop_server

CAP = 4
GET = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture(scope="module")
def capped(tmp_path_factory):
    server = start_server_with_args(tmp_path_factory.mktemp("overload"), ["--max-connections", str(CAP)])
    yield server
    stop_server(server)


def open_keepalive(address):
    s = socket.create_connection(address, timeout=5)
    s.sendall(GET)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    return s


def test_connection_beyond_the_cap_gets_503_with_retry_after_and_admitted_ones_keep_working(capped):
    held = [open_keepalive(capped.address) for _ in range(CAP)]
    try:
        refused = raw_exchange(capped.address, GET, timeout=5)
        assert refused.statuses == [503], refused.raw[:300]
        assert refused.responses[0].header("Retry-After"), refused.responses[0].headers
        assert refused.closed
        # The admitted connections are still served.
        for s in held:
            s.sendall(GET)
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while True:   # once closed, the slots are free again
        ok = raw_exchange(capped.address, GET, want=1, timeout=5)
        if ok.statuses == [200] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert ok.statuses == [200]


QUEUE_CAP = 3


@pytest.fixture(scope="module")
def queue_capped(tmp_path_factory):
    server = start_server_with_args(tmp_path_factory.mktemp("queue"), ["--max-queued-commands", str(QUEUE_CAP)])
    yield server
    stop_server(server)


def register_request(customer_id):
    body = json.dumps({"customerId": customer_id, "name": "Queue Test", "email": f"{customer_id}@example.com",
                       "creditLimit": 100, "currency": "EUR"}).encode()
    return (b"POST /commands/customers/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def test_commands_beyond_the_queue_bound_are_shed_with_503_and_append_nothing(queue_capped):
    # 40 pipelined commands arrive in one read: all are dispatched before the first commit
    # completes, so only QUEUE_CAP of them can be admitted at once.
    ids = [f"q-{uuid.uuid4().hex[:12]}" for _ in range(40)]
    exchange = raw_exchange(queue_capped.address, b"".join(register_request(i) for i in ids), want=len(ids), timeout=10)
    assert len(exchange.statuses) == len(ids), exchange.raw[:300]
    assert set(exchange.statuses) <= {201, 503}, exchange.statuses
    shed = [i for i, r in zip(ids, exchange.responses) if r.status == 503]
    admitted = [i for i, r in zip(ids, exchange.responses) if r.status == 201]
    assert len(admitted) >= QUEUE_CAP and shed, exchange.statuses
    for r in exchange.responses:
        if r.status == 503:
            assert r.header("Retry-After") == "1"
            assert r.header("Content-Type") == "application/problem+json"
            assert json.loads(r.body)["type"].endswith("/problems/overloaded")
    # Shed commands appended nothing; admitted ones are there; the queue drained completely.
    with httpx.Client(base_url=queue_capped.base, timeout=5) as client:
        for i in shed[:5]:
            assert client.get(f"/queries/customers/{i}/history").status_code == 404, i
        for i in admitted[:5]:
            assert client.get(f"/queries/customers/{i}", params={"minPosition": "customers:1"}).status_code == 200
        metrics = client.get("/metrics").text
        assert f"\ntributary_commands_shed_total {len(shed)}\n" in metrics
        assert "\ntributary_commands_in_flight 0\n" in metrics
        retry = client.post("/commands/customers/register", json={"customerId": shed[0], "name": "Queue Test",
                                                                   "email": f"{shed[0]}@example.com", "creditLimit": 100,
                                                                   "currency": "EUR"})
        assert retry.status_code == 201
