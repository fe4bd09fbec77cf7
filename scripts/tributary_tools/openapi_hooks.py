"""Schemathesis hooks for `scripts/tool check-openapi` (loaded through SCHEMATHESIS_HOOKS).

Two adjustments keep the generated requests meaningful without bending the spec:

- `minPosition` tokens are clamped to positions the server has reached. An unreached token
  makes the server wait 5 s and answer a documented 503 `position-not-reached` (tested in
  Tests/e2e/test_openapi_conformance.py); left alone, generated tokens would turn the run into
  a series of 5 s waits and every 503 into a "server error" finding.
- Three of four generated `If-Match` headers are dropped: a positive case with a random
  expected version is almost always a (correct) 412, which would hide the command's own logic.
- A schema-valid `Idempotency-Key` gets a suffix naming the request (method, path, body): the
  same key with a different request is a correct 422 (`/problems/idempotency-key-reused`), and
  the examples phase sends the spec's one example key with every command's body; left alone,
  that 422 would have to be accepted on every command, hiding a 422 that is a real mismatch
  between the spec and the server. A key the spec refuses is left as generated (400).
- Member names in generated bodies are put in Unicode NFC (at every depth). The server refuses a
  body naming a member in another form (400 `/problems/unnormalized-json-member`: the "one
  reading" rule in the spec's description), which JSON Schema cannot express for the unknown
  members the command schemas allow; the declared members are ASCII, so this changes no
  declared member and no case's validity.
- Half of the schema-valid `{id}` path parameters are replaced by ids of entities the script
  seeded (TRIBUTARY_SEED_IDS), so commands and queries reach their business logic instead of
  answering 404 for random ids. The choice is a hash of the generated id: deterministic per seed.
"""

import json
import os
import re
import unicodedata
import zlib

import schemathesis

SEED = json.loads(os.environ.get("TRIBUTARY_SEED_IDS", '{"customers": [], "orders": []}'))
TOKEN = re.compile(r"^\s*([^:,]*):(\d+)\s*$")
KEY = re.compile(r"^[!-~]{1,255}$")
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _clamp(value):
    if isinstance(value, list):
        return [_clamp(v) for v in value]
    if not isinstance(value, str):
        return value
    parts = []
    for part in value.split(","):
        m = TOKEN.match(part)
        parts.append(f"{m.group(1)}:{min(int(m.group(2)), 1)}" if m else part)
    return ",".join(parts)


def _nfc_names(value):
    if isinstance(value, dict):
        return {unicodedata.normalize("NFC", k) if isinstance(k, str) else k: _nfc_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nfc_names(v) for v in value]
    return value


def _is_unset(body):
    return type(body).__name__ == "NotSet"


@schemathesis.hook
def before_call(context, case, kwargs=None):
    if case.query and "minPosition" in case.query:
        case.query["minPosition"] = _clamp(case.query["minPosition"])
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "if-match" and zlib.crc32(str(headers[name]).encode("utf-8", "surrogatepass")) % 4:
            del headers[name]
    if isinstance(case.body, (dict, list)):
        case.body = _nfc_names(case.body)
    params = case.path_parameters or {}
    ident = params.get("id")
    if isinstance(ident, str) and ID.match(ident):   # an id the spec refuses stays (a negative case)
        path = case.operation.path
        pool = SEED["orders"] if "/orders/" in path else SEED["customers"] if "/customers/" in path else []
        h = zlib.crc32(ident.encode("utf-8", "surrogatepass"))
        if pool and h % 2 == 0:
            params["id"] = pool[(h >> 1) % len(pool)]
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str) and KEY.match(headers[name]):
            request = json.dumps([case.method, case.formatted_path, case.body if not _is_unset(case.body) else None],
                                 sort_keys=True, default=repr)
            suffix = "-%08x" % zlib.crc32(request.encode("utf-8", "surrogatepass"))
            headers[name] = headers[name][: 255 - len(suffix)] + suffix
