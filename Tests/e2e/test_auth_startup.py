"""Development mode, refusing to expose an open API, bad token configuration, and tokens
never reaching the logs."""

import hashlib
import os
import secrets
import subprocess
import uuid

import httpx

from conftest import (AUTH_SCOPES, REPO_ROOT, SSEConnection, server_binary, start_server_with_args, stop_server,
                      write_tokens_file)


def run_serve(args: list[str], tmp_path, env: dict | None = None, timeout: float = 20.0) -> subprocess.CompletedProcess:
    """Runs `tributary serve` expecting it to exit by itself (a refused start)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return subprocess.run([str(server_binary()), "serve", "--data", str(data), "--durability", "none", *args],
                          capture_output=True, timeout=timeout, cwd=REPO_ROOT,
                          env={**os.environ, **(env or {})})


def test_development_mode_is_announced_and_open_on_loopback(tmp_path):
    server = start_server_with_args(tmp_path, [])
    try:
        out = "\n".join(server.output)
        assert "development mode: no authentication, loopback only" in out
        assert httpx.get(f"{server.base}/queries/customers").status_code == 200
    finally:
        stop_server(server)


def test_non_loopback_without_tokens_refuses_to_start(tmp_path):
    # Never sends traffic: the server must exit before listening.
    for address in ["0.0.0.0:0", "[::]:0"]:
        result = run_serve(["--listen", "127.0.0.1:0", "--listen", address], tmp_path)
        err = result.stderr.decode() + result.stdout.decode()
        assert result.returncode != 0, err
        assert "refusing to listen on" in err and "without authentication" in err, err
        assert "listening on" not in err


def test_loopback_v6_is_allowed_in_development_mode(tmp_path):
    # ::1 is loopback; when the host has no IPv6 the bind fails, but never with the auth refusal.
    proc = subprocess.Popen([str(server_binary()), "serve", "--listen", "[::1]:0", "--data", str(tmp_path),
                             "--durability", "none"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        line = b""
        for line in iter(proc.stdout.readline, b""):
            if b"listening on" in line or b"Error" in line:
                break
        assert b"refusing" not in line
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=10)


def test_tokens_file_turns_development_mode_off(tmp_path):
    tokens = {name: secrets.token_hex(16) for name in AUTH_SCOPES}
    write_tokens_file(tmp_path / "tokens", tokens, AUTH_SCOPES)
    server = start_server_with_args(tmp_path / "d", ["--tokens-file", str(tmp_path / "tokens")])
    try:
        assert "development mode" not in "\n".join(server.output)
    finally:
        stop_server(server)


def test_bad_tokens_files_refuse_to_start_without_echoing_secrets(tmp_path):
    raw = "trb_" + secrets.token_urlsafe(24)
    cases = {
        "raw token instead of hash": f"ci {raw} queries:read\n",
        "unknown scope": f"ci {hashlib.sha256(raw.encode()).hexdigest()} queries:write\n",
        "missing scopes": f"ci {hashlib.sha256(raw.encode()).hexdigest()}\n",
        "only comments": "# nothing here\n\n",
        "duplicate name": "".join(f"ci {hashlib.sha256(s.encode()).hexdigest()} admin\n" for s in ["a", "b"]),
    }
    for what, content in cases.items():
        path = tmp_path / "tokens"
        path.write_text(content)
        result = run_serve(["--listen", "127.0.0.1:0", "--tokens-file", str(path)], tmp_path)
        out = result.stdout.decode() + result.stderr.decode()
        assert result.returncode != 0, what
        assert "listening on" not in out, what
        assert raw not in out, what
    result = run_serve(["--listen", "127.0.0.1:0", "--tokens-file", str(tmp_path / "missing")], tmp_path)
    assert result.returncode != 0 and "cannot read tokens file" in result.stderr.decode()


def test_tokens_from_environment(tmp_path):
    secret = secrets.token_hex(16)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    env_value = f"envreader {digest} queries:read; other {hashlib.sha256(b'x' * 20).hexdigest()} admin"
    import conftest
    old = os.environ.get("TRIBUTARY_TOKENS")
    os.environ["TRIBUTARY_TOKENS"] = env_value
    try:
        server = conftest.start_server_with_args(tmp_path, ["--listen", "127.0.0.1:0"])
    finally:
        if old is None:
            del os.environ["TRIBUTARY_TOKENS"]
        else:
            os.environ["TRIBUTARY_TOKENS"] = old
    try:
        assert httpx.get(f"{server.base}/queries/customers").status_code == 401
        r = httpx.get(f"{server.base}/queries/customers", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 200
        assert "(2 configured)" in "\n".join(server.output)
    finally:
        stop_server(server)


def test_hash_token_cli():
    binary = str(server_binary())
    for given in [b"s3cret-token\n", b"s3cret-token", b"s3cret-token\r\n"]:
        r = subprocess.run([binary, "hash-token"], input=given, capture_output=True)
        assert r.returncode == 0
        assert r.stdout.decode().strip() == hashlib.sha256(b"s3cret-token").hexdigest()
    for bad in [b"", b"\n", b"two words\n"]:
        r = subprocess.run([binary, "hash-token"], input=bad, capture_output=True)
        assert r.returncode != 0 and r.stdout == b""


def test_tokens_never_appear_in_logs(tmp_path):
    tokens = {name: "trb_" + secrets.token_urlsafe(32) for name in [*AUTH_SCOPES, "unknown"]}
    write_tokens_file(tmp_path / "tokens", tokens, AUTH_SCOPES)
    (tmp_path / "data").mkdir()
    # stdout and stderr are both captured (merged) by the fixture helper.
    server = start_server_with_args(tmp_path / "data", ["--tokens-file", str(tmp_path / "tokens")])
    try:
        base = server.base
        for name, secret in tokens.items():
            h = {"Authorization": f"Bearer {secret}"}
            httpx.post(f"{base}/commands/customers/register", headers=h,
                       json={"name": "Log Test", "email": f"{uuid.uuid4().hex[:8]}@example.com", "creditLimit": 5,
                             "currency": "EUR"})
            httpx.post(f"{base}/commands/customers/register", headers=h, content=b"{not json")
            httpx.get(f"{base}/queries/customers", headers=h)
            httpx.get(f"{base}/queries/customers/{uuid.uuid4()}/history", headers=h)
            httpx.get(f"{base}/admin/consistency", headers=h)
            httpx.get(f"{base}/public/events?after=zz", headers=h)
            conn = SSEConnection(server.address, "/streams/public", headers=h)
            conn.close()
            # Errors must not echo the token either.
            for r in [httpx.get(f"{base}/queries/customers", headers={"Authorization": f"Bearer {secret}x"}),
                      httpx.get(f"{base}/queries/customers", headers={"Authorization": f"Basic {secret}"})]:
                assert secret not in r.text
    finally:
        stop_server(server)
    log = "\n".join(server.output)
    assert "listening on" in log
    for secret in tokens.values():
        assert secret not in log
        assert secret[4:20] not in log
