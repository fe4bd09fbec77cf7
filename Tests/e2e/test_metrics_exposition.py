"""GET /metrics as Prometheus's own tool reads it: `promtool check metrics` finds no problem,
every family whose name ends in `_total` is a counter, and the latency families are
histograms with buckets, sum and count. (scripts/test installs promtool with Debian's
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
    assert types["http_request_duration_seconds"] == "histogram"
    for suffix in ("_bucket", "_sum", "_count"):
        assert re.search(rf"^http_request_duration_seconds{suffix}\{{", body, re.M), suffix
    api.close()
