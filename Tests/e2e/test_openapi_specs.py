"""openapi/api.yaml and openapi/public-events.yaml are valid OpenAPI 3.1 documents, complete
(examples everywhere, problem bodies on errors) and in step with each other."""

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from openapi_support import API, API_PATH, EVENTS, EVENTS_PATH, ROOT, deref, event_schemas, is_sse, operations, validate as validate_instance, EVENTS_URI, API_URI


@pytest.mark.parametrize("path", [API_PATH, EVENTS_PATH, *sorted((ROOT / "openapi" / "released").glob("*.yaml"))], ids=lambda p: p.name)
def test_spec_is_valid_openapi_3_1(path):
    spec, _ = read_from_filename(str(path))
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_operation_has_an_id_a_description_and_examples():
    problems, ids = [], set()
    for path, method, op in operations():
        where = f"{method.upper()} {path}"
        if op.get("operationId") in ids or not op.get("operationId"):
            problems.append(f"{where}: missing or duplicate operationId")
        ids.add(op.get("operationId"))
        if not op.get("description"):
            problems.append(f"{where}: no description")
        body = op.get("requestBody", {}).get("content", {})
        for media, c in body.items():
            if "example" not in c and "examples" not in c:
                problems.append(f"{where}: request {media} without example")
        success = [deref(r) for s, r in op["responses"].items() if s.startswith("2")]
        assert success, f"{where}: no 2xx response"
        for r in success:
            for media, c in (r.get("content") or {}).items():
                if "example" not in c and "examples" not in c:
                    problems.append(f"{where}: response {media} without example")
    assert not problems, "\n".join(problems)


# Reports, not errors: the same JSON document whatever the outcome (a problem+json body is also
# listed where the connection limit can answer instead).
REPORTS = {("/admin/consistency", "409"), ("/health", "503"), ("/ready", "503")}


def test_every_error_response_is_a_problem():
    for path, method, op in operations():
        for status, raw in op["responses"].items():
            if not status.startswith(("4", "5")) or (path, status) in REPORTS and "application/json" in deref(raw)["content"]:
                continue
            content = deref(raw).get("content") or {}
            assert "application/problem+json" in content, f"{method.upper()} {path} {status}: no application/problem+json"
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_commands_and_queries_document_their_headers_and_statuses():
    for path, method, op in operations():
        names = {deref(p)["name"] for p in op.get("parameters", [])}
        statuses = set(op["responses"])
        if path.startswith("/commands/"):
            assert {"If-Match", "Idempotency-Key", "X-Correlation-ID"} <= names, path
            assert {"400", "409", "412", "413", "415", "422", "503"} <= statuses, path
            ok = deref(op["responses"]["201" if path.endswith(("/register", "/place")) else "200"])
            assert {"ETag", "X-Correlation-ID", "Idempotent-Replayed"} <= set(ok["headers"]), path
        if path.startswith("/queries/"):
            assert {"minPosition", "If-None-Match"} <= names, path
            assert {"200", "304", "400", "503"} <= statuses, path
            assert {"ETag", "Tributary-Position"} <= set(deref(op["responses"]["200"])["headers"]), path
        if path.startswith("/streams/"):
            assert is_sse(op) and {"Last-Event-ID", "lastEventId"} <= names, path


def test_the_envelope_in_the_api_spec_is_the_public_event_envelope():
    api_env = dict(API["components"]["schemas"]["PublicEventEnvelope"])
    ev_env = dict(EVENTS["components"]["schemas"]["PublicEventEnvelope"])
    api_env.pop("description"), ev_env.pop("description")
    assert api_env == ev_env


def test_event_schemas_are_versioned_strict_and_documented():
    schemas = EVENTS["components"]["schemas"]
    assert event_schemas(), "no event schemas"
    for (etype, version), name in event_schemas().items():
        s = schemas[name]
        assert name.endswith(f"V{version}"), name
        assert s["additionalProperties"] is False and set(s["required"]) <= set(s["properties"]), name
        assert "**When:**" in s["description"] and "**Consumers may rely on:**" in s["description"], name
        assert s["x-source"] in ("customers", "orders") and etype.startswith(s["x-source"][:-1]), name
        validate_instance(s["example"], f"#/components/schemas/{name}", EVENTS_URI)
        hook = EVENTS["webhooks"][f"{etype}.v{version}"]["post"]
        assert hook["requestBody"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["data"]["$ref"].endswith(name)


def test_schema_examples_validate():
    for spec, uri in ((API, API_URI), (EVENTS, EVENTS_URI)):
        for name, schema in spec["components"]["schemas"].items():
            if "example" in schema:
                validate_instance(schema["example"], f"#/components/schemas/{name}", uri)
    for path, method, op in operations():
        for status, raw in op["responses"].items():
            for media, c in (deref(raw).get("content") or {}).items():
                if "json" in media and "example" in c and "$ref" in c.get("schema", {}):
                    validate_instance(c["example"], c["schema"]["$ref"], API_URI)


def test_patterns_say_what_the_server_parses():
    """The patterns schemathesis generates from (ids, position tokens per view, entity tags,
    cursors) are the ones derived from the server's parsing rules (tributary_tools.openapi_patterns),
    and they accept the values the server issues and refuse what it refuses."""
    import base64
    import re
    from tributary_tools import openapi_patterns as p

    params = API["components"]["parameters"]
    assert params["IfMatch"]["schema"]["pattern"] == p.ENTITY_TAG
    for name, stores in (("MinPositionCustomers", ["customers", "public"]), ("MinPositionOrders", ["orders", "public"]),
                         ("MinPositionStats", ["orders"])):
        assert params[name]["schema"]["items"]["pattern"] == p.min_position(stores), name
    for name in ("CustomerId", "OrderId"):
        assert deref(params[name]["schema"])["pattern"] == "^[A-Za-z0-9_-]{1,64}$", name
    cursors = {}
    for path, method, op in operations():
        for raw in op.get("parameters", []):
            param = deref(raw)
            if param["name"] == "minPosition" and path.startswith("/queries/"):
                view = "Stats" if path == "/queries/stats" else "Customers" if "/customers" in path else "Orders"
                assert raw == {"$ref": f"#/components/parameters/MinPosition{view}"}, path
            if param["name"] == "cursor":
                cursors[path] = param["schema"]
    assert cursors["/queries/customers"]["pattern"] == p.customer_cursor()
    assert cursors["/queries/customers"]["maxLength"] == p.CURSOR_MAX_LENGTH["customers"]
    assert cursors["/queries/orders"]["pattern"] == p.order_cursor()
    assert cursors["/queries/orders"]["maxLength"] == p.CURSOR_MAX_LENGTH["orders"]

    def cursor(kind, key):   # Paging.cursor
        return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")

    customer, order = re.compile(p.customer_cursor()), re.compile(p.order_cursor())
    for key in ["c", "c-1001", "st-c0", "A_z-9" * 12 + "abcd", "x" * 62, "x" * 63]:
        value = cursor("c1", key)
        assert customer.match(value) and len(value) <= p.CURSOR_MAX_LENGTH["customers"], key
    assert len(cursor("c1", "x" * 65)) > p.CURSOR_MAX_LENGTH["customers"]
    for key in ["c 1", "é", "", "a/b"]:
        assert not customer.match(cursor("c1", key)), key
    assert not customer.match(cursor("o1", "12")) and not order.match(cursor("c1", "12"))
    for key in ["0", "2", "123456", "9" * 19]:
        assert order.match(cursor("o1", key)) and len(cursor("o1", key)) <= p.CURSOR_MAX_LENGTH["orders"], key
    for key in ["-1", "1a", "", " 1"]:
        assert not order.match(cursor("o1", key)), key
    assert customer.match("") and order.match("")

    tokens = re.compile(p.min_position(["customers", "public"]))
    for value in ["customers:1", "public:0,customers:42", "customers:" + "9" * 19, ""]:
        assert tokens.match(value), value
    for value in ["orders:1", "customers:", "customers:-1", "customers:1,", "Customers:1", "customers:" + "1" * 20]:
        assert not tokens.match(value), value
    tag = re.compile(p.ENTITY_TAG)
    for value in ['"3"', 'W/"3"', '"3.ab12"', '"none.1f"', '""', '"abc"']:
        assert tag.match(value), value
    for value in ['3', '*', '"1", "2"', 'W/3', '"a"b"']:
        assert not tag.match(value), value
