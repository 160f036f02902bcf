"""The one certificate fact the ssl module does not report: Basic Constraints.

Python 3.13 turned on ``VERIFY_X509_STRICT`` in `ssl.create_default_context()`, so a CA
whose Basic Constraints extension is missing or not marked critical (RFC 5280 §4.2.1.9:
"MUST be critical" in CA certificates) is rejected, while 3.12 and older accept it. Many
TLS inspection and in-house CAs were made that way. This reads the extension from DER
with a minimal reader (no dependency); any malformed input gives None, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

BASIC_CONSTRAINTS_OID = bytes.fromhex("551d13")  # 2.5.29.19


@dataclass(frozen=True)
class BasicConstraints:
    present: bool
    critical: bool = False
    ca: bool = False

    @property
    def strict_ok(self) -> bool:
        """Would Python ≥ 3.13's VERIFY_X509_STRICT accept this as a CA?"""
        return self.present and self.critical and self.ca


def _tlv(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(tag, value start, value end) of the element at `at`, or None when malformed."""
    if at + 2 > len(data):
        return None
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            return None
        length = int.from_bytes(data[at:at + count], "big")
        at += count
    if at + length > len(data):
        return None
    return tag, at, at + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    at = start
    while at < end:
        element = _tlv(data, at)
        if element is None or element[2] > end:
            return out
        out.append(element)
        at = element[2]
    return out


def basic_constraints(der: bytes) -> BasicConstraints | None:
    """The Basic Constraints of a DER certificate, or None if it cannot be read."""
    outer = _tlv(der, 0)
    if outer is None or outer[0] != 0x30:
        return None
    parts = _children(der, outer[1], outer[2])
    if not parts or parts[0][0] != 0x30:
        return None
    _, tbs_start, tbs_end = parts[0]
    extensions = next((c for c in _children(der, tbs_start, tbs_end) if c[0] == 0xA3), None)
    if extensions is None:
        return BasicConstraints(present=False)
    inner = _tlv(der, extensions[1])
    if inner is None or inner[0] != 0x30:
        return None
    for tag, start, end in _children(der, inner[1], inner[2]):
        if tag != 0x30:
            continue
        fields = _children(der, start, end)
        if not fields or fields[0][0] != 0x06 or der[fields[0][1]:fields[0][2]] != BASIC_CONSTRAINTS_OID:
            continue
        critical = any(t == 0x01 and e > s and der[s] != 0 for t, s, e in fields[1:-1])
        value = fields[-1]
        if value[0] != 0x04:
            return None
        sequence = _tlv(der, value[1])
        if sequence is None or sequence[0] != 0x30:
            return None
        items = _children(der, sequence[1], sequence[2])
        ca = bool(items) and items[0][0] == 0x01 and items[0][2] > items[0][1] and (
            der[items[0][1]] != 0)
        return BasicConstraints(present=True, critical=critical, ca=ca)
    return BasicConstraints(present=False)
