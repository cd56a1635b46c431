"""Parse HTML text into an lxml tree that never raises, whatever the markup."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# Characters XML (and so libxml2) refuses; browsers drop or replace them too.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, recover=True, default_doctype=False)


def parse_html(text: str) -> lxml.html.HtmlElement:
    """The document's root <html> element; empty or hopeless input gives an empty document."""
    cleaned = _INVALID_XML_CHARS.sub("", _XML_DECLARATION.sub("", text or "", count=1))
    if cleaned.strip():
        try:
            root = lxml.html.document_fromstring(cleaned, parser=_PARSER)
            if root is not None:
                return root
        except (etree.ParserError, ValueError, etree.XMLSyntaxError):
            pass
    return lxml.html.document_fromstring("<html><head></head><body></body></html>", parser=_PARSER)


def is_element(node) -> bool:
    """lxml yields comments and processing instructions as children too; skip them."""
    return isinstance(node.tag, str)


def text_content(node) -> str:
    """DOM ``textContent``: all descendant text, nothing normalised."""
    return "".join(node.itertext())
