"""The PostgreSQL engine from the outside: `tributary serve --postgres URL` and `--store
NAME=LOCATION`, `tributary verify --postgres URL` (intact, then a row edited in the database),
one clear line for a database that cannot be reached, a malformed URL or a wrong password, and
an outage: 503 with the reasons, then commands resume by themselves. Needs TRIBUTARY_TEST_POSTGRES_URL
(scripts/test starts the cluster and sets it)."""

import os
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from conftest import REPO_ROOT, server_binary, start_server_with_args, stop_server
from tributary_tools.pgcluster import Cluster, database_for


@pytest.fixture
def database(tmp_path):
    admin = os.environ.get("TRIBUTARY_TEST_POSTGRES_URL")
    if not admin:
        pytest.fail("TRIBUTARY_TEST_POSTGRES_URL is not set: run scripts/test (it starts the cluster)")
    return database_for(admin, tmp_path / f"db-{uuid.uuid4()}")


def psql(url, sql):
    out = subprocess.run(["psql", url, "-Atqc", sql], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def verify(*args):
    return subprocess.run([str(server_binary()), "verify", *args], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)


def register(base, cid):
    r = httpx.post(f"{base}/commands/customers/register", timeout=10,
                   json={"customerId": cid, "name": "Pg User", "email": f"{cid}@example.com", "creditLimit": 5000, "currency": "EUR"})
    assert r.status_code == 201, r.text
    return r.json()


def test_serve_on_postgres_then_verify_and_find_an_edited_row(tmp_path, database):
    server = start_server_with_args(tmp_path / "data", ["--postgres", database])
    try:
        ack = register(server.base, "pg-1")
        r = httpx.get(f"{server.base}/queries/customers/pg-1", params={"minPosition": ack["position"]}, timeout=10)
        assert r.status_code == 200 and r.json()["email"] == "pg-1@example.com"
        assert any("tributary_customers" in line or "stores customers=postgresql://" in line for line in server.output), server.output[:5]
    finally:
        stop_server(server)
    # Each store in a schema of its own; nothing in the database's own public schema, no files.
    schemas = psql(database, "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'tributary_%'")
    assert schemas == "tributary_customers,tributary_orders,tributary_public"
    assert not (tmp_path / "data" / "customers").exists()
    ok = verify("--postgres", database)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "customers: OK" in ok.stdout and "public: OK" in ok.stdout
    # An edit in the database, even one that keeps the row's checksums (they are recomputed
    # from the columns), is found.
    psql(database, "UPDATE tributary_customers.events SET data = convert_to(replace(convert_from(data, 'UTF8'), 'example.com', 'example.org'), 'UTF8') WHERE position = 1")
    bad = verify("--postgres", database)
    assert bad.returncode == 1
    assert "customers: BROKEN at position 1" in bad.stdout, bad.stdout
    assert "orders: OK" in bad.stdout


def test_one_store_elsewhere(tmp_path, database):
    """--store orders=DIR keeps the orders store on files while the others are on PostgreSQL;
    the saga still runs across them."""
    orders_dir = tmp_path / "orders-files"
    server = start_server_with_args(tmp_path / "data", ["--postgres", database, "--store", f"orders={orders_dir}"])
    try:
        register(server.base, "mix-1")
        r = httpx.post(f"{server.base}/commands/orders/place", timeout=10,
                       json={"orderId": "mix-o1", "customerId": "mix-1", "currency": "EUR",
                             "lines": [{"sku": "A", "quantity": 1, "unitPrice": 100}]})
        assert r.status_code == 201, r.text
        for _ in range(200):
            o = httpx.get(f"{server.base}/queries/orders/mix-o1", timeout=10).json()
            if o.get("status") == "approved":
                break
            import time
            time.sleep(0.02)
        assert o.get("status") == "approved", o
    finally:
        stop_server(server)
    assert any(orders_dir.glob("log-*.seg")), "the orders store is on files"
    assert psql(database, "SELECT count(*) FROM pg_namespace WHERE nspname = 'tributary_orders'") == "0"
    assert verify("--postgres", database, "--store", f"orders={orders_dir}").returncode == 0


def test_unreachable_database_is_one_clear_error(tmp_path):
    out = subprocess.run([str(server_binary()), "serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path),
                          "--postgres", "postgresql://postgres@127.0.0.1:1/postgres"],
                         capture_output=True, text=True, timeout=30, cwd=REPO_ROOT)
    assert out.returncode != 0
    lines = [l for l in out.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "127.0.0.1" in lines[0] and "port 1" in lines[0], out.stderr


def test_bad_store_option_is_a_usage_error(tmp_path):
    out = subprocess.run([str(server_binary()), "serve", "--data", str(tmp_path), "--store", "payments=/tmp/x"],
                         capture_output=True, text=True, timeout=30, cwd=REPO_ROOT)
    assert out.returncode != 0 and "unknown store 'payments'" in out.stderr, out.stderr


def test_copy_files_to_postgres_and_back(tmp_path, database):
    """A user grows out of the embedded default: tributary copy moves the stores to PostgreSQL
    (verified), the server on the copy answers as before, and the copy goes back to files."""
    data = tmp_path / "data"
    server = start_server_with_args(data, [])
    try:
        register(server.base, "cp-1")
        r = httpx.post(f"{server.base}/commands/orders/place", timeout=10,
                       json={"orderId": "cp-o1", "customerId": "cp-1", "currency": "EUR",
                             "lines": [{"sku": "A", "quantity": 3, "unitPrice": 100}]})
        assert r.status_code == 201, r.text
        import time
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.base}/queries/orders/cp-o1", timeout=10).json().get("status") != "approved":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        before = httpx.get(f"{server.base}/queries/customers/cp-1", timeout=10).json()
        history_before = httpx.get(f"{server.base}/queries/orders/cp-o1/history", timeout=10).json()
        public_before = httpx.get(f"{server.base}/public/events", params={"after": 0, "limit": 100}, timeout=10).json()
    finally:
        stop_server(server)
    out = subprocess.run([str(server_binary()), "copy", "--from", str(data), "--to", database],
                         capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("contents identical to the source") == 3, out.stdout
    again = subprocess.run([str(server_binary()), "copy", "--from", str(data), "--to", database],
                           capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert again.returncode != 0 and "not empty" in again.stderr, again.stdout + again.stderr
    server = start_server_with_args(tmp_path / "unused", ["--postgres", database])
    try:
        for _ in range(500):
            if httpx.get(f"{server.base}/ready", timeout=10).status_code == 200:
                break
            time.sleep(0.02)
        assert httpx.get(f"{server.base}/queries/customers/cp-1", timeout=10).json() == before
        assert httpx.get(f"{server.base}/queries/orders/cp-o1/history", timeout=10).json() == history_before
        assert httpx.get(f"{server.base}/public/events", params={"after": 0, "limit": 100}, timeout=10).json() == public_before
    finally:
        stop_server(server)
    back = tmp_path / "back"
    out = subprocess.run([str(server_binary()), "copy", "--from", database, "--to", str(back)],
                         capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert out.returncode == 0 and out.stdout.count("contents identical to the source") == 3, out.stdout + out.stderr
    assert verify("--data", str(back)).returncode == 0


def one_line_failure(tmp_path, url):
    out = subprocess.run([str(server_binary()), "serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path), "--postgres", url],
                         capture_output=True, text=True, timeout=30, cwd=REPO_ROOT)
    assert out.returncode != 0
    lines = [l for l in out.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, out.stderr
    return lines[0]


def test_malformed_connection_string_is_one_clear_error(tmp_path):
    line = one_line_failure(tmp_path, "postgresql://postgres@[::1/postgres")
    assert "postgres" in line.lower(), line


def test_wrong_password_is_one_clear_error(tmp_path):
    directory = os.environ.get("TRIBUTARY_TEST_POSTGRES_DIR")
    if not directory:
        pytest.fail("TRIBUTARY_TEST_POSTGRES_DIR is not set: run scripts/test (it starts the cluster)")
    cluster = Cluster.existing(Path(directory))
    # A role that must give its password (the test cluster trusts everyone else).
    hba = Path(cluster.data) / "pg_hba.conf"
    rule = "host all tributary_pw 127.0.0.1/32 scram-sha-256\n"
    if rule not in hba.read_text():
        hba.write_text(rule + hba.read_text())
    psql(cluster.url, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tributary_pw') THEN "
                      "CREATE ROLE tributary_pw LOGIN PASSWORD 'right'; END IF; END $$")
    psql(cluster.url, "SELECT pg_reload_conf()")
    line = one_line_failure(tmp_path, f"postgresql://tributary_pw:wrong@127.0.0.1:{cluster.port}/postgres")
    assert "password authentication failed" in line and "wrong" not in line, line


def test_database_outage_answers_503_with_reasons_and_commands_resume(tmp_path, database):
    directory = os.environ.get("TRIBUTARY_TEST_POSTGRES_DIR")
    if not directory:
        pytest.fail("TRIBUTARY_TEST_POSTGRES_DIR is not set: run scripts/test (it starts the cluster)")
    cluster = Cluster.existing(Path(directory))
    server = start_server_with_args(tmp_path / "data", ["--postgres", database])
    try:
        register(server.base, "outage-1")
        cluster.stop("immediate")
        try:
            def down():
                health = httpx.get(f"{server.base}/health", timeout=10)
                ready = httpx.get(f"{server.base}/ready", timeout=10)
                return health, ready
            deadline = time.monotonic() + 30
            while True:
                health, ready = down()
                stores = health.json()["stores"]
                if ready.status_code == 503 and any(s["status"] == "unhealthy" for s in stores.values()):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"outage not reported: {health.text} {ready.text}")
                # A command makes the engine find the connection gone, if nothing else has yet.
                httpx.post(f"{server.base}/commands/customers/register", timeout=30,
                           json={"customerId": f"probe-{uuid.uuid4().hex[:6]}", "name": "Probe", "email": "p@example.com",
                                 "creditLimit": 1, "currency": "EUR"})
            assert health.status_code == 503
            unhealthy = [s for s in stores.values() if s["status"] == "unhealthy"]
            assert all("PostgreSQL" in s["reason"] for s in unhealthy), stores
            reasons = ready.json()["reasons"]
            assert ready.json()["ready"] is False and any(r.startswith("store ") and "PostgreSQL" in r for r in reasons), reasons
            r = httpx.post(f"{server.base}/commands/customers/register", timeout=60,
                           json={"customerId": "outage-2", "name": "Pg User", "email": "o2@example.com", "creditLimit": 1, "currency": "EUR"})
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json") and int(r.headers["retry-after"]) > 0
        finally:
            cluster.start()
        # Back by itself: commands and readiness resume without a restart of the server.
        deadline = time.monotonic() + 60
        while True:
            r = httpx.post(f"{server.base}/commands/customers/register", timeout=30,
                           json={"customerId": "outage-3", "name": "Pg User", "email": "o3@example.com", "creditLimit": 1, "currency": "EUR"})
            if r.status_code == 201:
                break
            assert r.status_code == 503, r.text
            assert time.monotonic() < deadline, r.text
            time.sleep(0.5)
        assert httpx.get(f"{server.base}/queries/customers/outage-1", timeout=10).status_code == 200
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.base}/ready", timeout=10).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        stop_server(server)
