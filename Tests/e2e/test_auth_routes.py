"""Authentication and authorization per route family: 401 without / with an unknown token
(with WWW-Authenticate), 403 without the scope, 2xx with it; open endpoints stay open."""

import uuid

import httpx
import pytest

from conftest import SSEConnection, raw_exchange

FAMILIES = {
    # family: (scope token that may, request factory)
    "commands": "writer",
    "queries": "reader",
    "public": "reader",
    "streams": "streamer",
    "admin": "auditor",
    "history": "auditor",
}
TOKEN_NAMES = ["writer", "reader", "streamer", "auditor", "everything-but-admin"]
# Which of the configured tokens may use each family (scopes are independent: admin is not a superset).
ALLOWED = {
    "commands": {"writer", "everything-but-admin"},
    "queries": {"reader", "everything-but-admin"},
    "public": {"reader", "everything-but-admin"},
    "streams": {"streamer", "everything-but-admin"},
    "admin": {"auditor"},
    "history": {"auditor"},
}


@pytest.fixture(scope="module")
def customer_id(auth_server):
    r = httpx.post(f"{auth_server.base}/commands/customers/register", headers=auth_server.auth("writer"),
                   json={"name": "Ann Auth", "email": f"{uuid.uuid4().hex[:10]}@example.com",
                         "creditLimit": 1000, "currency": "EUR"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def call(auth_server, family: str, customer_id: str, headers: dict) -> tuple[int, dict, bytes]:
    """One request of `family`; returns (status, lower-cased headers, body). Streams are read
    only up to their head (an SSE body never ends)."""
    base = auth_server.base
    if family == "streams":
        conn = SSEConnection(auth_server.address, "/streams/public", headers=headers)
        try:
            body = b"" if conn.status == 200 else conn.body()
            return conn.status, conn.headers, body
        finally:
            conn.close()
    if family == "commands":
        r = httpx.post(f"{base}/commands/customers/{customer_id}/rename", headers=headers,
                       json={"name": f"Ann {uuid.uuid4().hex[:6]}"})
    else:
        path = {"queries": f"/queries/customers/{customer_id}", "public": "/public/events",
                "admin": "/admin/consistency", "history": f"/queries/customers/{customer_id}/history"}[family]
        r = httpx.get(f"{base}{path}", headers=headers)
    return r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content


def problem(headers: dict, body: bytes) -> dict:
    import json
    assert headers["content-type"].startswith("application/problem+json"), headers
    return json.loads(body)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_no_token_is_401_with_challenge(auth_server, customer_id, family):
    status, headers, body = call(auth_server, family, customer_id, {})
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="tributary"'
    p = problem(headers, body)
    assert p["type"] == "/problems/unauthorized" and p["status"] == 401


@pytest.mark.parametrize("family", list(FAMILIES))
def test_unknown_token_is_401_invalid_token(auth_server, customer_id, family):
    status, headers, body = call(auth_server, family, customer_id, auth_server.auth("unknown"))
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="tributary", error="invalid_token"'
    assert problem(headers, body)["type"] == "/problems/invalid-token"


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("token", TOKEN_NAMES)
def test_scope_decides_403_or_2xx(auth_server, customer_id, family, token):
    status, headers, body = call(auth_server, family, customer_id, auth_server.auth(token))
    if token in ALLOWED[family]:
        assert 200 <= status < 300, (status, body[:300])
    else:
        assert status == 403, (status, body[:300])
        p = problem(headers, body)
        assert p["type"] == "/problems/insufficient-scope"
        assert 'error="insufficient_scope"' in headers["www-authenticate"]
        assert p["requiredScope"] == {"commands": "commands:write", "queries": "queries:read", "public": "queries:read",
                                      "streams": "streams:read", "admin": "admin", "history": "admin"}[family]


def test_other_schemes_and_malformed_headers_are_401(auth_server, customer_id):
    secret = auth_server.tokens["reader"]

    def get(authorization: str):
        request = (f"GET /queries/customers HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\n"
                   "Connection: close\r\n\r\n").encode()
        return raw_exchange(auth_server.address, request).responses[0]

    for value in [f"Basic {secret}", "Bearer", "Bearer ", f"Bearer{secret}", f"Token {secret}", f"Bearer {secret}x"]:
        r = get(value)
        assert r.status == 401, value
        assert r.header("WWW-Authenticate").startswith('Bearer realm="tributary"')
        assert secret.encode() not in r.body
    # The scheme is case-insensitive; surrounding whitespace is tolerated.
    assert get(f"bearer   {secret} ").status == 200


def test_open_endpoints_need_no_token(auth_server):
    base = auth_server.base
    for path in ["/health", "/ready", "/metrics", "/openapi/api.yaml"]:
        r = httpx.get(f"{base}{path}")
        assert r.status_code in (200, 503), (path, r.status_code)  # /ready may be 503 while replaying
        assert r.status_code != 401


def test_cors_preflight_needs_no_token(auth_server):
    r = httpx.request("OPTIONS", f"{auth_server.base}/commands/customers/register",
                      headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                               "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204, r.text
    assert "authorization" in r.headers["access-control-allow-headers"].lower()


def test_401_carries_cors_headers_for_browsers(auth_server):
    r = httpx.get(f"{auth_server.base}/queries/customers", headers={"Origin": "https://app.example"})
    assert r.status_code == 401
    assert r.headers.get("access-control-allow-origin") == "https://app.example"


def test_head_follows_get_scope(auth_server):
    r = httpx.head(f"{auth_server.base}/queries/customers")
    assert r.status_code == 401
    r = httpx.head(f"{auth_server.base}/queries/customers", headers=auth_server.auth("reader"))
    assert r.status_code == 200


def test_unknown_paths_stay_404(auth_server):
    r = httpx.get(f"{auth_server.base}/nope")
    assert r.status_code == 404


def test_announces_authentication_not_development_mode(auth_server):
    out = "\n".join(auth_server.server.output)
    assert "development mode" not in out
    assert "authentication: bearer API tokens required (5 configured)" in out


def test_the_console_session_cookie_opens_streams_but_never_authorizes_a_change(auth_server):
    """EventSource cannot send a header: the console exchanges its token for an HttpOnly,
    SameSite=Strict cookie that authorizes GET (its event streams) with that token's scopes, and
    nothing else."""
    base = auth_server.base
    r = httpx.post(f"{base}/ui/session", headers={"Authorization": f"Bearer {auth_server.tokens['unknown']}"})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    assert httpx.post(f"{base}/ui/session").status_code == 401
    r = httpx.post(f"{base}/ui/session", headers=auth_server.auth("auditor"))
    assert r.status_code == 204, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Max-Age" not in cookie, cookie
    # A token that can neither administer nor read streams gets no session.
    assert httpx.post(f"{base}/ui/session", headers=auth_server.auth("writer")).status_code == 403
    assert auth_server.tokens["auditor"] not in cookie
    session = {"Cookie": cookie.split(";")[0]}
    with httpx.stream("GET", f"{base}/streams/health", headers=session, timeout=5) as stream:
        assert stream.status_code == 200
    # The auditor's scopes only: no streams:read.
    with httpx.stream("GET", f"{base}/streams/public", headers=session, timeout=5) as stream:
        assert stream.status_code == 403
    # A cookie never authorizes a change, whatever its token may do.
    r = httpx.post(f"{base}/admin/components/customers/customers-directory/rebuild", headers=session,
                   json={"reason": "through a cookie"})
    assert r.status_code == 401, r.text
    assert httpx.get(f"{base}/admin/parked", headers={"Cookie": "tributary_session=forged"}).status_code == 401
    # Closed: the cookie is forgotten.
    assert httpx.delete(f"{base}/ui/session", headers=session).status_code == 204
    assert httpx.get(f"{base}/admin/parked", headers=session).status_code == 401
    # The console's files are open.
    r = httpx.get(f"{base}/ui/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
