import pytest

from recruiter.core.canonical import canonical_url, guess_kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://WWW.Example.COM/Blog/", "https://example.com/Blog"),
        ("example.com", "https://example.com"),
        ("https://example.com/?utm_source=news&utm_medium=email&id=3#top", "https://example.com/?id=3"),
        ("https://example.com/post?b=2&a=1&fbclid=xyz&gclid=1", "https://example.com/post?b=2&a=1"),
        ("https://example.com/feed/?alt=rss", "https://example.com/feed/?alt=rss"),
        ("http://example.com:80/a//b/index.html", "http://example.com/a/b"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://m.example.com/x/", "https://example.com/x"),
        ("reddit.com/r/Python", "https://www.reddit.com/r/python/"),
        ("https://old.reddit.com/r/HousePlants/top/?t=week", "https://www.reddit.com/r/houseplants/"),
        ("r/yoga", "https://www.reddit.com/r/yoga/"),
        ("https://www.reddit.com/r/Coffee/comments/abc/title/", "https://www.reddit.com/r/coffee/"),
        ("https://youtube.com/@MKBHD/videos", "https://www.youtube.com/@mkbhd"),
        ("https://m.youtube.com/channel/UCabc123/featured", "https://www.youtube.com/channel/UCabc123"),
        ("https://www.youtube.com/feeds/videos.xml?channel_id=UCabc123",
         "https://www.youtube.com/feeds/videos.xml?channel_id=UCabc123"),
        ("https://www.youtube.com/c/SomeName", "https://www.youtube.com/c/somename"),
        ("https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000", "https://podcasts.apple.com/podcast/id1200361736"),
        ("https://itunes.apple.com/gb/podcast/id1200361736?mt=2", "https://podcasts.apple.com/podcast/id1200361736"),
        ("feed://example.com/rss.xml", "https://example.com/rss.xml"),
        ("  https://Example.com/feed/  ", "https://example.com/feed"),
    ],
)
def test_canonical_forms(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_canonical_is_idempotent() -> None:
    for raw in ("https://www.reddit.com/r/python/", "https://example.com/a?b=1", "https://www.youtube.com/@x"):
        assert canonical_url(canonical_url(raw)) == canonical_url(raw)


@pytest.mark.parametrize("bad", ["", "   ", "not a url", "ftp://example.com/x", "mailto:a@b.com",
                                 "javascript:alert(1)", "https://", "http://no_dots", "http://exa mple.com"])
def test_bad_urls_raise_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        canonical_url(bad)
    assert str(info.value)


def test_non_text_raises() -> None:
    with pytest.raises(ValueError, match="text"):
        canonical_url(42)  # type: ignore[arg-type]


def test_guess_kind() -> None:
    assert guess_kind("https://www.reddit.com/r/python/") == "subreddit"
    assert guess_kind("https://www.youtube.com/@x") == "youtube"
    assert guess_kind("https://podcasts.apple.com/podcast/id1") == "podcast"
    assert guess_kind("https://someone.substack.com") == "newsletter"
    assert guess_kind("https://example.com/feed") == "blog"
