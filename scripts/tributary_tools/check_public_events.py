"""Compatibility check of the public-event contract against its last released version.

Usage: scripts/check-public-events [CURRENT [RELEASED]]
       (defaults: openapi/public-events.yaml and the newest openapi/released/public-events.v*.yaml)

Policy (also in openapi/public-events.yaml `info.description`): a released event version is
frozen. Allowed: new event types, new versions, new *optional* payload properties, and
documentation changes (description, title, summary, example(s), deprecated, x-* except the
x-event-* identity). Anything a consumer could trip over fails:
  - an event version (x-event-type + x-event-version) removed;
  - a property removed (or renamed: removed + added);
  - a property's type, format, pattern, const, bounds, additionalProperties... changed;
  - a property newly required, or no longer required (consumers rely on its presence);
  - an enum narrowed (a value removed) or widened (consumers may switch exhaustively);
  - the envelope (PublicEventEnvelope) changed in any of these ways.
Exit status: 0 compatible, 1 breaking changes (each printed), 2 usage or unreadable input.
"""

import sys
from pathlib import Path

import yaml

from .server import ROOT
DOC_KEYS = {"description", "title", "summary", "example", "examples", "deprecated", "externalDocs", "$comment"}
ENVELOPE = "PublicEventEnvelope"


def resolve(node, doc, seen=()):
    """Inlines local `$ref`s (siblings of `$ref` are kept, 3.1-style)."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local $refs are supported: {ref}")
            if ref in seen:
                return {"$recursive": ref}
            target = doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            merged = dict(resolve(target, doc, seen + (ref,)))
            for k, v in node.items():
                if k != "$ref":
                    merged[k] = resolve(v, doc, seen)
            return merged
        return {k: resolve(v, doc, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, doc, seen) for v in node]
    return node


def strip_docs(node):
    if isinstance(node, dict):
        return {k: strip_docs(v) for k, v in node.items()
                if k not in DOC_KEYS and not (k.startswith("x-") and not k.startswith("x-event-"))}
    if isinstance(node, list):
        return [strip_docs(v) for v in node]
    return node


def compare(old, new, where, problems):
    """Appends a message for every consumer-visible difference between two resolved schemas."""
    old, new = strip_docs(old), strip_docs(new)
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            problems.append(f"{where}: schema changed from {old!r} to {new!r}")
        return
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(old_props.keys() - new_props.keys()):
        problems.append(f"{where}: property '{name}' was removed (or renamed)")
    for name in sorted(new_props.keys() - old_props.keys()):
        if name in new_req:
            problems.append(f"{where}: new property '{name}' is required (new properties must be optional)")
    for name in sorted(old_req - new_req):
        if name in new_props:
            problems.append(f"{where}: property '{name}' is no longer required")
    for name in sorted((new_req - old_req) & old_props.keys()):
        problems.append(f"{where}: property '{name}' became required")
    for name in sorted(old_props.keys() & new_props.keys()):
        compare(old_props[name], new_props[name], f"{where}.{name}", problems)
    if "enum" in old or "enum" in new:
        o, n = old.get("enum"), new.get("enum")
        if o is None or n is None:
            problems.append(f"{where}: enum {'added' if o is None else 'removed'} ({o!r} -> {n!r})")
        else:
            if removed := [v for v in o if v not in n]:
                problems.append(f"{where}: enum narrowed, values removed: {removed}")
            if added := [v for v in n if v not in o]:
                problems.append(f"{where}: enum widened, values added: {added} (consumers may not handle them: add a new version)")
    if "items" in old or "items" in new:
        if "items" in old and "items" in new:
            compare(old["items"], new["items"], f"{where}[]", problems)
        else:
            problems.append(f"{where}: 'items' {'removed' if 'items' in old else 'added'}")
    for key in sorted((old.keys() | new.keys()) - {"properties", "required", "enum", "items"}):
        if key == "additionalProperties" and isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            compare(old[key], new[key], f"{where}{{*}}", problems)
            continue
        if old.get(key) != new.get(key):
            label = "type" if key == "type" else f"'{key}'"
            problems.append(f"{where}: {label} changed from {old.get(key)!r} to {new.get(key)!r}")


def events(doc):
    """{(type, version): (component name, resolved schema)} plus the envelope."""
    schemas = doc.get("components", {}).get("schemas", {})
    out = {}
    for name, schema in schemas.items():
        if isinstance(schema, dict) and "x-event-type" in schema:
            key = (schema["x-event-type"], schema.get("x-event-version"))
            if key in out:
                raise ValueError(f"{key[0]} v{key[1]} is defined twice ({out[key][0]}, {name})")
            out[key] = (name, resolve(schema, doc))
    envelope = resolve(schemas[ENVELOPE], doc) if ENVELOPE in schemas else None
    return out, envelope


def check(current_doc, released_doc):
    problems = []
    cur, cur_env = events(current_doc)
    rel, rel_env = events(released_doc)
    if rel_env is not None:
        if cur_env is None:
            problems.append(f"{ENVELOPE}: removed")
        else:
            compare(rel_env, cur_env, ENVELOPE, problems)
    for key in sorted(rel, key=str):
        name, schema = rel[key]
        if key not in cur:
            problems.append(f"{key[0]} v{key[1]} ({name}): event version removed (publish it until it is retired)")
            continue
        compare(schema, cur[key][1], f"{key[0]} v{key[1]} ({cur[key][0]})", problems)
    added = sorted(set(cur) - set(rel), key=str)
    return problems, added


def newest_released():
    candidates = sorted((ROOT / "openapi" / "released").glob("public-events.v*.yaml"),
                        key=lambda p: [int(x) if x.isdigit() else x for x in p.stem.replace("public-events.v", "").split(".")])
    return candidates[-1] if candidates else None


def main(argv):
    if len(argv) > 2 or any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 2 if len(argv) > 2 else 0
    current = Path(argv[0]) if argv else ROOT / "openapi" / "public-events.yaml"
    released = Path(argv[1]) if len(argv) > 1 else newest_released()
    if released is None:
        print("check-public-events: no released version in openapi/released/", file=sys.stderr)
        return 2
    try:
        problems, added = check(yaml.safe_load(current.read_text()), yaml.safe_load(released.read_text()))
    except (OSError, yaml.YAMLError, KeyError, ValueError, AttributeError) as e:
        print(f"check-public-events: cannot compare {current} with {released}: {e}", file=sys.stderr)
        return 2
    if problems:
        print(f"check-public-events: {current} is NOT compatible with {released}:")
        for p in problems:
            print(f"  BREAKING: {p}")
        print("Released event versions are frozen: add a new version (e.g. OrderPlacedV2, x-event-version: 2) instead.")
        return 1
    extra = f"; new: {', '.join(f'{t} v{v}' for t, v in added)}" if added else ""
    print(f"check-public-events: {current.name} is compatible with {released.name}{extra}")
    return 0
