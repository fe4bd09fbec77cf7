"""Slow clients (short forms of `scripts/tool slow-clients`, raw sockets): a server with
--header-timeout 1 --body-timeout 2 --idle-timeout 2 must free connections that trickle their head,
trickle their body or stop reading their responses. (A reader that stalls is cut after
--idle-timeout: the server closes its descriptor; unsent bytes stay with the kernel's orphaned
socket.)"""

import socket
import subprocess
import time

import pytest

from conftest import start_server_with_args, stop_server


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    server = start_server_with_args(tmp_path_factory.mktemp("slow"), ["--header-timeout", "1", "--body-timeout", "2", "--idle-timeout", "2"])
    yield server
    stop_server(server)


def closed_within(sock, seconds, trickle=None):
    """True if the server closes (EOF/reset) within `seconds`; `trickle()` is called every 0.4 s."""
    deadline = time.monotonic() + seconds
    sock.settimeout(0.4)
    while time.monotonic() < deadline:
        try:
            if trickle is not None:
                trickle()
            data = sock.recv(65536)
            if not data:
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def test_slow_headers_are_cut_by_the_header_timeout(strict_server):
    s = socket.create_connection(strict_server.address)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")
    try:
        assert closed_within(s, 4, trickle=lambda: s.sendall(b"X-a: b\r\n")), "slow-header connection kept open"
    finally:
        s.close()


def test_slow_body_is_cut_by_a_deadline(strict_server):
    s = socket.create_connection(strict_server.address)
    s.sendall(b"POST /commands/customers/register HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000\r\n\r\n{")
    try:
        assert closed_within(s, 6, trickle=lambda: s.sendall(b" ")), "slow-body connection kept open for 6 s"
    finally:
        s.close()


def stalled_reader(address, read_bytes_every_0_4s):
    """Pipelines 60 GETs of the API spec (~6.6 MB, more than the kernel buffers hold) with a 4 KiB
    receive buffer, then reads `read_bytes_every_0_4s` bytes every 0.4 s (0: nothing) for 6 s.
    Returns True if the server closed the connection meanwhile."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(address)
    s.sendall(b"GET /openapi/api.yaml HTTP/1.1\r\nHost: t\r\n\r\n" * 60)
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            time.sleep(0.4)
            if read_bytes_every_0_4s:
                s.settimeout(0.1)
                try:
                    if not s.recv(read_bytes_every_0_4s):
                        return True
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    return True
        out = subprocess.run(["ss", "-Htn", f"( dport = :{address[1]} and sport = :{s.getsockname()[1]} )"],
                             capture_output=True, text=True).stdout
        # The server closed its side if our socket no longer shows ESTAB with its peer open.
        s.settimeout(0.1)
        try:
            s.recv(1, socket.MSG_PEEK)
        except socket.timeout:
            pass
        except ConnectionResetError:
            return True
        return "ESTAB" not in out or _peer_finished(address, s)
    finally:
        s.close()


def _peer_finished(address, s):
    out = subprocess.run(["ss", "-Htn", "state", "fin-wait-1", f"( sport = :{address[1]} )"], capture_output=True, text=True).stdout
    out2 = subprocess.run(["ss", "-Htn", "state", "fin-wait-2", f"( sport = :{address[1]} )"], capture_output=True, text=True).stdout
    port = str(s.getsockname()[1])
    return port in out or port in out2


def test_client_that_stops_reading_is_cut(strict_server):
    assert stalled_reader(strict_server.address, 0), "a client that stopped reading kept its connection for 6 s"
