"""The module graph is enforced, not described: the package's declared dependencies (from
`swift package dump-package`) and every `import` in Sources/ must keep the layering of
docs/architecture.md:

- a service never depends on or imports another service;
- only UV imports CLibUV (and only PostgresStore imports CLibPQ, once it exists);
- the transport (HTTP) and JSON depend on no domain module;
- API and LiveFeeds are generic: they import no service;
- only the composition root (App) depends on both services;
- unsafe pointer code lives only at the C boundaries.
"""

import json
import re
import subprocess
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES = {"Customers", "Orders"}
DOMAIN = {"EventStore", "CQRS", "PublicEvents"} | SERVICES
COMPOSITION_ROOT = "App"
C_BOUNDARIES = {"CLibUV": {"UV"}, "CLibPQ": {"PostgresStore"}}
IMPORT = re.compile(r"^\s*(?:@testable\s+)?(?:@_exported\s+)?import\s+(?:class\s+|struct\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)
UNSAFE = re.compile(r"Unsafe(Mutable)?(Raw)?(Buffer)?Pointer|Unmanaged<|@convention\(c\)")


@lru_cache(maxsize=1)
def package() -> dict:
    out = subprocess.run(["swift", "package", "dump-package"], cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def targets() -> dict:
    """name -> (path, declared target dependencies)."""
    result = {}
    for t in package()["targets"]:
        if t["type"] == "test":
            continue
        deps = set()
        for d in t.get("dependencies", []):
            for kind in ("byName", "target"):
                if kind in d:
                    deps.add(d[kind][0])
        path = t.get("path") or f"Sources/{t['name']}"
        result[t["name"]] = (REPO / path, deps)
    return result


def imports(path: Path) -> set:
    found = set()
    for f in path.rglob("*.swift"):
        found |= set(IMPORT.findall(f.read_text(encoding="utf-8")))
    return found


def edges() -> dict:
    """name -> every module it declares or imports."""
    return {name: deps | imports(path) for name, (path, deps) in targets().items()}


def test_the_graph_is_read_from_the_package():
    # The checks below would pass vacuously on an empty graph.
    graph = edges()
    assert {"UV", "HTTP", "JSON", "CQRS", "EventStore", "API", "LiveFeeds", "App"} <= set(graph)
    assert SERVICES <= set(graph)
    assert "CLibUV" in graph["UV"] and "CQRS" in graph["Customers"] and {"Customers", "Orders"} <= graph[COMPOSITION_ROOT]


def test_services_never_depend_on_each_other():
    graph = edges()
    for service in SERVICES:
        others = (SERVICES - {service}) & graph[service]
        assert not others, f"{service} depends on {others}"


def test_only_the_c_boundary_modules_import_their_c_libraries():
    for module, deps in edges().items():
        for library, allowed in C_BOUNDARIES.items():
            if library in deps:
                assert module in allowed, f"{module} imports {library}; only {allowed} may"


def test_transport_and_json_know_no_domain():
    graph = edges()
    for module in ("HTTP", "JSON", "Metrics", "UV"):
        assert not (graph[module] & DOMAIN), f"{module} depends on {graph[module] & DOMAIN}"
    assert not (graph["JSON"] - {"Foundation"}), f"JSON depends on {graph['JSON']}"


def test_api_and_live_feeds_are_generic():
    graph = edges()
    for module in ("API", "LiveFeeds", "CQRS", "PublicEvents", "EventStore"):
        assert not (graph[module] & SERVICES), f"{module} depends on {graph[module] & SERVICES}"


def test_only_the_composition_root_depends_on_both_services():
    for module, deps in edges().items():
        if SERVICES <= deps:
            assert module == COMPOSITION_ROOT, f"{module} depends on both services; only {COMPOSITION_ROOT} may"


def test_unsafe_code_lives_only_at_the_c_boundaries():
    allowed = set().union(*C_BOUNDARIES.values())
    offenders = []
    for module, (path, _) in targets().items():
        if module in allowed or module in C_BOUNDARIES:
            continue
        for f in path.rglob("*.swift"):
            if UNSAFE.search(f.read_text(encoding="utf-8")):
                offenders.append(str(f.relative_to(REPO)))
    assert not offenders, f"unsafe pointer code outside the C boundaries: {offenders}"
