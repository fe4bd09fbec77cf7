"""Self-test of scripts/check-public-events: each breaking change to a released event version
fails with a message naming it; each compatible change passes."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check-public-events"
RELEASED = ROOT / "openapi" / "released" / "public-events.v1.yaml"


def run(tmp_path, doc):
    current = tmp_path / "public-events.yaml"
    current.write_text(yaml.safe_dump(doc, sort_keys=False))
    r = subprocess.run([sys.executable, str(SCRIPT), str(current), str(RELEASED)], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture
def doc():
    return yaml.safe_load(RELEASED.read_text())


def schemas(d):
    return d["components"]["schemas"]


def test_current_spec_is_compatible_with_the_released_one():
    r = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_unchanged_copy_passes(tmp_path, doc):
    code, out = run(tmp_path, doc)
    assert code == 0, out


# --- breaking changes: (mutation, text expected in the message) ---

def remove_property(d):
    p = schemas(d)["OrderPlacedV1"]
    del p["properties"]["total"]
    p["required"].remove("total")


def rename_property(d):
    p = schemas(d)["OrderPlacedV1"]
    p["properties"]["orderTotal"] = p["properties"].pop("total")
    p["required"] = ["orderTotal" if r == "total" else r for r in p["required"]]


def change_type(d):
    schemas(d)["OrderPlacedV1"]["properties"]["total"] = {"type": "string"}


def change_format(d):
    schemas(d)["CustomerRegisteredV1"]["properties"]["creditLimit"]["format"] = "int32"


def nested_line_type(d):
    schemas(d)["OrderLineV1"]["properties"]["quantity"]["type"] = "number"


def new_required_property(d):
    p = schemas(d)["OrderShippedV1"]
    p["properties"]["carrier"] = {"type": "string"}
    p["required"].append("carrier")



def required_becomes_optional(d):
    schemas(d)["OrderCancelledV1"]["required"].remove("reason")


def narrow_enum(d):
    schemas(d)["CustomerCreditRejectedV1"]["properties"]["reason"]["enum"].remove("currency-mismatch")


def widen_enum(d):
    schemas(d)["CustomerCreditRejectedV1"]["properties"]["reason"]["enum"].append("fraud-suspected")


def remove_event_version(d):
    del schemas(d)["OrderRejectedV1"]


def renumber_event_version(d):
    schemas(d)["OrderRejectedV1"]["x-event-version"] = 2


def envelope_property_removed(d):
    env = schemas(d)["PublicEventEnvelope"]
    del env["properties"]["causationId"]
    env["required"].remove("causationId")


def envelope_nullability_changed(d):
    schemas(d)["PublicEventEnvelope"]["properties"]["correlationId"]["type"] = "string"


def tighter_pattern(d):
    schemas(d)["OrderLineV1"]["properties"]["sku"]["pattern"] = "^[A-Z0-9]{1,16}$"


def forbid_additional_in_envelope(d):
    schemas(d)["PublicEventEnvelope"]["additionalProperties"] = False


BREAKING = {
    "remove_property": (remove_property, "property 'total' was removed"),
    "rename_property": (rename_property, "property 'total' was removed"),
    "change_type": (change_type, "type changed"),
    "change_format": (change_format, "'format' changed"),
    "nested_line_type": (nested_line_type, "quantity: type changed"),
    "new_required_property": (new_required_property, "new property 'carrier' is required"),
    "required_becomes_optional": (required_becomes_optional, "'reason' is no longer required"),
    "narrow_enum": (narrow_enum, "enum narrowed"),
    "widen_enum": (widen_enum, "enum widened"),
    "remove_event_version": (remove_event_version, "order.rejected v1 (OrderRejectedV1): event version removed"),
    "renumber_event_version": (renumber_event_version, "order.rejected v1 (OrderRejectedV1): event version removed"),
    "envelope_property_removed": (envelope_property_removed, "PublicEventEnvelope: property 'causationId' was removed"),
    "envelope_nullability_changed": (envelope_nullability_changed, "correlationId: type changed"),
    "tighter_pattern": (tighter_pattern, "'pattern' changed"),
    "forbid_additional_in_envelope": (forbid_additional_in_envelope, "'additionalProperties' changed"),
}


@pytest.mark.parametrize("name", sorted(BREAKING))
def test_breaking_change_fails_with_a_clear_message(tmp_path, doc, name):
    mutate, expected = BREAKING[name]
    mutate(doc)
    code, out = run(tmp_path, doc)
    assert code == 1, f"{name} should be breaking:\n{out}"
    assert "BREAKING" in out and expected in out, out


def test_optional_property_made_required_fails(tmp_path, doc):
    released = copy.deepcopy(doc)
    released["components"]["schemas"]["OrderShippedV1"]["properties"]["note"] = {"type": "string"}
    rel_path = tmp_path / "released.yaml"
    rel_path.write_text(yaml.safe_dump(released))
    current = copy.deepcopy(released)
    current["components"]["schemas"]["OrderShippedV1"]["required"].append("note")
    cur_path = tmp_path / "current.yaml"
    cur_path.write_text(yaml.safe_dump(current))
    r = subprocess.run([sys.executable, str(SCRIPT), str(cur_path), str(rel_path)], capture_output=True, text=True)
    assert r.returncode == 1 and "property 'note' became required" in r.stdout, r.stdout


# --- compatible changes ---

def new_event_type(d):
    schemas(d)["OrderRefundedV1"] = {"x-event-type": "order.refunded", "x-event-version": 1, "type": "object",
                                     "required": ["orderId"], "properties": {"orderId": {"type": "string"}}}


def new_event_version(d):
    v2 = copy.deepcopy(schemas(d)["OrderPlacedV1"])
    v2["x-event-version"] = 2
    v2["properties"]["channel"] = {"type": "string", "enum": ["web", "store"]}
    v2["required"].append("channel")
    del v2["properties"]["total"]
    v2["required"].remove("total")
    schemas(d)["OrderPlacedV2"] = v2


def new_optional_property(d):
    schemas(d)["OrderShippedV1"]["properties"]["trackingNumber"] = {"type": "string", "description": "Carrier tracking number."}


def doc_change(d):
    p = schemas(d)["OrderPlacedV1"]
    p["description"] = "Reworded: " + p["description"]
    p["properties"]["total"]["description"] = "The order total."
    p["example"]["total"] = 1
    p["deprecated"] = True
    p["x-owner"] = "orders-team"
    d["info"]["description"] = "new words"


def property_order_change(d):
    p = schemas(d)["OrderPlacedV1"]
    p["properties"] = dict(reversed(list(p["properties"].items())))
    p["required"] = list(reversed(p["required"]))


def component_renamed_same_event(d):
    s = schemas(d)
    s["OrderShippedEvent"] = s.pop("OrderShippedV1")
    d["webhooks"]["order.shipped.v1"]["post"]["requestBody"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["data"]["$ref"] = "#/components/schemas/OrderShippedEvent"


COMPATIBLE = {f.__name__: f for f in [new_event_type, new_event_version, new_optional_property, doc_change,
                                      property_order_change, component_renamed_same_event]}


@pytest.mark.parametrize("name", sorted(COMPATIBLE))
def test_compatible_change_passes(tmp_path, doc, name):
    COMPATIBLE[name](doc)
    code, out = run(tmp_path, doc)
    assert code == 0, f"{name} should be compatible:\n{out}"


def test_new_event_version_is_reported(tmp_path, doc):
    new_event_version(doc)
    code, out = run(tmp_path, doc)
    assert code == 0 and "order.placed v2" in out, out


def test_unreadable_input_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("components: [unclosed")
    r = subprocess.run([sys.executable, str(SCRIPT), str(bad), str(RELEASED)], capture_output=True, text=True)
    assert r.returncode == 2, r.stdout + r.stderr
