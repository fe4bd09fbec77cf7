"""schemathesis against the real server and openapi/api.yaml (`scripts/tool check-openapi`): every
operation (except the SSE streams) with generated valid and invalid inputs, in the examples,
coverage, fuzzing and stateful phases; zero server errors, zero responses outside the spec."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = os.environ.get("OPENAPI_MAX_EXAMPLES", "25")


def test_schemathesis_finds_no_server_error_and_no_spec_violation(server, tmp_path):
    report = tmp_path / "schemathesis.xml"
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "tool"), "check-openapi", "--url", server, "--max-examples", MAX_EXAMPLES,
         "--report", "junit", "--report-junit-path", str(report)],
        capture_output=True, text=True, timeout=900, cwd=ROOT)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-12000:]
    assert "Runtime Error" not in out and " passed" in out, out[-6000:]
