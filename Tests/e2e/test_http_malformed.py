"""Malformed and request-smuggling requests sent over a real socket to the running server.

Each must be refused with the expected status (400 unless noted) and the connection closed,
whether sent alone or pipelined after a valid request. Valid pipelined requests get
in-order responses.
"""

import pytest

from conftest import raw_exchange

HOST = b"Host: 127.0.0.1\r\n"


def req(head: bytes, body: bytes = b"") -> bytes:
    return head + b"\r\n" + body


def post(fields: bytes, body: bytes = b"") -> bytes:
    return b"POST /health HTTP/1.1\r\n" + HOST + fields + b"\r\n" + body


def chunked(body: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked\r\n", body)


# (id, bytes, expected status)
CORPUS = [
    # --- request line ---
    ("method-not-token", b"G(ET /health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("method-nul", b"GE\x00T /health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("empty-method", b" /health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("double-sp-after-method", b"GET  /health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("double-sp-before-version", b"GET /health  HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("trailing-sp", b"GET /health HTTP/1.1 \r\n" + HOST + b"\r\n", 400),
    ("tab-separator", b"GET\t/health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("space-in-target", b"GET /hea lth HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("target-not-origin-form", b"GET health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("absolute-form-userinfo", b"GET http://u@127.0.0.1/health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("absolute-form-no-host", b"GET http:///health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("authority-form", b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("authority-form", b"CONNECT 127.0.0.1:80 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("asterisk-not-options", b"GET * HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("target-ctl", b"GET /he\x01alth HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("target-del", b"GET /he\x7falth HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("target-non-ascii", b"GET /h\xc3\xa9 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("target-bad-percent", b"GET /health%zz HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("target-fragment", b"GET /health#x HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("version-lowercase", b"GET /health http/1.1\r\n" + HOST + b"\r\n", 400),
    ("version-garbage", b"GET /health HTTP/1.x\r\n" + HOST + b"\r\n", 400),
    ("version-missing", b"GET /health\r\n" + HOST + b"\r\n", 400),
    ("version-2", b"GET /health HTTP/2.0\r\n" + HOST + b"\r\n", 505),
    ("version-1.2", b"GET /health HTTP/1.2\r\n" + HOST + b"\r\n", 505),
    ("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    ("two-leading-empty-lines", b"\r\n\r\nGET /health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("leading-bare-lf", b"\nGET /health HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    # --- line endings ---
    ("bare-lf-request-line", b"GET /health HTTP/1.1\n" + HOST + b"\r\n", 400),
    ("bare-lf-header", b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\n\r\n", 400),
    ("bare-lf-end-of-head", b"GET /health HTTP/1.1\r\n" + HOST + b"\n", 400),
    ("all-bare-lf", b"GET /health HTTP/1.1\nHost: 127.0.0.1\n\n", 400),
    ("bare-cr-request-line", b"GET /health HTTP/1.1\rHost: 127.0.0.1\r\n\r\n", 400),
    ("bare-cr-in-value", b"GET /health HTTP/1.1\r\n" + HOST + b"X: a\rb\r\n\r\n", 400),
    # --- fields ---
    ("obs-fold", b"GET /health HTTP/1.1\r\n" + HOST + b"X: a\r\n b\r\n\r\n", 400),
    ("obs-fold-tab", b"GET /health HTTP/1.1\r\n" + HOST + b"X: a\r\n\tb\r\n\r\n", 400),
    ("leading-ws-first-field", b"GET /health HTTP/1.1\r\n Host: 127.0.0.1\r\n\r\n", 400),
    ("ws-before-colon", b"GET /health HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n", 400),
    ("tab-before-colon", b"GET /health HTTP/1.1\r\n" + HOST + b"X\t: 1\r\n\r\n", 400),
    ("name-not-token", b"GET /health HTTP/1.1\r\n" + HOST + b"X(y: 1\r\n\r\n", 400),
    ("empty-name", b"GET /health HTTP/1.1\r\n" + HOST + b": 1\r\n\r\n", 400),
    ("no-colon", b"GET /health HTTP/1.1\r\n" + HOST + b"NoColon\r\n\r\n", 400),
    ("nul-in-value", b"GET /health HTTP/1.1\r\n" + HOST + b"X: a\x00b\r\n\r\n", 400),
    ("ctl-in-value", b"GET /health HTTP/1.1\r\n" + HOST + b"X: a\x1bb\r\n\r\n", 400),
    ("del-in-value", b"GET /health HTTP/1.1\r\n" + HOST + b"X: a\x7f\r\n\r\n", 400),
    ("nul-in-name", b"GET /health HTTP/1.1\r\n" + HOST + b"X\x00Y: 1\r\n\r\n", 400),
    ("missing-host", b"GET /health HTTP/1.1\r\n\r\n", 400),
    ("duplicate-host", b"GET /health HTTP/1.1\r\n" + HOST + HOST + b"\r\n", 400),
    ("duplicate-host-http10", b"GET /health HTTP/1.0\r\n" + HOST + HOST + b"\r\n", 400),
    ("host-with-space", b"GET /health HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("connection-not-token", b"GET /health HTTP/1.1\r\n" + HOST + b"Connection: clo se\r\n\r\n", 400),
    ("expect-unknown", post(b"Expect: 200-ok\r\nContent-Length: 0\r\n"), 417),
    # --- Content-Length ---
    ("cl-duplicate-equal", post(b"Content-Length: 2\r\nContent-Length: 2\r\n", b"hi"), 400),
    ("cl-duplicate-differ", post(b"Content-Length: 2\r\nContent-Length: 3\r\n", b"hi!"), 400),
    ("cl-list", post(b"Content-Length: 2, 2\r\n", b"hi"), 400),
    ("cl-plus", post(b"Content-Length: +2\r\n", b"hi"), 400),
    ("cl-negative", post(b"Content-Length: -1\r\n", b"hi"), 400),
    ("cl-empty", post(b"Content-Length:\r\n", b"hi"), 400),
    ("cl-space", post(b"Content-Length:  \r\n", b"hi"), 400),
    ("cl-hex", post(b"Content-Length: 0x2\r\n", b"hi"), 400),
    ("cl-overflow", post(b"Content-Length: 99999999999999999999999\r\n", b"hi"), 400),
    ("cl-ws-before-colon", post(b"Content-Length : 2\r\n", b"hi"), 400),
    # --- Transfer-Encoding and smuggling classics ---
    ("cl-te", post(b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\nG"), 400),
    ("te-cl", post(b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                   b"8\r\nSMUGGLED\r\n0\r\n\r\n"), 400),
    ("te-xchunked", post(b"Transfer-Encoding: xchunked\r\n", b"0\r\n\r\n"), 400),
    ("te-space-before-colon", post(b"Transfer-Encoding : chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-chunked-identity", post(b"Transfer-Encoding: chunked, identity\r\n", b"0\r\n\r\n"), 400),
    ("te-identity", post(b"Transfer-Encoding: identity\r\n", b""), 400),
    ("te-gzip-chunked", post(b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-chunked-chunked", post(b"Transfer-Encoding: chunked, chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-duplicate", post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-obs-fold", post(b"Transfer-Encoding:\r\n chunked\r\n", b"0\r\n\r\n"), 400),
    ("te-vtab", post(b"Transfer-Encoding: \x0bchunked\r\n", b"0\r\n\r\n"), 400),
    ("te-quoted", post(b"Transfer-Encoding: \"chunked\"\r\n", b"0\r\n\r\n"), 400),
    ("te-http10", b"POST /health HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te-cl-http10", b"POST /health HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    # --- chunked framing ---
    ("chunk-size-non-hex", chunked(b"g\r\nx\r\n0\r\n\r\n"), 400),
    ("chunk-size-empty", chunked(b"\r\nx\r\n0\r\n\r\n"), 400),
    ("chunk-size-negative", chunked(b"-1\r\nx\r\n0\r\n\r\n"), 400),
    ("chunk-size-overflow", chunked(b"FFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n"), 400),
    ("chunk-size-2^64", chunked(b"10000000000000000\r\nx\r\n0\r\n\r\n"), 400),
    ("chunk-size-trailing-space", chunked(b"1 \r\nx\r\n0\r\n\r\n"), 400),
    ("chunk-size-bare-lf", chunked(b"1\nx\r\n0\r\n\r\n"), 400),
    ("chunk-data-too-long", chunked(b"1\r\nxy\r\n0\r\n\r\n"), 400),
    ("chunk-data-bare-lf", chunked(b"1\r\nx\n0\r\n\r\n"), 400),
    ("chunk-data-no-crlf", chunked(b"1\r\nx0\r\n\r\n"), 400),
    ("chunk-ext-empty", chunked(b"1;\r\nx\r\n0\r\n\r\n"), 400),
    ("chunk-ext-bad-value", chunked(b"1;a=b c\r\nx\r\n0\r\n\r\n"), 400),
    ("last-chunk-bare-lf", chunked(b"1\r\nx\r\n0\n\r\n"), 400),
    ("trailer-obs-fold", chunked(b"0\r\nX: 1\r\n 2\r\n\r\n"), 400),
    ("trailer-no-colon", chunked(b"0\r\nNoColon\r\n\r\n"), 400),
    ("trailer-nul", chunked(b"0\r\nX: \x00\r\n\r\n"), 400),
    # --- limits ---
    ("request-line-too-long", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
    ("header-block-too-large", b"GET /health HTTP/1.1\r\n" + HOST + b"X: " + b"v" * 17000 + b"\r\n\r\n", 431),
    ("too-many-fields", b"GET /health HTTP/1.1\r\n" + HOST
     + b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n", 431),
    ("content-length-over-limit", post(b"Content-Length: 2000000\r\n"), 413),
    ("chunked-over-limit", chunked(b"200000\r\n"), 413),
]


@pytest.mark.parametrize("name,data,status", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_request_is_refused_and_connection_closed(server_address, name, data, status):
    result = raw_exchange(server_address, data)
    assert result.statuses == [status], f"{name}: got {result.statuses}, raw={result.raw[:300]!r}"
    assert result.closed, f"{name}: connection left open after {status}"
    assert not result.reset or result.responses, f"{name}: connection reset before the response"


@pytest.mark.parametrize("name,data,status", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_request_after_valid_one_is_refused_and_connection_closed(server_address, name, data, status):
    valid = b"GET /health HTTP/1.1\r\n" + HOST + b"\r\n"
    result = raw_exchange(server_address, valid + data)
    assert result.statuses == [200, status], f"{name}: got {result.statuses}, raw={result.raw[:300]!r}"
    assert result.closed, f"{name}: connection left open after {status}"


def test_body_limit_is_answered_before_the_body_is_sent(server_address):
    # Only the head goes out; the 413 must come without waiting for 2 MB that never arrive.
    result = raw_exchange(server_address, post(b"Content-Length: 2000000\r\n"), timeout=5.0)
    assert result.statuses == [413]
    assert result.closed


def test_byte_at_a_time_malformed_request_is_refused(server_address):
    data = post(b"Content-Length: 1\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n")
    result = raw_exchange(server_address, data, pieces=[bytes([b]) for b in data])
    assert result.statuses == [400]
    assert result.closed


def test_valid_pipelined_requests_get_in_order_responses(server_address):
    batch = (
        b"GET /health HTTP/1.1\r\n" + HOST + b"\r\n"
        + b"GET /no-such-route HTTP/1.1\r\n" + HOST + b"\r\n"
        + b"GET /health HTTP/1.1\r\n" + HOST + b"\r\n"
        + b"GET /no-such-route-either HTTP/1.1\r\n" + HOST + b"\r\n"
        + b"\r\nGET /health?x=1 HTTP/1.1\r\n" + HOST + b"\r\n"   # one leading CRLF is ignored
        + b"GET /health HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    )
    result = raw_exchange(server_address, batch)
    assert result.statuses == [200, 404, 200, 404, 200, 200]
    assert result.closed, "Connection: close must close after the last response"


def test_valid_pipelined_requests_fed_byte_at_a_time(server_address):
    batch = (b"GET /health HTTP/1.1\r\n" + HOST + b"\r\n") * 3 + b"GET /nope HTTP/1.1\r\n" + HOST + b"\r\n"
    result = raw_exchange(server_address, batch, want=4, pieces=[batch[i:i + 5] for i in range(0, len(batch), 5)])
    assert result.statuses == [200, 200, 200, 404]
    assert not result.closed


def test_http10_closes_by_default(server_address):
    result = raw_exchange(server_address, b"GET /health HTTP/1.0\r\n\r\n")
    assert result.statuses == [200]
    assert result.closed


def test_server_still_serves_after_the_corpus(server_address):
    result = raw_exchange(server_address, b"GET /health HTTP/1.1\r\n" + HOST + b"\r\n", want=1)
    assert result.statuses == [200]


def test_absolute_form_is_served_as_its_path(server_address):
    # RFC 9112 3.2.2: a server MUST accept the absolute-form; the Host field is then ignored.
    data = (b"GET http://127.0.0.1/ready HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n"
            + b"GET HTTP://127.0.0.1:1/no-such-route?x=1 HTTP/1.1\r\n" + HOST + b"\r\n")
    result = raw_exchange(server_address, data, want=2)
    assert result.statuses == [200, 404], result.raw[:300]
    assert b'"/no-such-route"' in result.raw, result.raw[:600]


def test_options_asterisk_describes_the_server(server_address):
    result = raw_exchange(server_address, b"OPTIONS * HTTP/1.1\r\n" + HOST + b"\r\n", want=1)
    assert result.statuses == [204], result.raw[:300]
    allow = [line for line in result.raw.split(b"\r\n") if line.lower().startswith(b"allow:")]
    assert allow, result.raw[:300]
    methods = {m.strip() for m in allow[0].split(b":", 1)[1].split(b",")}
    assert {b"GET", b"HEAD", b"POST", b"OPTIONS"} <= methods, allow
    assert not result.closed
