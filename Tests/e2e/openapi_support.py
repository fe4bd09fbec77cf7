"""Helpers for the OpenAPI tests: load the specs, find an operation's response schema for a
status, validate real responses (status, content type, headers, body) with jsonschema."""

import re
from pathlib import Path

import jsonschema
import referencing
import yaml
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
API_PATH = ROOT / "openapi" / "api.yaml"
EVENTS_PATH = ROOT / "openapi" / "public-events.yaml"
API_URI = "urn:tributary:openapi:api"
EVENTS_URI = "urn:tributary:openapi:public-events"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def load(path):
    return yaml.safe_load(Path(path).read_text())


API = load(API_PATH)
EVENTS = load(EVENTS_PATH)
REGISTRY = referencing.Registry().with_resources([
    (API_URI, DRAFT202012.create_resource(API)),
    (EVENTS_URI, DRAFT202012.create_resource(EVENTS)),
])
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


def pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def deref(node, doc=API):
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def ref_pointer(node, fallback):
    """The JSON pointer of `node` (following one `$ref`), for building `$ref`-based validators."""
    return node["$ref"] if isinstance(node, dict) and "$ref" in node else fallback


def validate(instance, ref, base=API_URI):
    """Validates `instance` against the schema at `ref` (a `#/...` pointer) of a spec; raises on error."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": base + ref}
    validator = jsonschema.Draft202012Validator(schema, registry=REGISTRY, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        raise AssertionError("; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5])
                             + f"\ninstance: {str(instance)[:600]}")


def operations(doc=API):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def is_sse(op):
    return any("text/event-stream" in (deref(r).get("content") or {}) for r in op["responses"].values())


def template_regex(path):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


_TEMPLATES = [(template_regex(p), p) for p in API["paths"]]


def match_path(path):
    """The spec's path template for a concrete path (literal paths win over templates)."""
    matches = [t for rx, t in _TEMPLATES if rx.match(path)]
    matches.sort(key=lambda t: t.count("{"))
    return matches[0] if matches else None


class Conformance:
    """Checks responses against api.yaml and records which (operation, status) were seen."""

    def __init__(self):
        self.seen = set()

    def check(self, response, template=None):
        method = response.request.method.lower()
        path = response.request.url.path
        template = template or match_path(path)
        assert template, f"{method.upper()} {path}: no such path in api.yaml"
        op = API["paths"][template].get(method)
        assert op, f"{method.upper()} {template}: not in api.yaml"
        status = str(response.status_code)
        responses = op["responses"]
        key = status if status in responses else f"{status[0]}XX" if f"{status[0]}XX" in responses else "default"
        assert key in responses, f"{method.upper()} {path}: status {status} is not documented ({sorted(responses)}): {response.text[:300]}"
        raw = responses[key]
        spec_response = deref(raw)
        base_ptr = ref_pointer(raw, pointer("paths", template, method, "responses", key))
        content = spec_response.get("content") or {}
        if response.status_code in (204, 304) or method == "head":
            assert not response.content, f"{status} with a body"
        elif content:
            ctype = response.headers.get("content-type", "")
            media = next((m for m in content if m == ctype or m.split(";")[0].strip() == ctype.split(";")[0].strip()), None)
            assert media, f"{method.upper()} {path} {status}: content type {ctype!r} not in {list(content)}"
            if "json" in media:
                schema_ptr = base_ptr + "/content/" + media.replace("~", "~0").replace("/", "~1") + "/schema"
                validate(response.json(), schema_ptr)
        for name, header in (spec_response.get("headers") or {}).items():
            value = response.headers.get(name)
            hdr = deref(header)
            if value is None:
                assert not hdr.get("required"), f"required header {name} missing"
                continue
            if hdr.get("schema"):
                validate(value, ref_pointer(header, base_ptr + "/headers/" + name) + "/schema")
        self.seen.add((template, method, status))
        return response


def event_schemas():
    """{(type, version): component name} of public-events.yaml."""
    return {(s["x-event-type"], s["x-event-version"]): name
            for name, s in EVENTS["components"]["schemas"].items() if "x-event-type" in s}


def validate_public_event(envelope):
    """Validates an envelope (with `data`) against public-events.yaml: the envelope schema and the
    payload schema of its (type, version); returns the schema name."""
    body = {k: v for k, v in envelope.items() if k != "position"}
    validate(body, "#/components/schemas/PublicEventEnvelope", EVENTS_URI)
    name = event_schemas().get((envelope["type"], envelope["version"]))
    assert name, f"{envelope['type']} v{envelope['version']} has no schema in public-events.yaml"
    schema = EVENTS["components"]["schemas"][name]
    assert envelope["source"] == schema["x-source"], envelope
    validate(envelope["data"], f"#/components/schemas/{name}", EVENTS_URI)
    return name
