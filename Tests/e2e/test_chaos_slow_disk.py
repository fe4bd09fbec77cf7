"""A slow disk (the EventStore test hook `TRIBUTARY_FAULT_INJECT=slow:MS`: every file read and
every fsync of the stores takes MS ms more). The loop never waits on the disk, so while
commands keep the disk busy:

- `/ready` and read-model queries answer well inside one disk delay (they touch no file);
- a command to a cached stream is delayed by its own fsync, about one delay, not by reads;
- a command to a cold stream (outside every cache: the server restarted) is delayed by its
  reads too, and nothing else waits for them;
- nothing times out and nothing acknowledged is lost.

The bounds are failure bounds derived from the injected delay, not speed targets: a loop that
waited on the disk would take at least one delay for every request it served meanwhile."""

import concurrent.futures
import time

from conftest import server_binary
from tributary_tools import chaos   # scripts/ is on sys.path (conftest)

DELAY_MS = 50


def register(client, cid):
    return client.request("POST", "/commands/customers/register",
                          {"customerId": cid, "name": "Slow Disk", "email": f"{cid}@example.com",
                           "creditLimit": 10_000, "currency": "EUR"})


def timed(fn):
    started = time.monotonic()
    result = fn()
    return result, (time.monotonic() - started) * 1000


def p99(samples):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def test_a_slow_disk_delays_only_the_commands_that_wait_for_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    server = chaos.Server(server_binary(), data, env={"TRIBUTARY_FAULT_INJECT": f"slow:{DELAY_MS}"})
    try:
        assert any("TEST HOOK TRIBUTARY_FAULT_INJECT=slow" in line for line in server.output), server.output[-20:]
        client = chaos.Client(server.port)
        ids = [f"slow-{i}" for i in range(8)]
        for cid in ids:
            (status, _, raw), _ = timed(lambda: register(client, cid))
            assert status == 201, raw
        chaos.wait_settled(client)

        # Commands to cached streams keep the disk busy from four connections, while a fifth
        # connection reads: /ready and a document of the read model, over and over.
        stop = time.monotonic() + 4
        acknowledged = []

        def write(worker):
            c = chaos.Client(server.port)
            latencies, n = [], 0
            while time.monotonic() < stop:
                cid = ids[worker]
                (status, _, raw), ms = timed(lambda: c.request("POST", f"/commands/customers/{cid}/change-credit-limit",
                                                               {"creditLimit": 10_000 + n}))
                assert status == 200, raw
                acknowledged.append((cid, 10_000 + n))
                latencies.append(ms)
                n += 1
            c.close()
            return latencies

        reads = []
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            writers = [pool.submit(write, w) for w in range(4)]
            reader = chaos.Client(server.port)
            while time.monotonic() < stop:
                for path in ("/ready", f"/queries/customers/{ids[5]}"):
                    (status, _, raw), ms = timed(lambda: reader.request("GET", path))
                    assert status == 200, (path, raw)
                    reads.append(ms)
            command_latencies = [ms for w in writers for ms in w.result()]

        assert len(reads) > 50 and len(command_latencies) > 20
        # A read that waited for the disk would take a whole delay; these take a fraction of one.
        assert p99(reads) < DELAY_MS * 0.8, f"read p99 {p99(reads):.1f} ms with a {DELAY_MS} ms disk"
        # A command to a cached stream waits for its fsync (one delay), not for reads of its stream.
        median = sorted(command_latencies)[len(command_latencies) // 2]
        assert DELAY_MS * 0.9 <= median < DELAY_MS * 3, f"command median {median:.1f} ms with a {DELAY_MS} ms disk"

        # Nothing acknowledged is lost: each customer's last acknowledged limit is what it has.
        chaos.wait_settled(client)
        last = {}
        for cid, limit in acknowledged:
            last[cid] = max(limit, last.get(cid, 0))
        for cid, limit in last.items():
            status, _, raw = client.request("GET", f"/queries/customers/{cid}")
            assert status == 200 and f'"creditLimit":{limit}' in raw.decode(), raw
    finally:
        server.stop()

    # After a restart every stream is cold: the first command to each reads its stream (slowly),
    # and meanwhile /ready keeps answering without waiting.
    server = chaos.Server(server_binary(), data, env={"TRIBUTARY_FAULT_INJECT": f"slow:{DELAY_MS}"})
    try:
        client = chaos.Client(server.port)
        chaos.wait_settled(client)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            cold = pool.submit(lambda: timed(lambda: chaos.Client(server.port).request(
                "POST", f"/commands/customers/{ids[0]}/rename", {"name": "Cold Stream"})))
            probes = []
            while not cold.done():
                (status, _, _), ms = timed(lambda: client.request("GET", "/ready"))
                assert status == 200
                probes.append(ms)
            (status, _, raw), cold_ms = cold.result()
        assert status == 200, raw
        assert cold_ms >= DELAY_MS, f"a cold command took {cold_ms:.1f} ms: it read nothing?"
        assert probes and max(probes) < DELAY_MS * 0.8, f"/ready waited for the cold read: {max(probes):.1f} ms"
    finally:
        server.stop()
