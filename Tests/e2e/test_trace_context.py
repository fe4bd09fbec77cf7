"""W3C trace context: a command sent with `traceparent` is a span of the caller's trace. The
response names that span, the public events of the whole saga (order.placed, the credit
reservation the customers service publishes in reaction, order.approved) carry the same trace
id with spans of their own, and without X-Correlation-ID the trace id correlates them. A
malformed or repeated traceparent is ignored, never trusted."""

import json
import re

from cqrs_client import line, poll

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
VALUE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def test_a_saga_joins_the_callers_trace(cqrs_api):
    api = cqrs_api
    c = api.register(name="Traced Customer", credit_limit=10_000)
    r = api.post("/commands/orders/place", {"customerId": c["id"], "currency": "EUR", "lines": [line("T", 1, 100)]},
                 headers={"traceparent": PARENT})
    assert r.status_code == 201, r.text
    span = VALUE.match(r.headers["traceparent"])
    assert span and span.group(1) == TRACE and span.group(2) != "00f067aa0ba902b7" and span.group(3) == "01"
    assert r.headers["x-correlation-id"] == TRACE
    oid = r.json()["id"]
    api.wait_order(oid, "approved")

    def saga():
        events = api.public_events()
        return [e for e in events if e["data"].get("orderId") == oid]
    events = poll(saga, lambda es: {"order.placed", "customer.credit-reserved", "order.approved"} <= {e["type"] for e in es},
                  15, "the saga's public events")
    by_type = {e["type"]: e for e in events}
    spans = set()
    for kind in ("order.placed", "customer.credit-reserved", "order.approved"):
        m = VALUE.match(by_type[kind].get("traceparent", ""))
        assert m and m.group(1) == TRACE, by_type[kind]
        assert by_type[kind]["correlationId"] == TRACE, by_type[kind]
        spans.add(m.group(2))
    # order.placed was published by the command's own span; each reaction is a span of its own.
    assert VALUE.match(by_type["order.placed"]["traceparent"]).group(2) == span.group(2)
    assert len(spans) == 3, spans


def test_malformed_or_repeated_traceparent_is_ignored(cqrs_api):
    api = cqrs_api
    for headers in ({"traceparent": "00-" + "0" * 32 + "-00f067aa0ba902b7-01"},
                    {"traceparent": "not a trace"},
                    [("traceparent", PARENT), ("traceparent", PARENT)]):
        body = json.dumps({"name": "Untraced", "email": "u@example.com", "creditLimit": 1, "currency": "EUR"}).encode()
        fields = list(headers.items()) if isinstance(headers, dict) else headers
        r = api.http.post("/commands/customers/register", content=body, headers=[("Content-Type", "application/json"), *fields])
        assert r.status_code == 201, r.text
        assert "traceparent" not in r.headers
        assert r.headers["x-correlation-id"] != TRACE
        cid = r.json()["id"]
        events = poll(lambda: [e for e in api.public_events(types="customer.registered") if e["data"]["customerId"] == cid],
                      bool, 15, "customer.registered")
        assert "traceparent" not in events[0], events[0]
