"""The regular expressions openapi/api.yaml gives for the values the server parses by rule,
derived from those rules so the spec says exactly what the server accepts (schemathesis sends
any string that matches a pattern as valid input, and anything else as invalid input).

    python3 -c 'from tributary_tools import openapi_patterns as p; print(p.customer_cursor())'

Tests/e2e/test_openapi_specs.py checks that the spec holds these patterns.

- Cursors (`Paging.cursor` in Sources/CQRS/Paging.swift): base64url without padding of
  `<kind>:<key>`; the customer list's kind is `c1` and its key a customer id (1-64 of
  A-Z a-z 0-9 _ -), the order list's kind `o1` and its key a creation position (decimal). An
  empty cursor is no cursor. As `c1:` and `o1:` are 3 bytes, they encode to 4 characters of
  their own (`YzE6`, `bzE6`) and the key's bytes encode in groups of 3 after them.
- Position tokens (`QueryEndpoint.minPositions`): a `minPosition` value is `<store>:<position>`
  of a store the view is fed from, or several joined by commas; empty is no token. (The server
  also reads white space around a token, an empty part, a `+` and a 20-digit position within
  UInt64: leniencies the spec does not advertise.)
- Entity tags (`EntityTag.expectedVersion`): one RFC 9110 entity-tag, weak or strong.
"""

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ID_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
DIGIT_BYTES = frozenset(b"0123456789")
# Positions are UInt64: 19 digits always fit.
POSITION = r"[0-9]{1,19}"


def _char_class(values):
    """A regex character class for base64url digits (6-bit values)."""
    values = sorted(set(values))
    parts, i = [], 0
    while i < len(values):
        j = i
        # A range must stay inside one run of consecutive ASCII characters of the alphabet.
        while j + 1 < len(values) and values[j + 1] == values[j] + 1 and ord(B64[values[j + 1]]) == ord(B64[values[j]]) + 1:
            j += 1
        a, b = B64[values[i]], B64[values[j]]
        a, b = ("\\-" if a == "-" else a), ("\\-" if b == "-" else b)
        parts.append(a if i == j else a + b if j == i + 1 else f"{a}-{b}")
        i = j + 1
    text = "".join(parts)
    return text if len(values) == 1 and len(text) == 1 else f"[{text}]"


def _alternatives(items):
    return items[0] if len(items) == 1 else "(?:" + "|".join(items) + ")"


def _classes(allowed, high_bits):
    """Groups the values of the top `high_bits` bits of the allowed bytes by the set of low bits
    that complete them: {frozenset(low values): [top values]}."""
    low_bits = 8 - high_bits
    out = {}
    for top in range(1 << high_bits):
        lows = frozenset(b & ((1 << low_bits) - 1) for b in allowed if b >> low_bits == top)
        if lows:
            out.setdefault(lows, []).append(top)
    return out


def _base64_bytes(allowed, count):
    """Regex for the canonical unpadded base64url text of `count` (1-3) bytes, each in `allowed`.
    Characters: c1 = b1>>2, c2 = (b1&3)<<4 | b2>>4, c3 = (b2&15)<<2 | b3>>6, c4 = b3&63."""
    first = _classes(allowed, 6)             # b1's top 6 bits (c1) -> its possible low 2 bits
    if count == 1:
        return _alternatives([_char_class(tops) + _char_class([low << 4 for low in lows]) for lows, tops in first.items()])
    middle = _classes(allowed, 4)            # b2's top 4 bits -> its possible low 4 bits
    out = []
    for lows4, tops4 in middle.items():      # factored by b2's class: c1 c2 | c3 (c4)
        head = _alternatives([_char_class(tops) + _char_class([(low << 4) | top for low in lows for top in tops4])
                              for lows, tops in first.items()])
        if count == 2:
            out.append(head + _char_class([low << 2 for low in lows4]))
            continue
        last = _classes(allowed, 2)          # b3's top 2 bits -> its possible low 6 bits (c4)
        tail = _alternatives([_char_class([(low << 2) | top for low in lows4 for top in tops2]) + _char_class(lows6)
                              for lows6, tops2 in last.items()])
        out.append(head + tail)
    return _alternatives(out)


def _cursor(prefix, allowed):
    """`^(?:<prefix>(?:G)*(?:G|R1|R2))?$`: base64url of `<prefix>:<key>` with a key of 1 or more
    bytes in `allowed` (its length bound is the parameter's maxLength), or empty."""
    import base64
    head = base64.urlsafe_b64encode(prefix.encode()).decode()
    assert len(prefix) == 3 and "=" not in head
    group = _base64_bytes(allowed, 3)
    end = _alternatives([group, _base64_bytes(allowed, 1), _base64_bytes(allowed, 2)])
    return f"^(?:{head}(?:{group})*{end})?$"


def customer_cursor():
    """Cursor of GET /queries/customers: base64url of `c1:<customer id>`; with maxLength 90
    (a 64-character id encodes to 4 + 86 characters)."""
    return _cursor("c1:", ID_BYTES)


def order_cursor():
    """Cursor of GET /queries/orders: base64url of `o1:<position>` with 1-19 digits; with
    maxLength 30 (19 digits encode to 4 + 26 characters)."""
    return _cursor("o1:", DIGIT_BYTES)


CURSOR_MAX_LENGTH = {"customers": 90, "orders": 30}


def min_position(stores):
    """One `minPosition` value for a view fed from `stores`: tokens of those stores joined by
    commas, or empty."""
    names = stores[0] if len(stores) == 1 else f"(?:{'|'.join(stores)})"
    token = f"{names}:{POSITION}"
    return f"^(?:{token}(?:,{token})*)?$"


# One entity-tag (RFC 9110 8.8.3): [W/] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
ENTITY_TAG = r'^(?:W/)?"[!#-~\x80-\xFF]*"$'
