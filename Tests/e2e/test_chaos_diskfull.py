"""Disk full / I/O error at the HTTP level, through the EventStore test hook
`TRIBUTARY_FAULT_INJECT` (see Sources/EventStore/FaultInjectionHook.swift): while the flag file
exists every log-segment write writes half its buffer and fails with ENOSPC (or EIO).

Expected: commands answer 503 + Retry-After with a problem+json naming the cause; queries keep
working; /health is 503 with the store unhealthy and the reason; nothing acknowledged is lost and
`tributary verify` passes (the torn half record is not left behind). When space returns the
stores heal by themselves (they probe for space every second): commands succeed again, the
publisher and consumers catch up, /health is 200. An I/O error (EIO) does not heal: the store
keeps refusing appends (503) until a restart."""

import json
import subprocess
import time

import pytest

from conftest import server_binary
from tributary_tools import chaos   # scripts/ is on sys.path (conftest)

J = {"Content-Type": "application/json"}


def register(client, cid):
    return client.request("POST", "/commands/customers/register",
                          {"customerId": cid, "name": "Disk Full", "email": f"{cid}@example.com",
                           "creditLimit": 10_000, "currency": "EUR"})


@pytest.mark.parametrize("fault,errno_text", [("enospc", "No space left on device"), ("eio", "Input/output error")])
def test_write_failure_is_503_queries_work_health_says_why_and_nothing_acknowledged_is_lost(tmp_path, fault, errno_text):
    data, flag = tmp_path / "data", tmp_path / "disk-full.flag"
    data.mkdir()
    server = chaos.Server(server_binary(), data, env={"TRIBUTARY_FAULT_INJECT": f"{fault}-while:{flag}"})
    try:
        assert any("TEST HOOK TRIBUTARY_FAULT_INJECT" in line for line in server.output), \
            "the server binary predates the EventStore fault-injection hook: rebuild it"
        client = chaos.Client(server.port)
        status, _, raw = register(client, "before")
        assert status == 201, raw
        chaos.wait_settled(client)

        flag.touch()   # the disk fills up
        status, headers, raw = register(client, "during")
        assert status == 503, raw
        assert headers["content-type"].startswith("application/problem+json")
        assert headers.get("retry-after")
        problem = json.loads(raw)
        assert problem["type"] == "/problems/store-unavailable" and problem["status"] == 503
        assert errno_text in problem["detail"], problem

        status, _, raw = client.request("GET", "/queries/customers/before")
        assert status == 200, raw
        status, _, raw = client.request("GET", "/queries/customers?limit=10")
        assert status == 200, raw

        status, _, raw = client.request("GET", "/health")
        assert status == 503, raw
        health = json.loads(raw)
        assert health["status"] == "degraded"
        store = health["stores"]["customers"]
        assert store["status"] == "unhealthy" and errno_text in store["reason"], store

        flag.unlink()   # space returns (or, for EIO, the device answers again)
        deadline = time.monotonic() + 10
        while True:
            status, _, raw = register(client, "after-space-returns")
            if status == 201 or time.monotonic() > deadline:
                break
            assert status == 503, raw
            time.sleep(0.2)
        if fault == "enospc":
            assert status == 201, raw
            health = chaos.wait_settled(client)
            assert all(s["status"] == "healthy" for s in health["stores"].values()), health
            status, _, raw = client.request("GET", "/queries/customers/after-space-returns")
            assert status == 200, raw
            status, _, raw = client.request("GET", "/health")
            assert status == 200, raw
        else:
            assert status == 503, raw
            assert "Input/output error" in json.loads(raw)["detail"]
        client.close()
        assert server.stop() == 0, "\n".join(server.output[-20:])
    finally:
        server.kill()

    verify = subprocess.run([str(server_binary()), "verify", "--data", str(data)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    server = chaos.Server(server_binary(), data)   # restarted without the hook: recovered
    try:
        client = chaos.Client(server.port)
        chaos.wait_settled(client)
        status, _, raw = client.request("GET", "/queries/customers/before")
        assert status == 200, raw
        status, _, _ = client.request("GET", "/queries/customers/during")
        assert status == 404
        status, _, raw = register(client, "after-restart")
        assert status == 201, raw
        status, _, raw = client.request("GET", "/health")
        assert status == 200, raw
        client.close()
    finally:
        server.stop()
