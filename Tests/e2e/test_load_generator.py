"""tributary-load (Sources/LoadGen), the open-model generator of `scripts/bench open-model`:
it offers what it is asked to, its requests really reach the server, it refuses non-loopback
targets, and a server that falls behind shows as latency from each request's due time (the
coordinated-omission correction), not as a lower offered rate."""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REGISTER = ('1 POST /commands/customers/register {"customerId":"lg-{run}-{n}","name":"Load {n}",'
            '"email":"lg{n}@example.com","creditLimit":100000,"currency":"EUR"}')


def tool() -> str:
    path = Path(os.environ.get("TRIBUTARY_BIN", ".build/debug/tributary")).resolve().parent / "tributary-load"
    assert path.exists(), f"{path} is missing: swift build builds it"
    return str(path)


def load(*args, timeout=60):
    out = subprocess.run([tool(), *args], capture_output=True, text=True, timeout=timeout)
    line = next((l for l in out.stdout.splitlines() if l.startswith("load ")), None)
    return out, (dict(kv.split("=", 1) for kv in line.split()[1:]) if line else None)


def test_an_open_load_offers_every_due_request_and_the_server_gets_them(running_server):
    host, port = running_server.address
    out, r = load("--target", f"{host}:{port}", "--rate", "200", "--duration", "1", "--warmup", "0.5",
                  "--connections", "8", "--run", "open", "--request", REGISTER)
    assert out.returncode == 0, out.stderr
    assert r["mode"] == "open" and r["due"] == "200" and r["completed"] == "200", r
    assert r["errors"] == "0" and r["unanswered"] == "0" and r["statuses"] == "201:200", r
    assert float(r["p99_ms"]) < 1000 and float(r["max_ms"]) >= float(r["p50_ms"]) > 0, r
    # The warm-up's requests went out too (numbered from 0): the first customer exists.
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/queries/customers/lg-open-0", timeout=5) as resp:
                assert json.loads(resp.read())["customerId"] == "lg-open-0"
                break
        except urllib.error.HTTPError as e:
            assert e.code == 404 and time.monotonic() < deadline, e


def test_the_closed_model_sends_as_fast_as_answers_come(running_server):
    host, port = running_server.address
    out, r = load("--target", f"{host}:{port}", "--rate", "0", "--duration", "1", "--warmup", "0",
                  "--connections", "4", "--run", "closed", "--request", REGISTER)
    assert out.returncode == 0, out.stderr
    assert r["mode"] == "closed" and int(r["completed"]) > 20 and r["errors"] == "0", r
    assert r["statuses"] == f"201:{r['completed']}", r


def test_only_loopback_targets_and_well_formed_requests_are_taken():
    out, r = load("--target", "10.0.0.1:80", "--rate", "10", "--request", REGISTER)
    assert out.returncode != 0 and r is None and "only ever sent to 127.0.0.1" in out.stderr
    out, r = load("--target", "127.0.0.1:9", "--rate", "10", "--request", "POST /x")
    assert out.returncode != 0 and r is None and "WEIGHT METHOD PATH" in out.stderr


def test_a_slow_server_shows_as_latency_from_the_due_time():
    """One connection to a server that takes 100 ms per answer, offered 20/s for 1 s: it answers
    10/s, so the requests queue, and the last ones due wait far longer than 100 ms. A generator
    measuring from its own send would report ~100 ms for every request."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while True:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        break
                    if not data:
                        break
                    buf += data
                    while b"\r\n\r\n" in buf:
                        head, buf = buf.split(b"\r\n\r\n", 1)
                        length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), 0)
                        while len(buf) < length:
                            buf += conn.recv(65536)
                        buf = buf[length:]
                        time.sleep(0.1)
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    threading.Thread(target=serve, daemon=True).start()
    try:
        out, r = load("--target", f"127.0.0.1:{port}", "--rate", "20", "--duration", "1", "--warmup", "0",
                      "--connections", "1", "--request", "1 GET /slow")
    finally:
        listener.close()
    assert out.returncode == 0, out.stderr
    assert r["completed"] == "20" and r["statuses"] == "200:20", r
    assert float(r["p50_ms"]) > 300 and float(r["max_ms"]) > 800, r
    assert float(r["send_delay_p99_ms"]) > 700, r
