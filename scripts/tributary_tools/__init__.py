"""tributary_tools: every tool in scripts/ except the bash front doors (serve, test, crash-test, fuzz-*).

Front doors (each COMMAND has --help; everything runs on 127.0.0.1 only):
  scripts/bench [--quick]           every benchmark with its baselines -> bench/REPORT.md  (bench_report.py)
  scripts/bench store|http|commands|restart|idle-conns|postgres|fsync
                                    one benchmark  (bench_store.py, bench_http.py, bench_commands.py,
                                    bench_restart.py, bench_idle_conns.py, baseline_postgres.py, fsync_rate.py)
  scripts/loadtest commands|queries|mixed|sse
                                    load tests  (loadtest.py, command_mix.py, loadtest_sse.py)
  scripts/tool chaos|overload|slow-clients|perf-commands|check-openapi|loop-syscalls
                                    robustness runs and checks  (chaos.py, overload.py, slow_clients.py,
                                    perf_commands.py, check_openapi.py + openapi_hooks.py, loop_syscalls.py)
  scripts/check-public-events, scripts/check-generated-client
                                    CI checks (run by scripts/test)  (check_public_events.py,
                                    check_generated_client.py)

Shared pieces: server.py (THE server launcher, also used by Tests/e2e/conftest.py), ports.py (free_port),
wrk.py (running and parsing wrk; the wrk scripts in lua/, with ONE command mix: lua/commands.lua),
nginx.py (the static-file baseline), deps.py (apt through scripts/lib.sh, pip), common.py (HTTP client,
percentiles, pacing, consistency and acknowledged-write checks), cli.py (COMMAND -> module).
Importing this package has no side effects (schemathesis imports openapi_hooks through it)."""
