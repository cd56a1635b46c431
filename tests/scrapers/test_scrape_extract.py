"""Contact, social, feed and link extraction from HTML."""

from __future__ import annotations

from scrape_helpers import fixture_bytes

from scrapers import extract
from scrapers.htmldoc import parse_html

PAGE_URL = "https://trailnotes.test/2024/06/gels"


def blog_root():
    return parse_html(fixture_bytes("blog.html").decode("utf-8"))


def test_feed_autodiscovery():
    assert extract.feed_links(blog_root(), PAGE_URL) == ["https://trailnotes.test/feed.xml"]
    anchors = parse_html('<a href="/rss.xml">RSS</a><a href="https://other.test/feed">x</a>')
    assert extract.feed_links(anchors, "https://site.test/") == ["https://site.test/rss.xml"]


def test_emails_from_mailto_text_and_obfuscation_without_image_names():
    found = extract.emails(blog_root())
    assert found[0] == "editor@trailnotes.test"
    assert "hello@trailnotes.test" in found and "ada@trailnotes.test" in found
    assert not any(e.endswith(".png") for e in found)


def test_emails_skip_scripts_and_placeholders():
    root = parse_html("<body><script>var a='js@code.test'</script><p>you@example.com real@site.test</p></body>")
    assert extract.emails(root) == ["real@site.test"]


def test_socials_exclude_share_buttons():
    assert extract.socials(blog_root(), PAGE_URL) == [
        "https://twitter.com/trailnotes",
        "https://www.instagram.com/trailnotes",
    ]


def test_about_links_prefer_contact():
    assert extract.about_links(blog_root(), PAGE_URL) == [
        "https://trailnotes.test/contact",
        "https://trailnotes.test/about/",
    ]


def test_recent_posts_and_outbound_links():
    posts = extract.recent_post_links(blog_root(), PAGE_URL)
    assert [p["title"] for p in posts] == ["Hill repeats that work", "My first ultra"]
    root = parse_html("""<body><a href="https://a.test/">A</a>
        <div class="blogroll"><a href="https://b.test/">B</a></div><a href="/local">L</a></body>""")
    assert extract.outbound_links(root, "https://me.test/") == ["https://b.test/", "https://a.test/"]


def test_language_fallbacks():
    assert extract.language(parse_html('<html lang="fr"><body></body></html>')) == "fr"
    root = parse_html('<html><head><meta property="og:locale" content="pt_BR"></head></html>')
    assert extract.language(root) == "pt-BR"


def test_social_links_reduce_to_profiles():
    cases = {
        "https://github.com/ada/gels-repo": "https://github.com/ada",
        "https://twitter.com/ada/status/1": "https://twitter.com/ada",
        "https://www.linkedin.com/in/ada/details": "https://www.linkedin.com/in/ada",
        "https://www.youtube.com/@ada/videos": "https://www.youtube.com/@ada",
        "https://www.youtube.com/watch?v=1": None,
        "https://medium.com/m/signin": None,
        "https://www.facebook.com/sharer/sharer.php?u=x": None,
        "https://example.com/ada": None,
    }
    for url, profile in cases.items():
        assert extract.social_profile(url) == profile, url
