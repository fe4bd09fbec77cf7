"""schemathesis against the real server and openapi/api.yaml (`scripts/tool check-openapi`): every
operation (except the SSE streams) with generated valid and invalid inputs, in the examples,
coverage, fuzzing and stateful phases, with every check (`--checks all`) at its default
expectations but for the business outcomes schemathesis.toml names: zero failures (no server
error, no response outside the spec, no schema-valid request refused, no schema-violating request
accepted). OPENAPI_MAX_EXAMPLES (default 50) bounds it: about a minute on 2 cores."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = os.environ.get("OPENAPI_MAX_EXAMPLES", "50")


def test_schemathesis_finds_no_server_error_and_no_spec_violation(server, tmp_path):
    report = tmp_path / "schemathesis.xml"
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "tool"), "check-openapi", "--url", server, "--max-examples", MAX_EXAMPLES,
         "--report", "junit", "--report-junit-path", str(report)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-12000:]
    assert "Runtime Error" not in out and " passed" in out, out[-6000:]
    assert "--checks all" in out and "schemathesis.toml" in out, out[:2000]
