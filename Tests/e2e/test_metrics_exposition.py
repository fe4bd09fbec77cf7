"""GET /metrics as Prometheus's own tool reads it: `promtool check metrics` finds no problem,
every family whose name ends in `_total` is a counter, and request latency, the stores' flush
durations and group-commit batch sizes are histograms with buckets, sum and count. (scripts/test installs promtool with Debian's
prometheus package.)"""

import re
import shutil
import subprocess

import httpx
import pytest

from cqrs_client import Api


def test_promtool_accepts_the_exposition_and_the_types_are_right(server):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.fail("promtool missing: scripts/test installs it (apt-get install prometheus)")
    api = Api(server)
    c = api.register(name="Metrics Reader", credit_limit=1_000)
    api.customer(c["id"], min_position=c["position"])
    body = httpx.get(f"{server}/metrics", timeout=10).text
    check = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", body, re.M))
    totals = {name: kind for name, kind in types.items() if name.endswith("_total")}
    assert totals and all(kind == "counter" for kind in totals.values()), totals
    assert "tributary_store_appends_total" in totals
    for family in ("http_request_duration_seconds", "tributary_store_sync_duration_seconds", "tributary_store_batch_events",
                   "tributary_sse_delivery_delay_seconds", "tributary_projection_delay_seconds"):
        assert types[family] == "histogram", family
    for suffix in ("_bucket", "_sum", "_count"):
        assert re.search(rf"^http_request_duration_seconds{suffix}\{{", body, re.M), suffix
    # The registration went out in at least one group-commit batch of the customers store.
    batches = re.search(r'^tributary_store_batch_events_count\{store="customers"\} (\d+)$', body, re.M)
    assert batches and int(batches.group(1)) >= 1, body[:2000]
    # A live read model counted how long the registration took to become readable.
    delays = re.findall(r'^tributary_projection_delay_seconds_count\{service="customers",name="[^"]+"\} (\d+)$', body, re.M)
    assert delays and max(int(d) for d in delays) >= 1, delays
    api.close()
