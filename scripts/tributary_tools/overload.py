"""scripts/tool overload: connections beyond --max-connections, all sending commands; peak server RSS.

  scripts/tool overload [--cap N] [--seconds S] [--pipeline K] [--durability fsync|batch|none] [--bin PATH]

Starts `tributary serve --max-connections N` (default 200, durability fsync) on loopback and
runs two phases of S seconds each (default 15), side by side: 1× the cap and 2× the cap of
keep-alive connections (asyncio, raw HTTP/1.1), each POSTing register-customer commands back to
back, K pipelined at a time (default 1; a refused connection reconnects after its Retry-After, capped at 0.2 s, so the cap is
hammered the whole time). Reports per phase: answers by status, how many 503s carried Retry-After,
connection errors, commands/s, p50/p99 latency of 2xx, and the server's RSS sampled every
100 ms (peak) plus VmHWM. Exit 1 if a 5xx other than 503 appears, a 503 lacks Retry-After, or
no command succeeded. Bounded: N ≤ 2000, S ≤ 120.
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from .chaos import Server
from .server import existing_binary


def rss_kb(pid, field="VmRSS"):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k:
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = await reader.readexactly(n) if n else b""
    return status, headers, body


async def connection_loop(port, stop_at, stats, pipeline=1):
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connectErrors"] += 1
            await asyncio.sleep(0.05)
            continue
        try:
            while time.monotonic() < stop_at:
                req = b""
                for _ in range(pipeline):
                    cid = "ov-" + uuid.uuid4().hex[:12]
                    body = json.dumps({"customerId": cid, "name": "Over Load", "email": f"{cid}@example.com",
                                       "creditLimit": 100, "currency": "EUR"}).encode()
                    req += (f"POST /commands/customers/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            f"Content-Length: {len(body)}\r\n\r\n").encode() + body
                t0 = time.monotonic()
                writer.write(req)
                await writer.drain()
                for _ in range(pipeline - 1):   # all but the last answer of the batch
                    status, headers, _ = await asyncio.wait_for(read_response(reader), 60)
                    stats["status"][status] = stats["status"].get(status, 0) + 1
                    if 200 <= status < 300:
                        stats["latencies"].append(time.monotonic() - t0)
                    if status in (429, 503) and "retry-after" in headers:
                        stats["withRetryAfter"] += 1
                status, headers, _ = await asyncio.wait_for(read_response(reader), 60)
                stats["status"][status] = stats["status"].get(status, 0) + 1
                if 200 <= status < 300:
                    stats["latencies"].append(time.monotonic() - t0)
                if status in (429, 503):
                    if "retry-after" in headers:
                        stats["withRetryAfter"] += 1
                    if headers.get("connection", "").lower() == "close":
                        await asyncio.sleep(min(0.2, float(headers.get("retry-after", "1"))))
                        break
                    await asyncio.sleep(0.05)
                if headers.get("connection", "").lower() == "close":
                    break
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, asyncio.LimitOverrunError):
            stats["connErrors"] += 1
            await asyncio.sleep(0.05)
        finally:
            writer.close()


async def phase(port, conns, seconds, pipeline=1):
    stats = {"status": {}, "withRetryAfter": 0, "connErrors": 0, "connectErrors": 0, "latencies": []}
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(connection_loop(port, stop_at, stats, pipeline) for _ in range(conns)))
    return stats


def main(argv=None):
    p = argparse.ArgumentParser(prog="scripts/tool overload", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cap", type=int, default=200)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--durability", default="fsync", choices=["fsync", "batch", "none"])
    p.add_argument("--pipeline", type=int, default=1, help="requests pipelined per connection (1..64, default 1)")
    p.add_argument("--bin", type=Path, default=None)
    a = p.parse_args(argv)
    a.pipeline = max(1, min(a.pipeline, 64))
    cap = max(2, min(a.cap, 2000))
    seconds = max(2, min(a.seconds, 120))
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * cap + 256)), hard))
    binary = a.bin or existing_binary()
    data = Path(tempfile.mkdtemp(prefix="tributary-overload-")) / "data"
    data.mkdir()
    server = Server(binary, data, ["--max-connections", str(cap)])
    if a.durability != "fsync":
        server.stop()
        server = Server(binary, data, ["--max-connections", str(cap), "--durability", a.durability])
    failed = False
    try:
        idle = rss_kb(server.proc.pid)
        print(f"overload: cap {cap}, {seconds}s per phase, pipeline {a.pipeline}, durability {a.durability}; idle RSS {idle // 1024} MB", flush=True)
        for factor in (1, 2):
            peak = [0]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_kb(server.proc.pid))
                    time.sleep(0.1)
            t = threading.Thread(target=sample, daemon=True)
            t.start()
            t0 = time.monotonic()
            stats = asyncio.run(phase(server.port, factor * cap, seconds, a.pipeline))
            elapsed = time.monotonic() - t0
            done.set()
            t.join()
            lat = sorted(stats.pop("latencies")) or [0.0]
            ok = sum(v for k, v in stats["status"].items() if 200 <= k < 300)
            shed = sum(v for k, v in stats["status"].items() if k in (429, 503))
            result = {"phase": f"{factor}x", "connections": factor * cap, "statuses": stats["status"],
                      "shed": shed, "shedWithRetryAfter": stats["withRetryAfter"], "connErrors": stats["connErrors"],
                      "connectErrors": stats["connectErrors"], "commandsPerSec": round(ok / elapsed, 1),
                      "p50ms": round(statistics.median(lat) * 1000, 1),
                      "p99ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1),
                      "peakRSSMB": round(peak[0] / 1024, 1), "VmHWMMB": round(rss_kb(server.proc.pid, "VmHWM") / 1024, 1)}
            print(json.dumps(result), flush=True)
            if ok == 0 or shed != stats["withRetryAfter"] or any(k >= 500 and k != 503 for k in stats["status"]):
                failed = True
                print(f"overload: phase {factor}x FAILED (no success, a 5xx other than 503, or a 503 without Retry-After)",
                      file=sys.stderr)
    finally:
        server.stop()
    return 1 if failed else 0
