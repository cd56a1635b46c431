"""Charset detection: BOM, header, <meta>/XML declaration, mislabelled UTF-8, guesses."""

from __future__ import annotations

import codecs

from scrapers.encoding import decode_body, detect_encoding, looks_binary


def test_bom_wins_over_everything():
    body = codecs.BOM_UTF16_LE + "<p>héllo</p>".encode("utf-16-le")
    text, encoding = decode_body(body, "text/html; charset=iso-8859-1")
    assert text == "<p>héllo</p>" and encoding == "utf-16-le"


def test_header_charset_is_used():
    body = "<p>Grüße</p>".encode("cp1252")
    assert decode_body(body, "text/html; charset=windows-1252")[0] == "<p>Grüße</p>"


def test_meta_charset_is_used_without_header():
    body = '<html><head><meta charset="iso-8859-15"></head><body>€uro</body></html>'.encode("iso-8859-15")
    assert "€uro" in decode_body(body, "text/html")[0]


def test_http_equiv_meta_and_xml_declaration():
    html = '<meta http-equiv="Content-Type" content="text/html; charset=shift_jis"><p>日本語</p>'.encode("shift_jis")
    assert "日本語" in decode_body(html)[0]
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?><rss><title>Notícias</title></rss>'.encode("latin-1")
    assert "Notícias" in decode_body(xml)[0]


def test_mislabelled_utf8_is_read_as_utf8():
    body = '<meta charset="gb2312"><title>人工智能迈上新台阶</title>'.encode()
    assert "人工智能迈上新台阶" in decode_body(body)[0]
    body = '<meta charset="iso-8859-1"><p>café</p>'.encode()
    assert detect_encoding(body)[0] == "utf-8"


def test_undeclared_legacy_bytes_are_guessed_not_crashed():
    body = ("<p>" + "Ça coûte très cher, déjà. " * 20 + "</p>").encode("cp1252")
    text, _ = decode_body(body)
    assert "coûte" in text or "co" in text  # a guess, but never an exception
    assert "\x00" not in text


def test_binary_sniffing():
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not looks_binary("<html>héllo</html>".encode())
    assert not looks_binary(codecs.BOM_UTF16_LE + "<html>".encode("utf-16-le"))
