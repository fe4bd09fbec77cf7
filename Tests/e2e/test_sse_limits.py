"""SSE limits: the subscriber cap answers 503 + Retry-After; lifetime ends streams; shutdown is clean."""

import time

import httpx
import pytest

from conftest import SSEConnection, start_server_with_args, stop_server


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory):
    server = start_server_with_args(tmp_path_factory.mktemp("sse-capped"),
                                    ["--sse-max-subscribers", "2", "--sse-max-lifetime", "1", "--sse-lifetime-jitter", "0.5"])
    yield server
    stop_server(server)  # asserts exit status 0 (clean shutdown) with streams open


def test_subscriber_cap_answers_503_with_retry_after(capped_server):
    a = SSEConnection(capped_server.address, "/streams/public")
    b = SSEConnection(capped_server.address, "/streams/queries/stats")
    try:
        assert (a.status, b.status) == (200, 200)
        c = SSEConnection(capped_server.address, "/streams/public")
        assert c.status == 503
        assert int(c.headers["retry-after"]) >= 1
        assert c.headers["content-type"] == "application/problem+json"
        assert b"too-many-subscribers" in c.body()
        c.close()
    finally:
        a.close()
        b.close()
    # Slots free up once clients leave.
    deadline = time.monotonic() + 5
    while True:
        d = SSEConnection(capped_server.address, "/streams/public")
        if d.status == 200 or time.monotonic() > deadline:
            break
        d.close()
        time.sleep(0.1)
    assert d.status == 200
    d.close()


def test_streams_end_at_their_maximum_lifetime(capped_server):
    c = SSEConnection(capped_server.address, "/streams/public")
    try:
        start = time.monotonic()
        while c.next_event(timeout=0.5) is None and not c.closed and time.monotonic() - start < 5:
            pass
        assert c.closed
        assert 0.4 <= time.monotonic() - start <= 3.0
    finally:
        c.close()


def test_shutdown_with_open_streams_is_clean(tmp_path):
    server = start_server_with_args(tmp_path / "data", [])
    streams = [SSEConnection(server.address, p) for p in ("/streams/public", "/streams/queries/stats", "/streams/queries/orders")]
    assert all(s.status == 200 for s in streams)
    stop_server(server)  # exit 0 = zero open handles at exit
    for s in streams:
        while s.next_event(timeout=2) is not None:
            pass
        assert s.closed
        s.close()
