"""Each adapter against a fake web built from the project's own fixtures."""

from __future__ import annotations

import pytest
from scrape_helpers import FakeWeb, fixture_bytes

from scrapers.adapters import AdapterError, ScrapeContext, apple_podcasts, feed, opml, reddit, youtube
from scrapers.config import BaseUrls
from scrapers.http import PoliteClient
from scrapers.scrape import adapter_for_url, scrape_urls

RSS = "application/rss+xml"


def test_feed_parse_rss_podcast_and_atom():
    podcast = feed.parse_feed(fixture_bytes("podcast.xml"), "https://longrun.test/podcast.xml")
    assert podcast["kind"] == "podcast"
    assert podcast["title"] == "The Long Run Show"
    assert podcast["author"] == "Bo Strider"
    assert podcast["emails"] == ["bo@longrun.test"]
    assert "Sports" in podcast["categories"] and "Running" in podcast["categories"]
    assert podcast["items"][0] == {
        "title": "Episode 2: Desert races", "url": "https://longrun.test/2", "published": "2024-01-02T10:00:00+00:00",
    }
    atom = feed.parse_feed(fixture_bytes("atom.xml"), "https://laufblog.test/atom.xml")
    assert (atom["kind"], atom["title"], atom["language"], atom["author"]) == ("blog", "Laufblog", "de", "Lena Läufer")
    assert atom["description"] == "Über das Laufen"


def test_truncated_and_non_feeds_fail_clearly():
    with pytest.raises(AdapterError, match="truncated feed"):
        feed.parse_feed(fixture_bytes("feed.xml")[:400], "https://x.test/feed")
    with pytest.raises(AdapterError, match="not a feed"):
        feed.parse_feed(b"just some text", "https://x.test/feed")
    assert feed.first_element_name(b"\n\n<?xml version='1.0'?><!-- c --><!DOCTYPE rss><rss>") == "rss"


def test_opml_lists_its_feeds():
    title, feeds = opml.parse_opml(fixture_bytes("feeds.opml"))
    assert title == "Running blogs"
    assert [f["xml_url"] for f in feeds] == ["https://trailnotes.test/feed.xml", "https://laufblog.test/atom.xml"]
    assert feeds[0]["category"] == "Trail"
    with pytest.raises(AdapterError):
        opml.parse_opml(b"<rss></rss>")


def blog_web() -> FakeWeb:
    web = FakeWeb()
    web.add_fixture("https://trailnotes.test/2024/06/gels", "blog.html", "text/html")
    web.add_fixture("https://trailnotes.test/feed.xml", "feed.xml", RSS)
    web.add_fixture("https://trailnotes.test/contact", "about.html", "text/html")
    web.add("https://trailnotes.test/about/", "boom", status=500)
    return web


async def test_website_record(settings):
    web = blog_web()
    [record] = await scrape_urls(["https://trailnotes.test/2024/06/gels"], settings=settings, transport=web.transport)
    assert record["ok"], record["error"]
    assert record["kind"] == "blog"
    assert record["title"] == "Ten Gels Compared for Long Runs"
    assert record["site_name"] == record["name"] == "Trail Notes"
    assert record["author"] == "Ada Runner"
    assert record["language"] == "en-GB"
    assert record["feed_url"] == "https://trailnotes.test/feed.xml"
    assert [i["title"] for i in record["items"]][:2] == ["Ten Gels Compared for Long Runs", "Hill repeats that work"]
    assert "partners@trailnotes.test" in record["emails"]  # from the contact page
    assert "https://www.youtube.com/@trailnotes" in record["socials"]


async def test_website_survives_a_broken_feed(settings):
    web = blog_web()
    web.add("https://trailnotes.test/feed.xml", "<html>not a feed</html>")
    [record] = await scrape_urls(["https://trailnotes.test/2024/06/gels"], settings=settings, transport=web.transport)
    assert record["ok"] and [i["title"] for i in record["items"]] == ["Hill repeats that work", "My first ultra"]


def reddit_web(base: str = "https://www.reddit.com") -> FakeWeb:
    web = FakeWeb()
    web.add_fixture(f"{base}/r/trailrunning/about.json", "reddit_about.json", "application/json")
    web.add_fixture(f"{base}/r/trailrunning/top.json", "reddit_top.json", "application/json")
    web.add_fixture(f"{base}/subreddits/search.json", "reddit_search.json", "application/json")
    return web


async def test_reddit_subreddit(settings):
    web = reddit_web()
    [record] = await scrape_urls(["https://old.reddit.com/r/trailrunning/top/"], settings=settings, transport=web.transport)
    assert record["ok"], record["error"]
    assert (record["kind"], record["name"], record["audience_size"]) == ("subreddit", "r/trailrunning", 245123)
    assert record["description"] == "A community for trail runners."
    assert record["items"][0]["url"] == "https://www.reddit.com/r/trailrunning/comments/abc/finished/"


async def test_without_an_app_reddit_refusing_crawlers_says_how_to_read_it(settings):
    """No Reddit app set: a subreddit is crawled like a page. reddit.com's robots.txt (or its 403 to scripts)
    refuses, and the error says to set the app's variables."""
    for how in ("robots", "403"):
        web = FakeWeb()
        if how == "robots":
            web.add("https://www.reddit.com/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
        else:
            web.add("https://www.reddit.com/r/trailrunning/about.json", "blocked", status=403)
        [record] = await scrape_urls(["https://www.reddit.com/r/trailrunning/"], settings=settings,
                                     transport=web.transport)
        assert not record["ok"] and "RECRUITER_REDDIT_CLIENT_ID" in record["error"], record["error"]
        assert ("robots.txt" if how == "robots" else "403") in record["error"]


async def test_reddit_base_url_is_configurable_and_missing_subreddits_fail(settings):
    base = "http://reddit.local:8080"
    web = reddit_web(base)
    local = settings.with_(base_urls=BaseUrls(reddit=base))
    records = await scrape_urls(
        ["https://www.reddit.com/r/trailrunning", "https://www.reddit.com/r/nosuchplace"], settings=local, transport=web.transport
    )
    assert records[0]["ok"] and records[0]["audience_size"] == 245123
    assert not records[1]["ok"] and "does not exist" in records[1]["error"]
    assert all(u.startswith(base) for u in web.urls())


async def test_reddit_search_through_the_oauth_api(settings):
    """With an app's credentials: one token, then the search on oauth.reddit.com, NSFW left out, entities
    decoded, a private subreddit's unknown subscribers kept as None."""
    from api_helpers import add_reddit, api_settings

    web = FakeWeb()
    tokens: list = []
    add_reddit(web, tokens=tokens)
    keyed = api_settings(settings)
    async with PoliteClient(keyed, transport=web.transport) as client:
        found = await reddit.search(ScrapeContext(client, keyed), "trail running")
        again = await reddit.search(ScrapeContext(client, keyed), "ultra")
    assert [f.url for f in found] == ["https://www.reddit.com/r/trailrunning/", "https://www.reddit.com/r/ultrarunning/"]
    assert found == again and len(tokens) == 1
    trail, private = found[0].record, found[1].record
    assert (trail["audience_size"], trail["description"]) == (245123, "A community for trail runners & ultramarathoners.")
    assert private["audience_size"] is None and private["name"] == "r/ultrarunning"
    search = next(r for r in web.requests if "subreddits/search" in str(r.url))
    assert search.url.params["raw_json"] == "1" and search.headers["user-agent"].startswith("python:recruiter:")
    assert not any(str(r.url).endswith("/robots.txt") for r in web.requests)


async def test_youtube_channel(settings):
    web = FakeWeb()
    web.add_fixture("https://www.youtube.com/@trailnotes", "youtube_channel.html", "text/html")
    web.add_fixture("https://www.youtube.com/feeds/videos.xml", "youtube_videos.xml", "application/atom+xml")
    [record] = await scrape_urls(["https://www.youtube.com/@trailnotes"], settings=settings, transport=web.transport)
    assert record["ok"], record["error"]
    assert (record["kind"], record["name"], record["audience_size"]) == ("youtube", "Trail Notes", 12500)
    assert record["feed_url"] == "https://www.youtube.com/feeds/videos.xml?channel_id=UCabcdefghijklmnopqrstuv"
    assert [i["title"] for i in record["items"]] == ["Running the Lakes", "Gear check"]
    assert youtube.parse_subscribers("1.2M subscribers") == 1_200_000


async def test_apple_podcasts_lookup_and_search(settings):
    web = FakeWeb()
    web.add_fixture("https://itunes.apple.com/lookup", "itunes_lookup.json", "text/javascript; charset=utf-8")
    web.add_fixture("https://itunes.apple.com/search", "itunes_search.json", "text/javascript; charset=utf-8")
    web.add_fixture("https://longrun.test/podcast.xml", "podcast.xml", RSS)
    url = "https://podcasts.apple.com/us/podcast/the-long-run-show/id123456789"
    [record] = await scrape_urls([url], settings=settings, transport=web.transport)
    assert record["ok"], record["error"]
    assert (record["kind"], record["name"], record["author"]) == ("podcast", "The Long Run Show", "Bo Strider")
    assert record["feed_url"] == "https://longrun.test/podcast.xml"
    assert record["emails"] == ["bo@longrun.test"] and len(record["items"]) == 2
    async with PoliteClient(settings, transport=web.transport) as client:
        found = await apple_podcasts.search(ScrapeContext(client, settings), "running")
    assert [f.url for f in found] == ["https://longrun.test/podcast.xml"]  # no feed, no result
    assert (found[0].record["name"], found[0].record["kind"]) == ("The Long Run Show", "podcast")
    # Apple's Search API is an API: called although itunes.apple.com's robots.txt disallows /search.
    assert not any(u.endswith("/robots.txt") and "itunes" in u for u in web.urls())


async def test_substack_newsletter(settings):
    web = FakeWeb()
    web.add_fixture("https://runletter.substack.com/", "substack.html", "text/html")
    web.add_fixture("https://runletter.substack.com/feed", "feed.xml", RSS)
    [record] = await scrape_urls(["https://runletter.substack.com/"], settings=settings, transport=web.transport)
    assert record["ok"], record["error"]
    assert (record["kind"], record["name"], record["author"]) == ("newsletter", "Run Letter", "Cy Pacer")
    assert record["audience_size"] == 8400
    assert record["feed_url"] == "https://runletter.substack.com/feed" and len(record["items"]) == 3


async def test_custom_domain_newsletter_is_recognised_by_content(settings):
    web = FakeWeb()
    web.add_fixture("https://letter.run.test/", "substack.html", "text/html")
    [record] = await scrape_urls(["https://letter.run.test/"], settings=settings, transport=web.transport)
    assert record["kind"] == "newsletter"


async def test_feed_and_opml_urls_are_chosen_by_content(settings):
    web = FakeWeb()
    web.add_fixture("https://site.test/feed", "podcast.xml", "text/xml")
    web.add_fixture("https://site.test/list.opml", "feeds.opml", "text/x-opml")
    feed_record, opml_record = await scrape_urls(
        ["https://site.test/feed", "https://site.test/list.opml"], settings=settings, transport=web.transport
    )
    assert feed_record["kind"] == "podcast" and feed_record["feed_url"] == "https://site.test/feed"
    assert opml_record["ok"] and [i["url"] for i in opml_record["items"]][0] == "https://trailnotes.test/feed.xml"


def test_url_shapes_pick_adapters(settings):
    assert adapter_for_url("https://www.reddit.com/r/python/", settings) is reddit
    assert adapter_for_url("https://www.reddit.com/user/someone", settings) is None
    assert adapter_for_url("https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv", settings) is youtube
    assert adapter_for_url("https://www.youtube.com/watch?v=1", settings) is None
    assert adapter_for_url("https://podcasts.apple.com/us/podcast/x/id123", settings) is apple_podcasts
    assert adapter_for_url("https://example.com/blog", settings) is None


def test_feed_show_notes_give_snowball_links():
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title><link>https://show.test/</link>
    <item><title>Ep 1</title><description>&lt;p&gt;Guest: &lt;a href="https://guest.test/"&gt;Guest&lt;/a&gt;
    &lt;a href="/local"&gt;here&lt;/a&gt; &lt;a href="https://twitter.com/guest"&gt;tw&lt;/a&gt;&lt;/p&gt;</description></item>
    </channel></rss>"""
    assert feed.parse_feed(body, "https://show.test/feed")["outbound_links"] == ["https://guest.test/"]


def _rss(namespaces: str, channel: str = "", item: str = "") -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0" {namespaces}><channel><title>Show</title>'
            f"<link>https://show.test/</link>{channel}<item><title>One</title>{item}</item></channel></rss>").encode()


ITUNES = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
PODCAST_NS = 'xmlns:podcast="https://podcastindex.org/namespace/1.0"'


@pytest.mark.parametrize(("body", "kind"), [
    (_rss(PODCAST_NS, "<podcast:locked>yes</podcast:locked>"), "podcast"),
    (_rss(PODCAST_NS), "podcast"),
    (_rss(ITUNES, item="<itunes:duration>12:00</itunes:duration>"), "podcast"),
    (_rss(ITUNES, "<itunes:explicit>no</itunes:explicit>"), "podcast"),
    (_rss(ITUNES), "blog"),  # declared, never used: some blog platforms declare it on every feed
    (_rss(""), "blog"),
])
def test_feed_kind_from_podcast_namespaces(body: bytes, kind: str) -> None:
    assert feed.parse_feed(body, "https://show.test/feed")["kind"] == kind
