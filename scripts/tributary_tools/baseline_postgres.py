"""scripts/bench postgres: durable single-event appends into PostgreSQL 15, Message-DB style (the baseline).

Starts a throwaway cluster (temp dir, loopback TCP on a free port, fsync=on,
synchronous_commit=on, so an acknowledged append is on disk, like the store's
--durability fsync), creates a Message-DB-like `messages` table and a
write_message() function (per-stream pg_advisory_xact_lock, read the stream
version, check expected_version, insert at version+1), then drives it with
pgbench at each concurrency: one ~200-byte JSON event per transaction to a random
stream `stream-<1..100000>`, expected_version NULL (= any; the function still
takes the lock and reads the version, so the work matches a checked append, and
no client is aborted by a version conflict). This is the fair comparison: the
same durability, payload, stream spread and concurrency as `scripts/bench store`.
The cluster is always stopped and its temp dir removed on exit (also on Ctrl-C).
With --engine, each concurrency also runs the same load through Tributary's PostgreSQL engine
on the same cluster, right after pgbench (tributary-store-tool bench --postgres: closed-loop
appenders, one ~200-byte event per append to a random stream of 100,000, group commit), and
prints its line and the ratio to the baseline of the same run.
Usage: scripts/bench postgres [--clients 1,16,256] [--duration SEC] [--engine]
Stdout, one line per concurrency (progress goes to stderr):
  postgres clients=N appends_per_s=X p50_ms=X p99_ms=X errors=N
  pgengine appenders=N appends_per_s=X p50_ms=X p99_ms=X fsyncs_per_s=X events_per_batch=X errors=N  (--engine)
  pgengine_vs_postgres clients=N ratio=X                                                          (--engine)
"""
import glob, math, os, pwd, re, shutil, signal, subprocess, sys, tempfile, time
from collections import Counter

from .common import log
from .ports import free_port

PGBIN = "/usr/lib/postgresql/15/bin"

SCHEMA = r"""
CREATE TABLE messages (
    global_position bigserial PRIMARY KEY,
    stream_name     text        NOT NULL,
    position        bigint      NOT NULL,
    id              uuid        NOT NULL,
    type            text        NOT NULL,
    data            jsonb,
    metadata        jsonb,
    time            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_name, position),
    UNIQUE (id)
);

-- Message DB's write_message: lock the stream, check the expected version,
-- insert at version + 1 (versions start at 0; an empty stream is at -1).
CREATE FUNCTION write_message(
    _id uuid, _stream_name text, _type text, _data jsonb,
    _metadata jsonb DEFAULT NULL, _expected_version bigint DEFAULT NULL
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    _stream_version bigint;
    _next_position  bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(_stream_name));
    SELECT max(position) INTO _stream_version FROM messages WHERE stream_name = _stream_name;
    IF _stream_version IS NULL THEN
        _stream_version := -1;
    END IF;
    IF _expected_version IS NOT NULL AND _expected_version <> _stream_version THEN
        RAISE EXCEPTION 'Wrong expected version: % (Stream: %, Stream Version: %)',
            _expected_version, _stream_name, _stream_version;
    END IF;
    _next_position := _stream_version + 1;
    INSERT INTO messages (id, stream_name, position, type, data, metadata)
    VALUES (_id, _stream_name, _next_position, _type, _data, _metadata);
    RETURN _next_position;
END;
$$;
"""

# Self-check of the function: versions 0,1 on a fresh stream, a stale expected version fails.
SELFCHECK = r"""
SELECT write_message(gen_random_uuid(), 'selfcheck-1', 'T', '{}', NULL, -1);
SELECT write_message(gen_random_uuid(), 'selfcheck-1', 'T', '{}', NULL, NULL);
DO $$ BEGIN
    PERFORM write_message(gen_random_uuid(), 'selfcheck-1', 'T', '{}', NULL, 0);
    RAISE EXCEPTION 'stale expected version was accepted';
EXCEPTION WHEN raise_exception THEN
    IF SQLERRM NOT LIKE 'Wrong expected version%' THEN RAISE; END IF;
END $$;
DELETE FROM messages;
"""

# ~200-byte JSON event body (as stored text, before jsonb encoding).
APPEND = r"""\set s random(1, 100000)
\set amt random(1, 1000000)
SELECT write_message(gen_random_uuid(), 'stream-' || :s, 'Deposited', ('{"accountId":"acct-' || :s || '","amount":' || :amt || ',"currency":"EUR","reference":"benchmark-append-0123456789abcdef","note":"single event append baseline payload padding to about two hundred bytes xxxxxxxxxxx"}')::jsonb, NULL, NULL);
"""


def as_pg(cmd):
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


def psql(*args, sql=None, **kw):
    return subprocess.run([f"{PGBIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *args], input=sql, text=True, **kw)


def report(c, tmp, out, err_text):
    """The stdout line for one concurrency, from pgbench's summary and per-transaction logs."""
    m = re.search(r"^tps = ([0-9.]+) \(without initial connection time\)", out, re.M)
    tps = float(m.group(1)) if m else 0.0
    f = re.search(r"^number of failed transactions: (\d+)", out, re.M)
    failed = int(f.group(1)) if f else 0
    aborted = len(set(re.findall(r"client (\d+) aborted", err_text)))
    lat = []
    for path in glob.glob(f"{tmp}/log.*"):
        with open(path) as fh:
            for line in fh:
                # client_id transaction_no time script_no time_epoch time_us [...]
                p = line.split()
                if len(p) >= 3:
                    if p[2] in ("failed", "skipped"):
                        continue
                    lat.append(int(p[2]))
    lat.sort()

    def pct(q):
        if not lat:
            return float("nan")
        return lat[max(0, min(len(lat) - 1, math.ceil(q / 100 * len(lat)) - 1))] / 1000.0
    print(f"postgres clients={c} appends_per_s={tps:.0f} p50_ms={pct(50):.2f} p99_ms={pct(99):.2f} errors={failed + aborted}",
          flush=True)
    if not m:
        log("warning: could not parse pgbench tps")
    return tps


def usage_error(msg):
    log(msg)
    sys.exit(2)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    clients_list, duration, engine = "1,16,256", "10", False
    while argv:
        a = argv.pop(0)
        if a == "--engine":
            engine = True
        elif a in ("--clients", "--duration") and argv:
            if a == "--clients":
                clients_list = argv.pop(0)
            else:
                duration = argv.pop(0)
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            usage_error(f"unknown option {a} (see --help)")
    if not re.fullmatch(r"[1-9][0-9]*", duration):
        usage_error("--duration must be a positive integer")
    clients = clients_list.split(",")
    if not all(re.fullmatch(r"[1-9][0-9]*", c) for c in clients):
        usage_error("--clients must be a comma-separated list of positive integers")
    clients = [int(c) for c in clients]
    for b in ("initdb", "pg_ctl", "postgres", "psql", "pgbench"):
        if not os.access(f"{PGBIN}/{b}", os.X_OK):
            log(f"missing {PGBIN}/{b} (apt-get install postgresql-15 postgresql-client-15)")
            return 1
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        log("no 'postgres' OS user")
        return 1

    def on_signal(signum, frame):
        raise SystemExit({signal.SIGTERM: 143, signal.SIGHUP: 129}[signum])
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    tmp = tempfile.mkdtemp(prefix="baseline-pg.", dir=os.environ.get("TMPDIR") or "/tmp")
    state = {"bench": None}
    try:
        tool = engine_tool() if engine else None
        return run(clients, int(duration), tmp, state, tool)
    except KeyboardInterrupt:
        return 130
    finally:
        cleanup(tmp, state["bench"])


def cleanup(tmp, bench):
    if bench is not None and bench.poll() is None:
        bench.send_signal(signal.SIGTERM)   # timeout passes it on to pgbench
        bench.wait()
    pgdata = f"{tmp}/data"
    if os.path.exists(f"{pgdata}/postmaster.pid"):
        log("==> stopping throwaway cluster")
        subprocess.run(as_pg([f"{PGBIN}/pg_ctl", "-D", pgdata, "-m", "immediate", "-w", "-t", "30", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # belt and braces: if the postmaster is somehow still alive, kill it by pid
        try:
            pm = int(open(f"{pgdata}/postmaster.pid").readline())
            os.kill(pm, 0)
        except (OSError, ValueError):
            pm = None
        if pm:
            try:
                os.kill(pm, signal.SIGKILL)
                for _ in range(50):
                    os.kill(pm, 0)
                    time.sleep(0.1)
            except OSError:
                pass
    shutil.rmtree(tmp, ignore_errors=True)


def engine_tool():
    """The release tributary-store-tool (built if missing)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tool = os.path.join(root, ".build", "release", "tributary-store-tool")
    if not os.access(tool, os.X_OK):
        log("==> swift build -c release --product tributary-store-tool")
        subprocess.run(["swift", "build", "-c", "release", "--product", "tributary-store-tool"], cwd=root, check=True,
                       stdout=sys.stderr)
    return tool


def run_engine(tool, c, duration, baseline):
    url = f"postgresql://postgres@127.0.0.1:{os.environ['PGPORT']}/postgres"
    log(f"==> Tributary's PostgreSQL engine: appenders={c} duration={duration}s")
    out = subprocess.run(["timeout", str(duration + 120), tool, "bench", "--data", "/nonexistent", "--postgres", url,
                          "--appenders", str(c), "--duration", str(duration)], capture_output=True, text=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("pgengine ")), None)
    if out.returncode != 0 or line is None:
        log(f"engine run failed (exit {out.returncode}): {out.stderr[-800:]}")
        return 1
    print(line, flush=True)
    m = re.search(r"appends_per_s=([0-9.]+)", line)
    if m and baseline:
        print(f"pgengine_vs_postgres clients={c} ratio={float(m.group(1)) / baseline:.2f}", flush=True)
    return 0


def run(clients, duration, tmp, state, tool=None):
    pgdata = f"{tmp}/data"
    if os.getuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(tmp, pg.pw_uid, pg.pw_gid)
    os.chmod(tmp, 0o700)
    if subprocess.run(as_pg(["test", "-w", tmp])).returncode != 0:
        log(f"postgres user cannot write {tmp} (set TMPDIR to a world-traversable dir)")
        return 1
    port = free_port()
    maxconn = max(max(clients) + 20, 300)
    log(f"==> initdb in {pgdata} (port {port}, max_connections {maxconn})")
    with open(f"{tmp}/initdb.log", "w") as initdb_log:
        if subprocess.run(as_pg([f"{PGBIN}/initdb", "-D", pgdata, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                 "--locale=C.UTF-8", "--no-sync"]), stdout=initdb_log, stderr=initdb_log).returncode != 0:
            log(open(f"{tmp}/initdb.log").read())
            return 1
    with open(f"{pgdata}/postgresql.conf", "a") as f:
        f.write(f"""# --- scripts/bench postgres ---
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{tmp}'
max_connections = {maxconn}
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
""")
    if subprocess.run(as_pg([f"{PGBIN}/pg_ctl", "-D", pgdata, "-l", f"{tmp}/postgres.log", "-w", "-t", "60", "start"]),
                      stdout=subprocess.DEVNULL).returncode != 0:
        log(open(f"{tmp}/postgres.log").read())
        return 1
    os.environ.update(PGHOST="127.0.0.1", PGPORT=str(port), PGUSER="postgres", PGDATABASE="postgres")
    r = psql(sql=SCHEMA, stdout=sys.stderr)
    if r.returncode != 0:
        return r.returncode
    r = psql("-At", sql=SELFCHECK, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    selfcheck = r.stdout.rstrip("\n")
    if r.returncode != 0:
        log(f"write_message self-check failed: {selfcheck}")
        return 1
    if (selfcheck + "\n").replace("\n", " ") != "0 1 ":
        log(f"write_message self-check: unexpected versions: {selfcheck}")
        return 1
    with open(f"{tmp}/append.sql", "w") as f:
        f.write(APPEND)
    for c in clients:
        j = min(c, 2)
        r = psql("-c", "CHECKPOINT", stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            return r.returncode
        for path in glob.glob(f"{tmp}/log.*"):
            os.unlink(path)
        log(f"==> pgbench: clients={c} threads={j} duration={duration}s")
        # timeout bounds a hang; on Ctrl-C/TERM the cleanup stops it at once.
        with open(f"{tmp}/pgbench.out", "w") as out, open(f"{tmp}/pgbench.err", "w") as errf:
            state["bench"] = subprocess.Popen(
                ["timeout", "--signal=INT", "--kill-after=10", str(duration + 120), f"{PGBIN}/pgbench", "-n", "-M", "prepared",
                 "-c", str(c), "-j", str(j), "-T", str(duration), "-f", f"{tmp}/append.sql", "--log",
                 f"--log-prefix={tmp}/log"], stdout=out, stderr=errf)
            prc = state["bench"].wait()
            state["bench"] = None
        out_text, err_text = open(f"{tmp}/pgbench.out").read(), open(f"{tmp}/pgbench.err").read()
        for line in out_text.splitlines():
            log("    " + line)
        counts = Counter(line for line in err_text.splitlines() if line)
        for line, n in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:5]:
            log(f"    {n:7d} {line}")
        if prc not in (0, 2):  # 2 = some clients aborted; still report
            log(f"pgbench failed (exit {prc})")
            return 1
        tps = report(c, tmp, out_text, err_text)
        if tool is not None and run_engine(tool, c, duration, tps) != 0:
            return 1
    return 0
