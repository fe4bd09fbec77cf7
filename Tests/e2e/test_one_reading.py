"""One reading: a request that two parsers could read two ways gets a 400 (415 for a declared
charset that is not UTF-8) and changes nothing: duplicate JSON members, non-NFC member names,
bodies that are not UTF-8, repeated single-value headers and query parameters. The property
test checks the server against a reference parser (Python's json with duplicate detection) on
generated texts."""

import json
import unicodedata

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cqrs_client import assert_problem, describe, new_id

REGISTER = "/commands/customers/register"
JSON_CT = {"Content-Type": "application/json"}


def body(customer_id: str, **over) -> dict:
    b = {"customerId": customer_id, "name": "One Reading", "email": "one@example.com", "creditLimit": 100, "currency": "EUR"}
    b.update(over)
    return b


def obj(pairs) -> bytes:
    """A JSON object text keeping member order and repeats: obj([("a", 1), ("a", 2)])."""
    return ("{" + ",".join(json.dumps(k) + ":" + json.dumps(v) for k, v in pairs) + "}").encode()


def register_pairs(customer_id: str) -> list:
    return list(body(customer_id).items())


def assert_absent(cqrs_api, customer_id: str) -> None:
    r = cqrs_api.get(f"/queries/customers/{customer_id}")
    assert r.status_code == 404, describe(r)


# --- bodies ---

def test_duplicate_member_is_refused_and_registers_nobody(cqrs_api):
    a, b = new_id(), new_id()
    pairs = [("customerId", a)] + register_pairs(b)
    r = cqrs_api.post(REGISTER, content=obj(pairs))
    p = assert_problem(r, 400, {"customerId"}, "duplicate-json-member")
    assert "customerId" in p["detail"], p
    for cid in (a, b):
        assert_absent(cqrs_api, cid)


def test_nested_duplicate_member_is_named_by_its_path(cqrs_api):
    c = cqrs_api.register(name="Nested Dup", credit_limit=10_000)
    text = ('{"customerId":%s,"currency":"EUR","lines":[{"sku":"A","quantity":1,"unitPrice":5},'
            '{"sku":"B","quantity":1,"quantity":9,"unitPrice":5}]}' % json.dumps(c["id"])).encode()
    r = cqrs_api.post("/commands/orders/place", content=text)
    assert_problem(r, 400, {"lines[1].quantity"}, "duplicate-json-member")


def test_duplicate_spelled_with_an_escape_is_a_duplicate(cqrs_api):
    cid = new_id()
    text = obj(register_pairs(cid))[:-1] + b',"n\\u0061me":"Other"}'
    assert_problem(cqrs_api.post(REGISTER, content=text), 400, {"name"}, "duplicate-json-member")
    assert_absent(cqrs_api, cid)


def test_member_name_not_in_nfc_is_refused(cqrs_api):
    cid = new_id()
    # KELVIN SIGN: the same as "K" to a parser comparing Unicode text, another name byte for byte.
    text = obj(register_pairs(cid) + [("\u212aey", 1)])
    assert_problem(cqrs_api.post(REGISTER, content=text), 400, {"\u212aey"}, "unnormalized-json-member")
    assert_absent(cqrs_api, cid)


def test_utf16_body_is_refused(cqrs_api):
    cid = new_id()
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        text = json.dumps(body(cid)).encode(encoding)
        r = cqrs_api.post(REGISTER, content=text)
        assert r.status_code == 400, describe(r)
        assert r.json()["type"] in ("/problems/body-not-utf8", "/problems/malformed-json"), describe(r)
    # With a byte order mark it is never valid UTF-8.
    assert_problem(cqrs_api.post(REGISTER, content=json.dumps(body(cid)).encode("utf-16")), 400, None, "body-not-utf8")
    assert_absent(cqrs_api, cid)


def test_invalid_utf8_is_refused(cqrs_api):
    cid = new_id()
    text = obj(register_pairs(cid)).replace(b'"One Reading"', b'"One \xc0\xafReading"')
    p = assert_problem(cqrs_api.post(REGISTER, content=text), 400, None, "body-not-utf8")
    assert "byte" in p["detail"], p
    assert_absent(cqrs_api, cid)


def test_utf8_byte_order_mark_is_ignored(cqrs_api):
    cid = new_id()
    r = cqrs_api.post(REGISTER, content=b"\xef\xbb\xbf" + json.dumps(body(cid)).encode())
    assert r.status_code == 201, describe(r)
    assert cqrs_api.customer(cid, min_position=r.json()["position"])["name"] == "One Reading"


def test_declared_charset_must_be_utf8(cqrs_api):
    cid = new_id()
    content = json.dumps(body(cid)).encode()
    for ct in ("application/json; charset=utf-16", "application/json;charset=ISO-8859-1", 'application/json; charset="latin1"'):
        r = cqrs_api.post(REGISTER, content=content, headers={"Content-Type": ct})
        assert_problem(r, 415, None, "unsupported-media-type")
    assert_absent(cqrs_api, cid)
    for ct in ("application/json; charset=UTF-8", 'application/json; charset="utf-8"'):
        cid = new_id()
        r = cqrs_api.post(REGISTER, content=json.dumps(body(cid)).encode(), headers={"Content-Type": ct})
        assert r.status_code == 201, describe(r)


def test_malformed_body_says_where(cqrs_api):
    r = cqrs_api.post(REGISTER, content=b'{"name":"A",}')
    p = assert_problem(r, 400, None, "malformed-json")
    assert "byte 12" in p["detail"], p


# --- headers ---

def post_with(server, headers: list, content: bytes) -> httpx.Response:
    return httpx.post(server + REGISTER, content=content, headers=headers, timeout=10)


@pytest.mark.parametrize("name,values", [
    ("Idempotency-Key", ["k-1", "k-2"]),
    ("Content-Type", ["application/json", "application/json"]),
    ("X-Correlation-ID", ["a", "b"]),
    ("If-Match", ['"1"', '"2"']),
    ("Authorization", ["Bearer x", "Bearer y"]),
])
def test_repeated_single_value_header_is_refused(server, cqrs_api, name, values):
    cid = new_id()
    headers = [("Content-Type", "application/json")] if name != "Content-Type" else []
    headers += [(name, v) for v in values]
    r = post_with(server, headers, json.dumps(body(cid)).encode())
    p = assert_problem(r, 400, {name}, "repeated-header")
    assert name in p["detail"], p
    assert_absent(cqrs_api, cid)


def test_one_idempotency_key_still_guards_the_retry(server, cqrs_api):
    cid = new_id()
    h = [("Content-Type", "application/json"), ("Idempotency-Key", "one-" + cid)]
    first = post_with(server, h, json.dumps(body(cid)).encode())
    again = post_with(server, h, json.dumps(body(cid)).encode())
    assert first.status_code == 201 and again.status_code == 201, describe(again)
    assert again.headers.get("idempotent-replayed") == "true", describe(again)


def test_repeated_last_event_id_is_refused(server):
    with httpx.stream("GET", server + "/streams/public", headers=[("Last-Event-ID", "1"), ("Last-Event-ID", "5")], timeout=10) as r:
        assert r.status_code == 400, r.status_code
        assert r.headers["content-type"].startswith("application/problem+json")
        assert json.loads(r.read())["type"] == "/problems/repeated-header"


def test_repeated_authorization_is_refused_before_authentication(auth_server):
    token = auth_server.tokens["writer"]
    cid = new_id()
    r = post_with(auth_server.base, [("Content-Type", "application/json"), ("Authorization", f"Bearer {token}"),
                                     ("Authorization", "Bearer other")], json.dumps(body(cid)).encode())
    assert_problem(r, 400, {"Authorization"}, "repeated-header")
    ok = post_with(auth_server.base, [("Content-Type", "application/json"), ("Authorization", f"Bearer {token}")],
                   json.dumps(body(cid)).encode())
    assert ok.status_code == 201, describe(ok)


def test_if_none_match_fields_form_one_list(cqrs_api):
    c = cqrs_api.register(name="Tagged")
    first = cqrs_api.get(f"/queries/customers/{c['id']}", params={"minPosition": c["position"]})
    etag = first.headers["etag"]
    r = cqrs_api.http.get(f"/queries/customers/{c['id']}", headers=[("If-None-Match", '"0.0"'), ("If-None-Match", etag)])
    assert r.status_code == 304, describe(r)


# --- query parameters ---

def test_repeated_single_value_parameter_is_refused(cqrs_api):
    r = cqrs_api.get("/queries/customers", params=[("limit", "1"), ("limit", "500")])
    p = assert_problem(r, 400, {"limit"}, "bad-query-parameter")
    assert "limit" in p["detail"], p
    r = cqrs_api.get("/public/events", params=[("after", "0"), ("after", "3")])
    assert_problem(r, 400, {"after"}, "bad-query-parameter")


def test_list_parameters_keep_their_form(cqrs_api):
    a, b = cqrs_api.register(name="List A"), cqrs_api.register(name="List B")
    cqrs_api.customer(b["id"], min_position=b["position"])
    r = cqrs_api.get("/queries/customers", params=[("limit", "5"), ("minPosition", a["position"]), ("minPosition", b["position"])])
    assert r.status_code == 200, describe(r)
    r = cqrs_api.get("/public/events", params=[("types", "customer.registered"), ("types", "customer.renamed")])
    assert r.status_code == 200, describe(r)


# --- the property: the server's reading is the reference parser's ---

NAMES = ["a", "b", "name", "sku", "K", "\u212a", "\u00e9", "e\u0301", "\u00c5", "\u212b", "x y"]
LEAVES = ["0", "-1", "1.5e3", "-0", "true", "false", "null", '"s"', '"\\u00e9"', '"\\ud83d\\ude00"', '"a\\"b"']
NOISE = [b",", b":", b"}", b"]", b"{", b"[", b'"', b"\\", b"\x00", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\\ud800",
         b"01", b" ", b"NaN"]


def escape_name(name: str, escaped: list[bool]) -> str:
    """`name` as a JSON string, the characters marked in `escaped` as \\u escapes (UTF-16 units)."""
    out = []
    for ch, esc in zip(name, escaped):
        if esc:
            units = ch.encode("utf-16-be")
            out.append("".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2)))
        else:
            out.append(json.dumps(ch, ensure_ascii=False)[1:-1])
    return '"' + "".join(out) + '"'


@st.composite
def json_text(draw, depth=0) -> str:
    kind = draw(st.integers(0, 2 if depth < 3 else 0))
    if kind == 0:
        return draw(st.sampled_from(LEAVES))
    if kind == 1:
        n = draw(st.integers(0, 3))
        return "[" + ",".join(draw(json_text(depth + 1)) for _ in range(n)) + "]"
    n = draw(st.integers(0, 4))
    members = []
    for _ in range(n):
        name = draw(st.sampled_from(NAMES))
        escaped = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
        members.append(escape_name(name, escaped) + ":" + draw(json_text(depth + 1)))
    return "{" + ",".join(members) + "}"


@st.composite
def request_body(draw) -> bytes:
    data = draw(json_text()).encode()
    for _ in range(draw(st.integers(0, 2)) if draw(st.booleans()) else 0):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(NOISE)) + data[at:]
    if draw(st.integers(0, 9)) == 0:
        data = data.decode("utf-8", "replace").encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-8-sig"])))
    return data


class Duplicate(Exception):
    pass


class Unnormalized(Exception):
    pass


def reference_reading(data: bytes) -> str:
    """What a strict reader makes of `data`: not-utf8, malformed, duplicate, unnormalized or ok."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")   # strict: no overlongs, no encoded surrogates
    except UnicodeDecodeError:
        return "not-utf8"

    def reject_constant(name):
        raise ValueError(name)

    try:
        value = json.loads(text, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        return "malformed"

    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                yield k
                yield from strings(x)
    for s in strings(value):
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:   # a lone surrogate escape
            return "malformed"
    found = set()

    def pairs_hook(pairs):
        names = set()
        for k, _ in pairs:
            canonical = unicodedata.normalize("NFC", k)
            if canonical in names:
                found.add("duplicate")
            names.add(canonical)
            if canonical != k:
                found.add("unnormalized")
        return dict(pairs)
    json.loads(text, object_pairs_hook=pairs_hook)
    if not found:
        return "ok"
    return found.pop() if len(found) == 1 else "ambiguous"


SERVER_TYPES = {"not-utf8": {"/problems/body-not-utf8"}, "malformed": {"/problems/malformed-json"},
                "duplicate": {"/problems/duplicate-json-member"}, "unnormalized": {"/problems/unnormalized-json-member"},
                "ambiguous": {"/problems/duplicate-json-member", "/problems/unnormalized-json-member"}}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=request_body())
def test_the_server_reads_a_body_as_the_reference_parser_does(cqrs_api, data):
    expected = reference_reading(data)
    r = cqrs_api.post(REGISTER, content=data)
    got = r.json().get("type") if r.headers.get("content-type", "").startswith("application/problem+json") else None
    if expected == "ok":
        assert r.status_code in (201, 409, 422), f"{data!r}: reference ok, server {describe(r)}"
    else:
        assert r.status_code == 400 and got in SERVER_TYPES[expected], f"{data!r}: reference {expected}, server {describe(r)}"
