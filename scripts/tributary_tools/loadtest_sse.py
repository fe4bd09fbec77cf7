"""scripts/loadtest sse: SSE load test: N subscribers on /streams/public, commands at a fixed rate, delivery latency and RSS.

Starts `tributary serve` (release build, --durability none, loopback, fresh data directory),
then:
  1. registers --customers customers; measures the server's RSS (VmRSS) as the baseline;
  2. opens --subscribers idle subscribers on /streams/public (held and drained in bulk every
     100 ms by a child process), --probes fully parsed subscribers (latency) and --slow
     subscribers that never read (4 KiB receive buffer); RSS again -> KiB per idle subscriber;
  3. sends customer renames at --rate commands/s for --duration s over --writers keep-alive
     connections (each rename = one public event); latency = time the probe received the
     event - time the command was acknowledged (same clock, same process); p50/p99/max;
  4. reports RSS after the load (flat memory with never-reading subscribers), the slow-consumer
     disconnects from /metrics and whether every probe received every event.
A progress line is printed every second. Bounded: loopback only, everything ends after
--duration plus a fixed setup/teardown budget; the script raises its own RLIMIT_NOFILE.
Without --bin it builds and uses .build/release/tributary (with --no-build: .build/release, or
.build-sse/release if only that exists).
Example: scripts/loadtest sse --subscribers 10000 --rate 0   (idle memory only)
"""
import argparse, asyncio, json, multiprocessing, os, re, resource, socket, sys, time

from .common import ROOT, cpu_seconds, rss_kib
from .server import Server, release_binary


def http_get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: l\r\nConnection: close\r\n\r\n".encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def metric(port, name):
    _, body = http_get(port, "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def open_stream(port, path="/streams/public", rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: l\r\n\r\n".encode())
    return s


def read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("stream closed before its head")
        buf += chunk
    if not buf.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"stream refused: {buf[:120]!r}")
    return buf.partition(b"\r\n\r\n")[2]


def sink_process(port, count, ready, stop, stats):
    """Holds `count` subscribers; drains them in bulk every 100 ms (they count as readers)."""
    socks = []
    for i in range(count):
        s = open_stream(port)
        socks.append(s)
        if len(socks) % 500 == 0:
            for t in socks[-500:]:
                read_head(t)
    for t in socks[len(socks) // 500 * 500:]:
        read_head(t)
    for s in socks:
        s.setblocking(False)
    ready.set()
    buf = bytearray(1 << 20)
    total = closed = 0
    while not stop.is_set():
        t0 = time.monotonic()
        for s in socks:
            while True:
                try:
                    n = s.recv_into(buf)
                except BlockingIOError:
                    break
                except OSError:
                    n = 0
                if n == 0:
                    closed += 1
                    break
                total += n
        stats["bytes"] = total
        stats["closed"] = closed
        time.sleep(max(0, 0.1 - (time.monotonic() - t0)))
    for s in socks:
        s.close()


class Probe:
    """A fully parsed subscriber: records the receive time of every rename it sees."""

    def __init__(self):
        self.seen = {}
        self.events = 0

    async def run(self, port, ready):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /streams/public?types=customer.renamed HTTP/1.1\r\nHost: l\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        ready()
        buf = b""
        pat = re.compile(rb'"name":"L(\d+)"')
        try:
            while True:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    return
                now = time.monotonic()
                buf += chunk
                frames = buf.split(b"\n\n")
                buf = frames.pop()
                for f in frames:
                    m = pat.search(f)
                    if m:
                        self.events += 1
                        self.seen.setdefault(int(m.group(1)), now)
        finally:
            writer.close()


async def writer_task(port, customers, rate_share, duration, seq, acks, counters):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    start = time.monotonic()
    n = 0
    while True:
        due = start + n / rate_share
        if due - start >= duration:
            break
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        k = next(seq)
        body = json.dumps({"name": f"L{k}"}).encode()
        cid = customers[k % len(customers)]
        writer.write(f"POST /commands/customers/{cid}/rename HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
        await reader.readexactly(length)
        if head.startswith(b"HTTP/1.1 200"):
            acks[k] = time.monotonic()
        else:
            counters["errors"] += 1
        n += 1
    writer.close()


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def load(args, port, pid):
    customers = [f"load{i}" for i in range(args.customers)]
    probes = [Probe() for _ in range(args.probes)]
    ready = asyncio.Event()
    ready_count = [0]

    def one_ready():
        ready_count[0] += 1
        if ready_count[0] == len(probes):
            ready.set()
    tasks = [asyncio.create_task(p.run(port, one_ready)) for p in probes]
    if probes:
        await asyncio.wait_for(ready.wait(), 30)
    acks, counters = {}, {"errors": 0}
    seq = iter(range(10**12))
    writers = [asyncio.create_task(writer_task(port, customers, args.rate / args.writers, args.duration, seq, acks, counters))
               for _ in range(args.writers)] if args.rate > 0 else []
    t0 = time.monotonic()
    while any(not w.done() for w in writers):
        await asyncio.sleep(1)
        lat = [(p.seen[k] - acks[k]) * 1000 for p in probes[:1] for k in list(p.seen) if k in acks]
        print(f"  t={time.monotonic() - t0:4.1f}s acked={len(acks)} errors={counters['errors']} "
              f"probe0={probes[0].events if probes else 0} p50={pct(lat, 50):.1f}ms p99={pct(lat, 99):.1f}ms "
              f"rss={rss_kib(pid) / 1024:.1f}MiB", flush=True)
    for w in writers:
        w.result()
    # Let the tail arrive.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(len(p.seen) < len(acks) for p in probes):
        await asyncio.sleep(0.05)
    for t in tasks:
        t.cancel()
    latencies = [(p.seen[k] - acks[k]) * 1000 for p in probes for k in p.seen if k in acks]
    missing = sum(len(acks) - len([k for k in acks if k in p.seen]) for p in probes)
    return len(acks), counters["errors"], latencies, missing, time.monotonic() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/loadtest sse", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=1000, help="idle subscribers drained in bulk (default 1000)")
    ap.add_argument("--probes", type=int, default=10, help="fully parsed latency subscribers (default 10)")
    ap.add_argument("--slow", type=int, default=100, help="subscribers that never read (default 100)")
    ap.add_argument("--rate", type=float, default=1000, help="commands (= public events) per second (default 1000; 0: idle only)")
    ap.add_argument("--duration", type=float, default=10, help="seconds of load (default 10, max 120)")
    ap.add_argument("--writers", type=int, default=8, help="keep-alive command connections (default 8)")
    ap.add_argument("--customers", type=int, default=64, help="customers renamed round-robin (default 64)")
    ap.add_argument("--bin", help="server binary (default: build release, .build/release/tributary)")
    ap.add_argument("--no-build", action="store_true", help="do not build; use the existing release binary")
    ap.add_argument("--server-arg", action="append", default=[], help="extra `tributary serve` argument (repeatable)")
    args = ap.parse_args(argv)
    if not args.bin:
        sse_bin = os.path.join(ROOT, ".build-sse/release/tributary")
        args.bin = (sse_bin if args.no_build and os.path.exists(sse_bin) and not os.path.exists(
            os.path.join(ROOT, ".build/release/tributary")) else None) or release_binary(build_it=not args.no_build)
    args.duration = min(args.duration, 120)
    total = args.subscribers + args.probes + args.slow
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < total + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, total + 4096), hard))
    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} not found: swift build -c release --scratch-path .build-sse")
    server = Server(args.bin, "none", extra=["--max-connections", str(total + 1000),
                                             "--sse-max-subscribers", str(total + 100), *args.server_arg])
    try:
        server.start()
        port = server.port
        for cid in [f"load{i}" for i in range(args.customers)]:
            with socket.create_connection(("127.0.0.1", port)) as s:
                body = json.dumps({"customerId": cid, "name": "Start", "email": f"{cid}@example.com",
                                   "creditLimit": 1000, "currency": "EUR"}).encode()
                s.sendall(f"POST /commands/customers/register HTTP/1.1\r\nHost: l\r\nConnection: close\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
                while s.recv(65536):
                    pass
        time.sleep(1)
        base = rss_kib(server.pid)
        print(f"server pid {server.pid} port {port}; RSS before subscribers {base / 1024:.1f} MiB", flush=True)

        ctx = multiprocessing.get_context("fork")
        ready, stop = ctx.Event(), ctx.Event()
        stats = ctx.Manager().dict(bytes=0, closed=0)
        t0 = time.monotonic()
        sink = ctx.Process(target=sink_process, args=(port, args.subscribers, ready, stop, stats), daemon=True)
        sink.start()
        while not ready.wait(1):
            _, body = http_get(port, "/metrics")
            m = re.search(rb'tributary_sse_subscribers\{kind="public"\} (\d+)', body)
            print(f"  connecting: {int(m.group(1)) if m else 0} of {args.subscribers} subscribers, "
                  f"{time.monotonic() - t0:.0f}s", flush=True)
            if time.monotonic() - t0 > 300:
                sys.exit("subscribers did not connect within 300 s")
        slow = []
        for _ in range(args.slow):
            s = open_stream(port, rcvbuf=4096)
            read_head(s)
            slow.append(s)
        time.sleep(2)
        idle = rss_kib(server.pid)
        n_idle = args.subscribers + args.slow
        print(f"{n_idle} idle subscribers connected in {time.monotonic() - t0:.1f}s; RSS {idle / 1024:.1f} MiB; "
              f"{(idle - base) / max(1, n_idle):.2f} KiB per idle subscriber", flush=True)

        if args.rate > 0:
            cpu0, me0 = cpu_seconds(server.pid), time.process_time()
            acked, errors, lat, missing, elapsed = asyncio.run(load(args, port, server.pid))
            print(f"CPU during load: server {100 * (cpu_seconds(server.pid) - cpu0) / elapsed:.0f}% of a core, "
                  f"load generator main process {100 * (time.process_time() - me0) / elapsed:.0f}%")
            after = rss_kib(server.pid)
            slow_cut = metric(port, "tributary_sse_slow_consumer_disconnects_total")
            print(f"load: {acked} commands acked in {elapsed:.1f}s ({acked / max(elapsed, 1e-9):.0f}/s), {errors} errors; "
                  f"{args.subscribers + args.probes} readers x {acked} events")
            print(f"delivery latency ack->received over {len(lat)} samples ({args.probes} probes): "
                  f"p50 {pct(lat, 50):.2f} ms  p99 {pct(lat, 99):.2f} ms  max {max(lat) if lat else float('nan'):.2f} ms; "
                  f"missing at probes: {missing}")
            print(f"sink bytes received: {stats['bytes'] / 1e6:.1f} MB, sink streams closed: {stats['closed']}")
            print(f"RSS after load {after / 1024:.1f} MiB (idle {idle / 1024:.1f} MiB, +{(after - idle) / 1024:.1f} MiB); "
                  f"slow-consumer disconnects {slow_cut:.0f} of {args.slow} never-reading subscribers")
        stop.set()
        sink.join(10)
        for s in slow:
            s.close()
    finally:
        code = server.stop(timeout=30)
        if code is not None:
            print(f"server exit status {code}")
        else:
            print("server did not stop within 30 s; killed")
        server.cleanup()
