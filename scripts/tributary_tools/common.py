"""Shared pieces: a tiny keep-alive HTTP/1.1 client (asyncio, raw streams), percentiles, the request
pacer, consistency and acknowledged-write verification. (The server launcher is server.py, wrk is
wrk.py, free_port is ports.py.)"""
import asyncio, json, math, os, re, sys, time
import http.client
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.dirname(os.path.abspath(__file__))
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_DURATION = 600.0


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Pacer:
    """When each request is meant to be sent. Open model (`rate` > 0): a producer task schedules
    send times at `rate`/s and workers take them from a queue, so latency measured from the
    intended time includes queueing (no coordinated omission). Closed model (`rate` 0): a worker
    sends its next request as soon as its previous one is answered. Bounded by `duration` and
    `max_requests`; `rec.sent` counts what was scheduled."""

    def __init__(self, rate, duration, max_requests, workers, rec):
        self.loop = asyncio.get_running_loop()
        self.rate, self.max_requests, self.workers, self.rec = rate, max_requests, workers, rec
        self.start = self.loop.time()
        self.end = self.start + duration
        self.total = min(max_requests, int(duration * rate)) if rate > 0 else max_requests
        self.queue = asyncio.Queue()

    async def next(self):
        """The intended send time of this worker's next request, or None when it should stop."""
        if self.rate > 0:
            return await self.queue.get()
        if self.loop.time() >= self.end or self.rec.sent >= self.max_requests:
            return None
        self.rec.sent += 1
        return self.loop.time()

    async def produce(self):
        """Open model only: run as a task; ends by telling every worker to stop."""
        n = 0
        while n < self.total:
            due = min(self.total, int((self.loop.time() - self.start) * self.rate) + 1)
            while n < due:
                self.queue.put_nowait(self.start + n / self.rate)
                n += 1
                self.rec.sent += 1
            await asyncio.sleep(max(0.0005, min(0.01, self.start + n / self.rate - self.loop.time())))
        for _ in range(self.workers):
            self.queue.put_nowait(None)

    @property
    def backlog(self):
        return self.queue.qsize()


def pct(values, p):
    """Nearest-rank percentile of an unsorted or sorted list (sorted in place)."""
    if not values:
        return float("nan")
    values.sort()
    k = max(0, min(len(values) - 1, math.ceil(p / 100.0 * len(values)) - 1))
    return values[k]


def percentiles(values):
    v = sorted(values)
    return {"p50": pct(v, 50), "p90": pct(v, 90), "p99": pct(v, 99), "p999": pct(v, 99.9),
            "max": v[-1] if v else float("nan")}


def check_loopback(url):
    u = urlparse(url)
    if u.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing non-loopback target {url}: load tests run against 127.0.0.1 only")
    return u.hostname, u.port or 80


def raise_nofile(n):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n), hard))


def get(port, path, timeout=30, host="127.0.0.1"):
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse(); body = r.read(); c.close()
        return r.status, dict(r.getheaders()), body
    except OSError as e:
        return 0, {}, str(e).encode()


def post(port, path, body, headers=None, host="127.0.0.1"):
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **(headers or {})})
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data


class Conn:
    """One keep-alive HTTP/1.1 connection over asyncio streams; responses with Content-Length only."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.r = self.w = None

    async def open(self):
        self.r, self.w = await asyncio.open_connection(self.host, self.port)

    async def request(self, method, path, body=None, headers=""):
        if self.w is None:
            await self.open()
        if body is not None:
            b = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
            msg = (f"{method} {path} HTTP/1.1\r\nHost: l\r\nContent-Type: application/json\r\n{headers}"
                   f"Content-Length: {len(b)}\r\n\r\n").encode() + b
        else:
            msg = f"{method} {path} HTTP/1.1\r\nHost: l\r\n{headers}\r\n".encode()
        try:
            self.w.write(msg)
            head = await self.r.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            data = await self.r.readexactly(int(m.group(1))) if m else b""
            if re.search(rb"(?i)\r\nconnection:\s*close", head):
                self.close()
            return status, head, data
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.close()
            return 0, b"", b""

    def close(self):
        if self.w is not None:
            try:
                self.w.close()
            except Exception:
                pass
        self.r = self.w = None


def check_consistency(port, host="127.0.0.1"):
    """GET /admin/consistency: rebuild every read model and compare. Returns (ok, summary)."""
    t0 = time.monotonic()
    st, _, body = get(port, "/admin/consistency", timeout=300, host=host)
    dt = time.monotonic() - t0
    try:
        j = json.loads(body)
    except ValueError:
        return False, f"/admin/consistency -> {st} {body[:200]!r}"
    diffs = sum(len(j.get(k, {}).get("differences", [])) for k in ("customers", "orders"))
    ok = st == 200 and j.get("consistent") is True
    return ok, (f"/admin/consistency -> {st} consistent={j.get('consistent')} differences={diffs} "
                f"(rebuild+compare {dt:.2f}s)" + ("" if ok else f" {json.dumps(j)[:400]}"))


def verify_acks(port, acks, sample, host="127.0.0.1", budget_s=60):
    """acks: list of (kind, id, store_position, version) of acknowledged (2xx) commands.
    Checks through GET /queries/{kind}/{id}/history that the event at that store position and stream
    version is there. sample=0: all. Returns (checked, missing_list, summary)."""
    import random
    by_id = {}
    for kind, ident, pos, ver in acks:
        by_id.setdefault((kind, ident), []).append((pos, ver))
    keys = list(by_id)
    if sample and len(keys) > sample:
        keys = random.Random(7).sample(keys, sample)
    checked, missing = 0, []
    end = time.monotonic() + budget_s
    c = http.client.HTTPConnection(host, port, timeout=30)
    for kind, ident in keys:
        if time.monotonic() > end:
            break
        c.request("GET", f"/queries/{kind}/{ident}/history")
        r = c.getresponse(); body = r.read()
        have = set()
        if r.status == 200:
            for e in json.loads(body).get("events", []):
                have.add((e.get("position"), e.get("version")))
        for pv in by_id[(kind, ident)]:
            checked += 1
            if pv not in have:
                missing.append((kind, ident, pv, r.status))
    c.close()
    scope = "all" if not sample or len(by_id) <= sample else f"a sample of {len(keys)} of {len(by_id)}"
    return checked, missing, (f"acknowledged commands in the store: {checked - len(missing)}/{checked} found "
                              f"({scope} aggregates, via /queries/*/{{id}}/history)")


def rss_kib(pid, field="VmRSS"):
    """A /proc/PID/status memory figure (VmRSS, VmHWM...) in KiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(field + r":\s+(\d+) kB", f.read()).group(1))


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_load():
    return open("/proc/loadavg").read().split()[:3]
