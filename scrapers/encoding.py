"""Decode response bytes to text: BOM, then the Content-Type charset, then a
``<meta charset>`` / XML declaration, then a statistical guess.

One correction on top of that order: pages declaring a legacy charset (latin-1,
cp1252, GBK, Shift_JIS, ...) whose bytes are nevertheless valid UTF-8 with non-ASCII
characters are decoded as UTF-8. Mislabelled UTF-8 is common on the web (pages
re-saved by tools that keep the old <meta>), and a text really in a legacy encoding
almost never happens to be valid multi-byte UTF-8.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)["']""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:\-]+)""", re.I)


def _normalise(name: str | None) -> str | None:
    """Python's codec name for a web label, or None when unknown."""
    if not name:
        return None
    label = name.strip().lower()
    # The WHATWG Encoding Standard maps these labels to windows-1252.
    if label in {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}:
        label = "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return _normalise(match.group(1)) if match else None


def declared_in_document(body: bytes) -> str | None:
    """Charset from an XML declaration or an HTML ``<meta>`` in the first 4 KB."""
    head = body[:4096]
    match = _XML_DECL.search(head) or _META_CHARSET.search(head)
    return _normalise(match.group(1).decode("ascii", "ignore")) if match else None


def _is_valid_utf8_with_non_ascii(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(body: bytes, content_type: str | None = None) -> tuple[str, int]:
    """(codec name, number of BOM bytes to skip)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    declared = charset_from_content_type(content_type) or declared_in_document(body)
    if declared:
        if declared != "utf-8" and _is_valid_utf8_with_non_ascii(body):
            return "utf-8", 0
        # UTF-16/32 declared in the document itself cannot be true of ASCII-readable bytes.
        if not declared.startswith("utf-16") and not declared.startswith("utf-32"):
            return declared, 0
    if body.isascii() or _is_valid_utf8_with_non_ascii(body):
        return "utf-8", 0
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.encoding:
            return _normalise(best.encoding) or "utf-8", 0
    except Exception:  # detection is a best effort; fall through to cp1252
        pass
    return "cp1252", 0


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, codec name); undecodable bytes become U+FFFD rather than failing."""
    encoding, skip = detect_encoding(body, content_type)
    return body[skip:].decode(encoding, errors="replace"), encoding


def looks_binary(body: bytes) -> bool:
    """True for bytes no text document would hold (NULs, mostly control bytes).

    UTF-16/32 text has NULs too, so a BOM exempts the body.
    """
    sample = body[:4096]
    if not sample:
        return False
    if any(sample.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls / len(sample) > 0.1
