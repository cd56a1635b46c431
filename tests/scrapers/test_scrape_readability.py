"""The Readability metadata port: titles, JSON-LD, meta tags, DOM bylines."""

from __future__ import annotations

import pytest

from scrapers.htmldoc import parse_html
from scrapers.readability import article_title, extract_article_metadata, text_similarity, unescape_html_entities


def page(title: str = "", head: str = "", body: str = "") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    "title, body, expected",
    [
        ("How to Train for an Ultra | Trail Notes", "", "How to Train for an Ultra"),
        ("Trail Notes - Gels", "", "Trail Notes - Gels"),  # too short once cut: keep the original
        ("Site » Section » The Long Article Title Here", "", "Site » Section » The Long Article Title Here"),
        ("News: Runner breaks the record on the hill", "", "Runner breaks the record on the hill"),
        ("News: Runner breaks record", "<h1>News: Runner breaks record</h1>", "News: Runner breaks record"),
        ("Short", "<h1>A much better headline from the page</h1>", "A much better headline from the page"),
        ("  Spaced    out    title  here   ", "", "Spaced out title here"),
    ],
)
def test_article_title_rules(title, body, expected):
    assert article_title(parse_html(page(title, body=body))) == expected


def test_json_ld_comes_first():
    head = """<meta property="og:title" content="OG title"><meta property="og:site_name" content="OG site">
    <script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
      "headline": "LD headline", "author": [{"name": "A One"}, {"name": "B Two"}],
      "publisher": {"name": "LD Publisher"}, "description": "LD description"}</script>"""
    meta = extract_article_metadata(page("Page title", head))
    assert meta.title == "LD headline"
    assert meta.byline == "A One, B Two"
    assert meta.site_name == "LD Publisher"
    assert meta.excerpt == "LD description"


def test_json_ld_of_other_types_or_contexts_is_ignored():
    head = """<script type="application/ld+json">{"@context": "https://example.org", "@type": "Article", "name": "X"}</script>
    <script type="application/ld+json">{"@context": "http://schema.org", "@type": "WebSite", "name": "Y"}</script>
    <script type="application/ld+json">{ not json </script>
    <meta property="og:title" content="From OG">"""
    assert extract_article_metadata(page("T", head)).title == "From OG"


def test_json_ld_graph_and_name_versus_headline():
    head = """<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebPage", "name": "page"},
      {"@type": "BlogPosting", "name": "Daily Paper", "headline": "Runner wins the mountain race",
       "author": {"name": " Cy "}}]}</script>"""
    meta = extract_article_metadata(page("Runner wins the mountain race - Daily Paper", head))
    assert meta.title == "Runner wins the mountain race"
    assert meta.byline == "Cy"


def test_meta_tag_preferences_and_entities():
    head = """<meta name="twitter:title" content="Twitter title"><meta property="og:title" content="OG &amp;amp; title">
    <meta name="author" content="Dee Writer"><meta property="article:author" content="https://facebook.com/dee">
    <meta name="dc.description" content="DC description"><meta property="og:site_name" content="Site &#x26; Co">"""
    meta = extract_article_metadata(page("T", head))
    assert meta.title == "OG & title"
    assert meta.byline == "Dee Writer"
    assert meta.excerpt == "DC description"
    assert meta.site_name == "Site & Co"


def test_article_author_url_is_not_a_byline():
    meta = extract_article_metadata(page("T", '<meta property="article:author" content="https://facebook.com/dee">'))
    assert meta.byline is None


def test_dom_byline_by_class_rel_and_itemprop_name():
    body = """<div class="post"><h1>Heading</h1>
      <div class="byline" itemprop="author"><span>By</span> <span itemprop="name">Eve Author</span></div>
      <p>Text</p></div>"""
    assert extract_article_metadata(page("A title long enough to keep", body=body)).byline == "Eve Author"
    body = '<p>Posted by <a rel="author" href="/u/fay">Fay</a></p>'
    assert extract_article_metadata(page("A title long enough to keep", body=body)).byline == "Fay"


def test_hidden_and_overlong_bylines_are_skipped():
    body = """<div class="author" style="display: none">Hidden Person</div>
      <div class="author" hidden>Also Hidden</div>
      <div class="author">""" + "x" * 120 + """</div>
      <span class="author">Visible Person</span>"""
    assert extract_article_metadata(page("A title long enough to keep", body=body)).byline == "Visible Person"


def test_lang_comes_from_the_html_element():
    assert extract_article_metadata('<html lang="de-AT"><head><title>x</title></head><body></body></html>').lang == "de-AT"


def test_text_similarity_and_unescape():
    assert text_similarity("a b c", "a b c") == 1
    assert text_similarity("a b c", "x y") == 0
    assert unescape_html_entities("&lt;b&gt; &#65;&#x42; &#0;") == "<b> AB \ufffd"


def test_garbage_never_raises():
    for junk in ["", "<<<>>>", "\x00\x01binary", "<html><body><div class='author'>", "<?xml version='1.0'?><x/>"]:
        extract_article_metadata(junk)
