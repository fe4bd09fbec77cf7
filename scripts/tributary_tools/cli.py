"""The front doors scripts/bench, scripts/loadtest and scripts/tool: COMMAND -> module (each has main(argv))."""
import importlib, sys

from .server import ServerError

BENCH = {
    "store": ("bench_store", "durable appends at 1/16/256 appenders vs PostgreSQL, fsync rate, replay, open time"),
    "http": ("bench_http", "GET /health: wrk vs nginx (1 worker, same bytes), keep-alive and 16-deep pipelining"),
    "commands": ("bench_commands", "mixed commands (fsync) and detail reads vs nginx, restart-to-ready"),
    "lists": ("bench_lists", "list, history and public-log pages vs nginx (same bytes) and PostgreSQL json_agg"),
    "cold-commands": ("bench_cold", "renames of random customers, 10x the state cache, after a cold restart (page cache dropped)"),
    "restart": ("bench_restart", "restart-to-ready on ~1M events: full replay vs snapshots, and after SIGKILL"),
    "idle-conns": ("bench_idle_conns", "RSS per idle keep-alive connection (10k connections)"),
    "cluster": ("bench_cluster", "scripts/cluster (nginx, writers, 2 replicas each) vs the single process on one PostgreSQL: commands/s, queries/s, CPU per query per replica, replica lag"),
    "postgres": ("baseline_postgres", "the PostgreSQL baseline alone: Message-DB-style durable appends, pgbench"),
    "open-model": ("bench_open", "command p99 against offered rate (open model, tributary-load), the knee, and the disk's fsync floor"),
    "fsync": ("fsync_rate", "the disk's raw fdatasync rate (200-byte append + fdatasync, one at a time)"),
}
LOADTEST = {
    "commands": ("loadtest", "a realistic command mix at a fixed rate (open model) or flat out (wrk)"),
    "queries": ("loadtest", "detail, list (following cursors) and stats reads"),
    "mixed": ("loadtest", "commands + queries + SSE subscribers at once, read-your-writes checks"),
    "sse": ("loadtest_sse", "SSE subscribers on /streams/public: delivery latency, RSS"),
}
TOOL = {
    "chaos": ("chaos", "SIGKILL the server (fsync) under a command load, restart, check nothing acknowledged is lost"),
    "chaos-cluster": ("chaos_cluster", "scripts/cluster under a command load through nginx; SIGKILL writers, replicas or PostgreSQL; check"),
    "overload": ("overload", "1x and 2x --max-connections of clients all sending commands; shedding, peak RSS"),
    "slow-clients": ("slow_clients", "slowhttptest slow headers / body / read against the server, with a probe"),
    "perf-commands": ("perf_commands", "a fixed command workload against a running server (for callgrind)"),
    "check-openapi": ("check_openapi", "schemathesis against a server and openapi/api.yaml"),
    "postgres": ("pgcluster", "start/stop/restart a throwaway PostgreSQL cluster in a directory (prints its URL)"),
    "loop-syscalls": ("loop_syscalls", "strace the loop thread under a mixed load: it must make no file system call"),
}
GROUPS = {"bench": BENCH, "loadtest": LOADTEST, "tool": TOOL}


def listing(group):
    return "\n".join(f"  scripts/{group} {name:<14} {text}" for name, (_, text) in GROUPS[group].items())


def run(fn, argv):
    try:
        return fn(argv) or 0
    except KeyboardInterrupt:
        return 130
    except ServerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def main(group, argv=None):
    """scripts/GROUP COMMAND [options]; scripts/bench without a command runs the whole report, and
    scripts/loadtest parses its commands itself (loadtest.py)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = GROUPS[group]
    if group == "loadtest" and not (argv and argv[0] == "sse"):
        return run(importlib.import_module("tributary_tools.loadtest").main, argv)
    if argv and argv[0] in commands:
        return run(importlib.import_module(f"tributary_tools.{commands[argv[0]][0]}").main, argv[1:])
    if group == "bench":
        return run(importlib.import_module("tributary_tools.bench_report").main, argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: scripts/{group} COMMAND [--help] [options]\n\n{listing(group)}")
        return 0 if argv else 2
    print(f"scripts/{group}: unknown command {argv[0]!r}\n{listing(group)}", file=sys.stderr)
    return 2
