"""The discovery connectors against fake APIs on loopback servers that answer with real recorded responses.

Each fake (``api_helpers``) checks what the real service checks (Reddit's HTTP Basic and bearer token, YouTube's
``key=``, Podcast Index's signature, Brave's ``X-Subscription-Token``) and logs what it received, so a test can say
what was sent, when, and that nothing was sent at all. The recorded answers live in the shared datasets
(``SOURCES.md`` says where each comes from); a test that needs them is skipped when they are not on the machine.
SearXNG and DuckDuckGo have no recording: their answers are written here from the documented shapes.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import threading
import time
from dataclasses import replace
from email.utils import formatdate
from urllib.parse import parse_qsl

import pytest
from api_helpers import (
    KEYS,
    TOKEN,
    YOUTUBE_KEY_INVALID,
    YOUTUBE_KEY_INVALID_2016,
    FakeBrave,
    FakeDuckDuckGo,
    FakeItunes,
    FakePodcastIndex,
    FakeReddit,
    FakeSearxng,
    FakeYouTube,
    api_settings,
    closed_port,
    need_recordings,
    recorded,
    recorded_json,
    reply_json,
    with_bases,
)

from scrapers.adapters import AdapterError, ScrapeContext, apple_podcasts, podcastindex, reddit, web_search, youtube
from scrapers.adapters import sources as connectors
from scrapers.api import ApiError, BadCredentials, QuotaExhausted
from scrapers.cache import pacific_day
from scrapers.config import Credentials
from scrapers.http import CUT_HEADER, FetchError, PoliteClient
from scrapers.loopback import send
from scrapers.records import plain_text
from scrapers.scrape import enrich, merge, scrape_urls

REDDIT_2016 = "reddit/subreddits_search_q-praw_limit-100__praw_2016.json"
REDDIT_2020 = "reddit/subreddits_search_q-asyncpraw_limit-100__asyncpraw_2020.json"
GOLANG_ABOUT = "reddit/r_golang_about_no-raw-json__go-reddit_2020.json"
YT_SEARCH = "youtube/search_list_type-channel__python-youtube_2020.json"
YT_CHANNELS_2022 = "youtube/channels_list_snippet-statistics_google+googledevelopers__python-youtube_2022.json"
YT_CHANNELS_2023 = "youtube/channels_list_snippet-statistics_googledevelopers__home-assistant_2023.json"
PI_BYTERM = "podcastindex/search_byterm_q-podcasting-2.0__jasonyork-podcast-index_2023.json"
ITUNES_GRUBER = "itunes/search_media-podcast_term-gruber__fanboy_2014.json"
ITUNES_APPLE = "itunes/search_media-podcast_term-apple__fanboy_2015.json"
ITUNES_WDW = "itunes/lookup_id-215517191__imasquerade-vcr_2014.json"
ITUNES_TMTC = "itunes/lookup_id-347207945__imasquerade-vcr_2014.json"
BRAVE_HELLO = "brave/web_search_q-hello-world__brave-search-python-client_2024-12.json"
BRAVE_TRIMMED = "brave/web_search_q-blue-tack_TRIMMED__kayvane1-brave-api_2023-12.json"

GOOGLE = "UCK8sQmJBp8GCxrOtXWBpyEA"
GOOGLE_DEVELOPERS = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
REDDIT_VARIABLES = ("RECRUITER_REDDIT_CLIENT_ID", "RECRUITER_REDDIT_CLIENT_SECRET")


@pytest.fixture
def recordings() -> None:
    need_recordings()


async def call(settings, work):
    """``work(ctx)`` through a fresh client (what one command does)."""
    async with PoliteClient(settings) as client:
        return await work(ScrapeContext(client, settings))


async def failure(settings, work) -> Exception:
    with pytest.raises((FetchError, AdapterError)) as info:
        await call(settings, work)
    return info.value


def assert_no_secret(message: str, *secrets: str) -> None:
    for secret in (*secrets, *KEYS.secrets(), TOKEN):
        assert secret not in message, f"{secret!r} leaked into: {message}"


# --- Reddit -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "count", "private", "sample"), [
    (REDDIT_2016, 37, 16, ("r/PRAWTesting", 14, "A subreddit designed to allow for a place")),
    (REDDIT_2020, 1, 0, ("r/asyncpraw", 1, None)),
], ids=["praw-2016", "asyncpraw-2020"])
async def test_reddit_recorded_searches_parse(settings, loopback, recordings, path, count, private, sample):
    """Both recorded /subreddits/search answers parse as they are. praw's 2016 capture lists 37 subreddits, 16
    of them private with `subscribers: null`: they are kept, with an unknown audience (not 0, not dropped).
    asyncpraw's 2020 capture has the newer listing shape (`dist`, `modhash: null`) and one subreddit whose
    public description is empty."""
    body = recorded(path)
    children = [c["data"] for c in json.loads(body)["data"]["children"]]
    fake = FakeReddit(loopback, search=body)

    found = await call(fake.settings(settings), lambda ctx: reddit.search(ctx, "praw", limit=100))

    assert len(found) == count
    assert [f.url for f in found] == [f"https://www.reddit.com/r/{c['display_name']}/" for c in children]
    unknown = [f.record["name"] for f in found if f.record["audience_size"] is None]
    assert len(unknown) == private
    assert unknown == [f"r/{c['display_name']}" for c in children if c["subscribers"] is None]
    assert all(f.record["kind"] == "subreddit" and f.source == "reddit" and f.authoritative for f in found)
    name, audience, description = sample
    record = next(f.record for f in found if f.record["name"] == name)
    assert record["audience_size"] == audience
    assert (record["description"] or "").startswith(description or "") and bool(record["description"]) == bool(description)
    [search] = fake.calls("/subreddits/search")
    assert search.query == {"q": "praw", "limit": "100", "raw_json": "1"}


async def test_reddit_about_without_raw_json_is_unescaped(settings, loopback, recordings):
    """go-reddit recorded r/golang/about without `raw_json=1`, which is how Reddit answers when the flag is
    ignored: `&`, `<` and `>` come escaped inside strings. The capture's own escaped strings are image URLs a
    record does not keep, so its record is checked free of entities; a copy whose description carries an `&`
    (escaped the same way) shows the unescaping."""
    body = recorded(GOLANG_ABOUT)
    assert b"&amp;" in body
    gonuts = json.loads(body)
    gonuts["data"].update(display_name="gonuts", display_name_prefixed="r/gonuts",
                          public_description="Go news &amp; questions: &lt;generics&gt;, tools &amp; events")
    fake = FakeReddit(loopback, abouts={"golang": body, "gonuts": json.dumps(gonuts).encode()})

    golang, escaped = await scrape_urls(["https://www.reddit.com/r/golang", "https://www.reddit.com/r/gonuts/"],
                                        settings=fake.settings(settings))

    assert golang["ok"], golang["error"]
    assert (golang["name"], golang["title"], golang["audience_size"], golang["language"]) == (
        "r/golang", "The Go Programming Language", 116532, "en")
    assert golang["description"] == ("Ask questions and post articles about the Go programming language and "
                                     "related tools, events etc.")
    assert not any("&amp;" in str(value) or "&lt;" in str(value) for value in golang.values())
    assert escaped["ok"], escaped["error"]
    assert escaped["description"] == "Go news & questions: <generics>, tools & events"
    about = fake.calls("/r/golang/about")[0]
    assert about.query == {"raw_json": "1"}  # asked for, even though this Reddit ignores it


async def test_reddit_one_token_serves_every_call_and_each_is_authorized(settings, loopback, recordings):
    """The app asks for a token once (a POST with HTTP Basic over its id and secret, grant_type=client_credentials)
    and sends it as `Authorization: bearer TOKEN` on each call: two searches and one subreddit (its about and
    top posts) cost one token request. The fake refuses any call without that exact header."""
    fake = FakeReddit(loopback, search=recorded(REDDIT_2020), abouts={"golang": recorded(GOLANG_ABOUT)})
    s = fake.settings(settings)

    async with PoliteClient(s) as client:
        ctx = ScrapeContext(client, s)
        first = await reddit.search(ctx, "asyncpraw")
        second = await reddit.search(ctx, "praw")
        golang = await reddit.scrape(ctx, "https://www.reddit.com/r/golang")

    assert len(first) == len(second) == 1 and golang["audience_size"] == 116532
    [token] = fake.calls(FakeReddit.TOKEN_PATH)
    assert token.method == "POST"
    assert token.headers["authorization"] == FakeReddit.basic(KEYS.reddit_client_id, KEYS.reddit_client_secret)
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(token.body.decode())) == {"grant_type": "client_credentials"}
    assert token.headers["user-agent"].startswith("python:recruiter:")
    assert [c.path for c in fake.api_calls()] == ["/subreddits/search", "/subreddits/search", "/r/golang/about",
                                                  "/r/golang/top"]
    assert {c.headers["authorization"] for c in fake.api_calls()} == {f"bearer {TOKEN}"}


async def test_reddit_401_on_the_api_renews_the_token_once(settings, loopback, recordings):
    """A token Reddit stops accepting before it said it would (401 on the API): a new one is asked for once and
    the call is repeated with it."""
    fake = FakeReddit(loopback, search=recorded(REDDIT_2020), refuse_first=True)

    found = await call(fake.settings(settings), lambda ctx: reddit.search(ctx, "asyncpraw"))

    assert [f.record["name"] for f in found] == ["r/asyncpraw"]
    assert fake.issued == [TOKEN, f"{TOKEN}-2"]
    assert [c.headers["authorization"] for c in fake.calls("/subreddits/search")] == [f"bearer {TOKEN}",
                                                                                      f"bearer {TOKEN}-2"]


async def test_reddit_refusing_a_fresh_token_too_is_bad_key_after_one_renewal(settings, loopback, recordings):
    """An API that refuses every token: one renewal, then `bad_key` (no loop of token requests), and neither
    token shows in the message."""
    fake = FakeReddit(loopback, search=recorded(REDDIT_2020), refuse_all=True)

    error = await failure(fake.settings(settings), lambda ctx: reddit.search(ctx, "asyncpraw"))

    assert isinstance(error, BadCredentials) and error.kind == "bad_key"
    assert len(fake.issued) == 2 and len(fake.calls("/subreddits/search")) == 2
    assert_no_secret(str(error), *fake.issued)


async def test_reddit_refusing_a_fresh_token_names_the_variables(settings, loopback, recordings):
    """When even a fresh token is refused, the message says which settings to check, as for a refused app."""
    fake = FakeReddit(loopback, search=recorded(REDDIT_2020), refuse_all=True)

    error = await failure(fake.settings(settings), lambda ctx: reddit.search(ctx, "asyncpraw"))

    assert all(variable in str(error) for variable in REDDIT_VARIABLES), str(error)


async def test_reddit_bad_client_credentials_are_bad_key_naming_the_variables(settings, loopback, recordings):
    """A wrong secret: the token endpoint answers 401 (this one even echoes back the id and secret it got, as a
    careless proxy might). The error is `bad_key`, names both variables and shows neither value; the API itself
    is never called."""
    fake = FakeReddit(loopback, search=recorded(REDDIT_2020))
    wrong = replace(KEYS, reddit_client_secret="wrong-secret-0000")
    s = fake.settings(settings).with_(credentials=wrong)

    error = await failure(s, lambda ctx: reddit.search(ctx, "asyncpraw"))

    assert error.kind == "bad_key"
    assert all(variable in str(error) for variable in REDDIT_VARIABLES)
    assert "Unauthorized (***:***)" in str(error)  # what the server echoed, scrubbed
    assert_no_secret(str(error), "wrong-secret-0000")
    assert fake.api_calls() == []


async def test_reddit_token_quoted_back_in_an_error_is_scrubbed(settings, loopback, recordings):
    """Reddit refuses a search with a 403 whose message quotes the bearer token: the error shows `***` instead."""
    fake = FakeReddit(loopback, search_reply=lambda seen: reply_json(
        {"message": f"Forbidden: {seen.headers['authorization']} lacks the read scope", "error": 403}, 403))

    error = await failure(fake.settings(settings), lambda ctx: reddit.search(ctx, "praw"))

    assert error.kind == "bad_key" and "bearer *** lacks the read scope" in str(error)
    assert_no_secret(str(error))


# --- YouTube ------------------------------------------------------------------------------------------------

PLAYLIST = {  # playlistItems.list, part=snippet: the documented shape (no recording of it was found)
    "kind": "youtube#playlistItemListResponse", "etag": "d5Zb7Hw9ex1bHuvoYUzAyEpEq2c",
    "nextPageToken": "EAAaBlBUOkNBVQ", "pageInfo": {"totalResults": 5798, "resultsPerPage": 2},
    "items": [
        {"kind": "youtube#playlistItem", "etag": "q2Jq2hMZ3f3tNdUp3rN4Jk0bG1A", "id": "VVVfeDVYRzFPVjJQNnVa",
         "snippet": {"publishedAt": "2023-06-01T16:00:12Z", "channelId": GOOGLE_DEVELOPERS,
                     "title": "What's new in Google Cloud", "description": "All the launches.", "thumbnails": {},
                     "channelTitle": "Google for Developers", "playlistId": "UU_x5XG1OV2P6uZZ5FSM9Ttw",
                     "position": 0, "resourceId": {"kind": "youtube#video", "videoId": "b4gBpD0LmEw"},
                     "videoOwnerChannelTitle": "Google for Developers", "videoOwnerChannelId": GOOGLE_DEVELOPERS}},
        {"kind": "youtube#playlistItem", "etag": "8b3k1uQ0aY2mS9l7nP5rT6vW4xE", "id": "VVVfeDVYRzFPVjJQNnVb",
         "snippet": {"publishedAt": "2023-05-30T17:30:00Z", "channelId": GOOGLE_DEVELOPERS,
                     "title": "Android Studio tips", "description": "", "thumbnails": {},
                     "channelTitle": "Google for Developers", "playlistId": "UU_x5XG1OV2P6uZZ5FSM9Ttw",
                     "position": 1, "resourceId": {"kind": "youtube#video", "videoId": "Qd4cZ2H1xGk"}}},
    ],
}


async def test_youtube_search_then_channels(settings, loopback, recordings):
    """search.list (type=channel) finds channels, then channels.list gives their statistics. search escapes its
    text (`&amp;`, `&#39;`): unescaped. The recorded channels answer describes other channels than the ones the
    search found (Google, Google Developers); those are returned too, with subscriber counts read from strings.
    Every call carries the key as `key=`."""
    search = recorded_json(YT_SEARCH)
    ids = [item["id"]["channelId"] for item in search["items"]]
    search["items"][2]["snippet"]["title"] = "The Big Jackpot &amp; Friends&#39; Slots"  # as search.list escapes
    fake = FakeYouTube(loopback, search=search, channels=recorded(YT_CHANNELS_2022))

    found = await call(fake.settings(settings), lambda ctx: youtube.search(ctx, "music", limit=5))

    assert [f.url for f in found] == [youtube.channel_url(i) for i in [*ids, GOOGLE, GOOGLE_DEVELOPERS]]
    by_id = {f.url.rsplit("/", 1)[1]: f.record for f in found}
    assert by_id[ids[2]]["name"] == "The Big Jackpot & Friends' Slots"
    assert (by_id[ids[3]]["name"], by_id[ids[3]].get("audience_size")) == ("Queen Official", None)  # search only
    assert (by_id[GOOGLE]["name"], by_id[GOOGLE]["audience_size"]) == ("Google", 10_700_000)
    developers = by_id[GOOGLE_DEVELOPERS]
    assert (developers["audience_size"], developers["socials"]) == (2_260_000, ["https://www.youtube.com/@googledevelopers"])
    assert all(f.source == "youtube" and f.record["kind"] == "youtube" for f in found)
    [sent_search] = fake.calls("/youtube/v3/search")
    assert sent_search.query == {"part": "snippet", "type": "channel", "q": "music", "maxResults": "5",
                                 "key": KEYS.youtube_api_key}
    [sent_channels] = fake.calls("/youtube/v3/channels")
    assert sent_channels.query == {"part": "snippet,statistics,contentDetails", "maxResults": "50",
                                   "id": ",".join(ids), "key": KEYS.youtube_api_key}


async def test_youtube_channel_counts_and_hidden_counts(settings, loopback, recordings):
    """A channel URL is read through the API: channels.list (counts as strings, "2290000") and its uploads
    playlist for the latest videos. A channel hiding its count (`hiddenSubscriberCount: true`, no
    subscriberCount) has an unknown audience, not 0."""
    visible = recorded_json(YT_CHANNELS_2023)
    hidden = copy.deepcopy(visible)
    statistics = hidden["items"][0]["statistics"]
    statistics["hiddenSubscriberCount"] = True
    del statistics["subscriberCount"]
    answer = {"body": visible}
    fake = FakeYouTube(loopback, playlist=PLAYLIST, channels_reply=lambda seen: reply_json(answer["body"]))
    s = fake.settings(settings)

    [record] = await scrape_urls([f"https://www.youtube.com/channel/{GOOGLE_DEVELOPERS}"], settings=s)
    answer["body"] = hidden
    [hiding] = await call(s, lambda ctx: youtube.channels(ctx, ids=[GOOGLE_DEVELOPERS]))

    assert record["ok"], record["error"]
    assert (record["name"], record["audience_size"]) == ("Google for Developers", 2_290_000)
    assert [i["url"] for i in record["items"]] == ["https://www.youtube.com/watch?v=b4gBpD0LmEw",
                                                   "https://www.youtube.com/watch?v=Qd4cZ2H1xGk"]
    [playlist] = fake.calls("/youtube/v3/playlistItems")
    assert playlist.query["playlistId"] == "UU_x5XG1OV2P6uZZ5FSM9Ttw"
    assert hiding["audience_size"] is None and hiding["name"] == "Google for Developers"


async def test_youtube_quota_exceeded_closes_the_budget_for_the_day(settings, loopback, recordings):
    """A `403 quotaExceeded` (the key's project may be shared, so it can come before our own count says so) is
    QuotaExhausted naming the quota, and the next search is refused without a request, in this command and in
    the next one."""
    fake = FakeYouTube(loopback, search=recorded_json(YT_SEARCH), quota=True)
    s = fake.settings(settings)

    async with PoliteClient(s) as client:
        ctx = ScrapeContext(client, s)
        with pytest.raises(QuotaExhausted) as first:
            await youtube.search(ctx, "music", limit=5)
        with pytest.raises(QuotaExhausted) as second:
            await youtube.search(ctx, "podcasts", limit=5)
    third = await failure(s, lambda ctx: youtube.search(ctx, "vlogs", limit=5))

    assert first.value.kind == "quota" and "quota" in str(first.value).lower()
    assert "quota" in str(second.value).lower() and isinstance(third, QuotaExhausted)
    assert len(fake.seen) == 1


async def test_youtube_quota_exceeded_on_a_search_stops_other_calls_too(settings, loopback, recordings):
    """Google's quotaExceeded means the project's daily quota is spent, for every method: after a search got
    it, reading channels must not be sent either (it could only get quotaExceeded again)."""
    fake = FakeYouTube(loopback, search=recorded_json(YT_SEARCH), quota=True)
    s = fake.settings(settings)

    async with PoliteClient(s) as client:
        ctx = ScrapeContext(client, s)
        with pytest.raises(QuotaExhausted):
            await youtube.search(ctx, "music", limit=5)
        with pytest.raises(QuotaExhausted):
            await youtube.channels(ctx, ids=[GOOGLE_DEVELOPERS])

    assert [c.path for c in fake.seen] == ["/youtube/v3/search"]


async def test_youtube_search_budget_stops_searches_before_sending(settings, loopback, recordings, recruiter_home):
    """search.list has its own daily budget of calls (100 by default; 2 here). Once the ledger in
    $RECRUITER_HOME says they are spent, a search is refused with a message saying so, without a request, and
    the next command sees the same count."""
    fake = FakeYouTube(loopback, search=recorded_json(YT_SEARCH), channels=recorded(YT_CHANNELS_2022))
    s = fake.settings(settings, youtube_search_quota=2)

    async with PoliteClient(s) as client:
        ctx = ScrapeContext(client, s)
        await youtube.search(ctx, "music", limit=5)
        await youtube.search(ctx, "jazz", limit=5)
        with pytest.raises(QuotaExhausted) as refused:
            await youtube.search(ctx, "podcasts", limit=5)
    again = await failure(s, lambda ctx: youtube.search(ctx, "vlogs", limit=5))

    message = str(refused.value)
    assert refused.value.kind == "quota" and "quota" in message and "search calls" in message
    assert isinstance(again, QuotaExhausted)
    assert [c.query["q"] for c in fake.calls("/youtube/v3/search")] == ["music", "jazz"]
    ledger = json.loads((recruiter_home / "api-usage.json").read_text())
    assert ledger["used"]["youtube-search"][pacific_day()] == 2
    assert KEYS.youtube_api_key not in json.dumps(ledger)


@pytest.mark.parametrize("body", [YOUTUBE_KEY_INVALID, YOUTUBE_KEY_INVALID_2016], ids=["api-key-invalid", "keyInvalid"])
async def test_youtube_bad_key_is_bad_key(settings, loopback, recordings, body):
    """A wrong key gets 400: today's answer (`badRequest`, "API key not valid", API_KEY_INVALID) and the older
    one (`keyInvalid`) are both `bad_key`, naming RECRUITER_YOUTUBE_API_KEY and not showing the key."""
    fake = FakeYouTube(loopback, channels=recorded(YT_CHANNELS_2023), invalid_key_body=body)
    s = fake.settings(settings).with_(credentials=replace(KEYS, youtube_api_key="AIzaWrongKey000000"))

    error = await failure(s, lambda ctx: youtube.channels(ctx, ids=[GOOGLE_DEVELOPERS]))

    assert isinstance(error, BadCredentials) and error.kind == "bad_key"
    assert "RECRUITER_YOUTUBE_API_KEY" in str(error)
    assert_no_secret(str(error), "AIzaWrongKey000000")


async def test_youtube_key_never_appears_in_an_error(settings, loopback, recordings):
    """The key travels in the query string, so an error naming the call could leak it: a connection dropped
    mid-answer (retried, then reported) and an answer that is not JSON both show the call with `key=***`."""
    def dropped(seen):
        request = seen.request
        request.send_response(200)
        request.send_header("Content-Type", "application/json; charset=UTF-8")
        request.send_header("Content-Length", "4096")
        request.end_headers()
        request.wfile.write(b'{"kind": "youtube#channelListResponse", "items": [')
        request.close_connection = True

    fake = FakeYouTube(loopback, channels_reply=dropped)
    error = await failure(fake.settings(settings), lambda ctx: youtube.channels(ctx, ids=[GOOGLE_DEVELOPERS]))

    assert error.kind == "connection" and "key=***" in str(error)
    assert_no_secret(str(error))
    assert len(fake.seen) == 3  # retried twice: a broken connection may be a passing hiccup

    portal = FakeYouTube(loopback, channels_reply=lambda seen: reply_json(b"<html>Sign in to Wi-Fi</html>", 200))
    error = await failure(portal.settings(settings), lambda ctx: youtube.channels(ctx, ids=[GOOGLE_DEVELOPERS]))

    assert isinstance(error, ApiError) and "expected JSON" in str(error) and "key=***" in str(error)
    assert_no_secret(str(error))


# --- Podcast Index ------------------------------------------------------------------------------------------

async def test_podcastindex_signed_search_gives_48_podcasts(settings, loopback, recordings):
    """search/byterm, signed: the fake checks X-Auth-Key, an X-Auth-Date within 3 minutes of now,
    Authorization = sha1(key + secret + date) and a User-Agent. The recorded answer (`status: "true"` as a
    string, `categories` a dict or null, some empty descriptions) gives 48 podcasts keyed by their feeds."""
    body = recorded(PI_BYTERM)
    payload = json.loads(body)
    feeds = payload["feeds"]
    fake = FakePodcastIndex(loopback, byterm=body)

    found = await call(fake.settings(settings), lambda ctx: podcastindex.search(ctx, "Podcasting 2.0", limit=100))

    assert payload["status"] == "true" and fake.refusals == []
    assert len(found) == 48
    assert [f.record["title"] for f in found] == [plain_text(feed["title"]) for feed in feeds]
    assert all(f.url == f.record["feed_url"] == feed["url"] and f.record["kind"] == "podcast"
               for f, feed in zip(found, feeds, strict=True))
    by_id = {feed["id"]: f.record for f, feed in zip(found, feeds, strict=True)}
    assert {k: by_id[920666][k] for k in ("name", "author", "site_url", "language")} == {
        "name": "Podcasting 2.0", "author": "Podcast Index LLC", "site_url": "http://podcastindex.org", "language": "en"}
    for feed in feeds:
        record, categories = by_id[feed["id"]], feed["categories"]
        if feed["description"]:
            assert record["description"] == plain_text(feed["description"])
        elif categories:  # an empty description: the categories say what it is about
            assert record["description"] == "Podcast about " + ", ".join(categories.values())
        else:
            assert record["description"] is None
        assert record["author"] == (plain_text(feed["author"]) or plain_text(feed["ownerName"]))
    assert sum(feed["categories"] is None for feed in feeds) == 4 and by_id[496685]["description"] is None
    [sent] = fake.seen
    assert sent.query == {"q": "Podcasting 2.0", "max": "100"}
    date = sent.headers["x-auth-date"]
    assert abs(int(date) - time.time()) < 180
    assert sent.headers["authorization"] == hashlib.sha1(
        f"{KEYS.podcastindex_key}{KEYS.podcastindex_secret}{date}".encode()).hexdigest()
    assert sent.headers["x-auth-key"] == KEYS.podcastindex_key and sent.headers["user-agent"]


async def test_podcastindex_wrong_secret_is_bad_key(settings, loopback, recordings):
    """A wrong secret signs wrongly: 401, `bad_key`, naming both variables (and the clock, the other usual
    cause) without showing the secret."""
    fake = FakePodcastIndex(loopback, byterm=recorded(PI_BYTERM))
    s = fake.settings(settings).with_(credentials=replace(KEYS, podcastindex_secret="pi-secret-wrong-0000"))

    error = await failure(s, lambda ctx: podcastindex.search(ctx, "Podcasting 2.0"))

    assert isinstance(error, BadCredentials) and error.kind == "bad_key"
    assert "RECRUITER_PODCASTINDEX_KEY" in str(error) and "RECRUITER_PODCASTINDEX_SECRET" in str(error)
    assert "clock" in str(error) and fake.refusals == ["Authorization header not valid"]
    assert_no_secret(str(error), "pi-secret-wrong-0000")


# --- iTunes -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "count"), [(ITUNES_GRUBER, 13), (ITUNES_APPLE, 50)], ids=["gruber", "apple"])
async def test_itunes_recorded_searches_parse(settings, loopback, recordings, path, count):
    """The recorded iTunes searches give podcasts keyed by their feeds, genres without the catch-all
    "Podcasts". The Search API is an API, called at Apple's pace: itunes.apple.com's robots.txt (here: Disallow
    everything) is for crawlers and is never requested."""
    results = recorded_json(path)["results"]
    fake = FakeItunes(loopback, search=recorded(path), lookups={})

    found = await call(fake.settings(settings), lambda ctx: apple_podcasts.search(ctx, "gruber", limit=50))

    assert [f.url for f in found] == [r["feedUrl"] for r in results] and len(found) == count
    first = found[0].record
    genres = [g for g in results[0]["genres"] if g != "Podcasts"]
    assert (first["name"], first["author"], first["description"]) == (
        results[0]["collectionName"], results[0]["artistName"], f"Podcast ({', '.join(genres)})")
    [sent] = fake.seen
    assert sent.path == "/search" and sent.query == {"media": "podcast", "entity": "podcast", "term": "gruber",
                                                     "limit": "50"}


async def test_itunes_recorded_lookups_parse_as_served(settings, loopback, recordings):
    """The lookups are raw bodies as Apple sent them: three newlines first and last, `text/javascript`,
    `0.00` prices, a `»` in a title. They parse; an unknown id is None; robots.txt is never asked for."""
    assert recorded(ITUNES_WDW).startswith(b"\n\n\n")
    fake = FakeItunes(loopback, search=b"{}", lookups={"215517191": recorded(ITUNES_WDW),
                                                       "347207945": recorded(ITUNES_TMTC)})

    async with PoliteClient(fake.settings(settings)) as client:
        ctx = ScrapeContext(client, client.settings)
        wdw = await apple_podcasts.lookup(ctx, "215517191")
        tmtc = await apple_podcasts.lookup(ctx, "347207945")
        nothing = await apple_podcasts.lookup(ctx, "1")

    assert wdw["feed_url"] == "http://www.wdwradio.com/xml/wdwradio.xml" and wdw["itunes_id"] == 215517191
    assert wdw["name"].startswith("The WDW Radio Show")
    assert tmtc["name"] == "Teach Me To Code » Screencasts (iPhone/iPod)" and tmtc["author"] == "Charles Max Wood"
    assert nothing is None
    assert [c.path for c in fake.seen] == ["/lookup"] * 3


# --- Brave --------------------------------------------------------------------------------------------------

async def test_brave_recorded_hello_world_gives_clean_leads(settings, loopback, recordings):
    """Brave's descriptions carry `<strong>` highlighting and entities (`&quot;`, `&#x27;`, `&amp;`): the leads'
    descriptions have neither. Leads are not authoritative (a snippet, not the community's own word); the key
    goes in X-Subscription-Token, and a full first page (20) needs no second call."""
    body = recorded(BRAVE_HELLO)
    results = json.loads(body)["web"]["results"]
    fake = FakeBrave(loopback, body=body)

    found = await call(fake.settings(settings), lambda ctx: web_search.search(ctx, "hello world", 20))

    assert [f.url for f in found] == [r["url"] for r in results]
    assert all(f.source == "web" and not f.authoritative for f in found)
    for lead in found:
        text = lead.record["description"]
        assert not any(mark in text for mark in ("<strong>", "</strong>", "&quot;", "&#x27;", "&amp;")), text
    assert found[0].record["description"].startswith('A "Hello, World!" program is usually a simple computer program')
    assert found[0].record["title"] == '"Hello, World!" program - Wikipedia'
    learnpython = next(f.record["description"] for f in found if "reddit.com" in f.url)
    assert learnpython.startswith("It's far less depressing than Goodbye")
    assert "the K&R C book from the '70s" in learnpython
    [sent] = fake.seen
    assert sent.headers["x-subscription-token"] == KEYS.brave_api_key
    assert sent.query == {"q": "hello world", "count": "20"}


async def test_brave_highlighting_inside_a_word_does_not_split_it(settings, loopback, recordings):
    """`<strong>hello</strong>-<strong>world</strong>.go` reads "hello-world.go" once the highlighting is gone,
    and `Goodbye <strong>World</strong>.` reads "Goodbye World." (not "Goodbye World .")."""
    fake = FakeBrave(loopback, body=recorded(BRAVE_HELLO))

    found = await call(fake.settings(settings), lambda ctx: web_search.search(ctx, "hello world", 20))

    text = {f.url: f.record["description"] for f in found}
    assert "put the code in hello-world.go" in text["https://gobyexample.com/hello-world"]
    learnpython = next(value for url, value in text.items() if "reddit.com" in url)
    assert learnpython.startswith("It's far less depressing than Goodbye World. ...")


async def test_brave_trimmed_recording_and_a_last_page_without_web(settings, loopback, recordings):
    """The trimmed 2023 answer (1 web result, `more_results_available: true`) gives its lead; the next page
    (offset=1) answers without a `web` block, which ends the search instead of failing it."""
    fake = FakeBrave(loopback, body=recorded(BRAVE_TRIMMED))

    found = await call(fake.settings(settings), lambda ctx: web_search.search(ctx, "Blue tack", 20))

    assert [f.url for f in found] == ["https://en.wikipedia.org/wiki/Blu_Tack"]
    description = found[0].record["description"]
    assert description.startswith("Blu Tack is a reusable putty-like pressure-sensitive adhesive produced by Bostik")
    assert "<strong>" not in description and description.endswith("also available in other colours.")
    assert [c.query.get("offset") for c in fake.seen] == [None, "1"]


async def test_brave_invalid_token_is_bad_key(settings, loopback, recordings):
    """422 SUBSCRIPTION_TOKEN_INVALID is `bad_key`, naming RECRUITER_BRAVE_API_KEY, not the key."""
    fake = FakeBrave(loopback, body=recorded(BRAVE_HELLO))
    s = fake.settings(settings).with_(credentials=replace(KEYS, brave_api_key="brave-key-wrong-0000"))

    error = await failure(s, lambda ctx: web_search.search(ctx, "hello world", 20))

    assert isinstance(error, BadCredentials) and error.kind == "bad_key"
    assert "RECRUITER_BRAVE_API_KEY" in str(error) and "SUBSCRIPTION_TOKEN_INVALID" in str(error)
    assert_no_secret(str(error), "brave-key-wrong-0000")


async def test_brave_429_retry_after_is_waited_out_then_succeeds(settings, loopback, recordings):
    """A 429 with `Retry-After: 2` is waited out at the gate: the retry reaches Brave at least 2 s after the
    refusal was answered, and then the results come."""
    limited = reply_json({"type": "ErrorResponse", "error": {"status": 429, "code": "RATE_LIMITED",
                                                             "detail": "Request rate limit exceeded for plan."}},
                         429, {"Retry-After": "2", "X-RateLimit-Limit": "1, 2000", "X-RateLimit-Remaining": "0, 1990",
                               "X-RateLimit-Reset": "1, 2000000"})
    fake = FakeBrave(loopback, body=recorded(BRAVE_HELLO), answers=[limited])

    found = await call(fake.settings(settings), lambda ctx: web_search.search(ctx, "hello world", 20))

    assert len(found) == 20
    refused, retry = fake.seen
    assert retry.at - refused.answered >= 1.95  # 2 s, less the moment the server takes to note its answer


async def test_brave_spent_monthly_window_holds_the_api(settings, loopback, recordings):
    """`X-RateLimit-Remaining: 1, 0` with `X-RateLimit-Reset: 1, 2000000`: the month's window is spent and resets
    in 23 days, far longer than we wait: a spent quota, not a rate limit. The answer in hand is used; the next
    call raises QuotaExhausted at once without a request, and so does the next command (the hold is kept in
    $RECRUITER_HOME)."""
    body = recorded(BRAVE_HELLO)
    fake = FakeBrave(loopback, body=body, answers=[reply_json(body, 200, {
        "X-RateLimit-Limit": "1, 2000", "X-RateLimit-Remaining": "1, 0", "X-RateLimit-Reset": "1, 2000000"})])
    s = fake.settings(settings)

    async with PoliteClient(s) as client:
        ctx = ScrapeContext(client, s)
        found = await web_search.search(ctx, "hello world", 20)
        started = time.monotonic()
        with pytest.raises(QuotaExhausted) as held:
            await web_search.search(ctx, "trail running", 20)
        took = time.monotonic() - started
    again = await failure(s, lambda ctx: web_search.search(ctx, "ultra running", 20))

    assert len(found) == 20 and took < 0.5
    assert held.value.kind == "quota" and "23 days" in str(held.value)
    assert isinstance(again, QuotaExhausted)
    assert len(fake.seen) == 1


async def test_brave_spent_per_second_window_is_a_short_wait_not_a_hold(settings, loopback, recordings):
    """`X-RateLimit-Remaining: 0, 10` with `X-RateLimit-Reset: 1, 2000000`: the per-second window is spent (it
    resets in 1 s) while 10 calls are left this month. The next call waits about a second and is sent; holding
    the API for the month's 23 days would stop discovery for nothing."""
    body = recorded(BRAVE_HELLO)
    fake = FakeBrave(loopback, body=body, answers=[reply_json(body, 200, {
        "X-RateLimit-Limit": "1, 2000", "X-RateLimit-Remaining": "0, 10", "X-RateLimit-Reset": "1, 2000000"})])

    async with PoliteClient(fake.settings(settings)) as client:
        ctx = ScrapeContext(client, client.settings)
        await web_search.search(ctx, "hello world", 20)
        found = await web_search.search(ctx, "trail running", 20)

    assert len(found) == 20
    first, second = fake.seen
    assert second.at - first.answered >= 0.95


async def test_concurrent_calls_to_one_api_keep_its_pace(settings, loopback, recordings):
    """Discovery runs its searches concurrently through one client; each API's pace still holds between them:
    two searches started together reach Brave one interval (0.5 s here) apart, not at once."""
    fake = FakeBrave(loopback, body=recorded(BRAVE_HELLO))
    s = fake.settings(settings)
    s = s.with_(api_intervals={**s.api_intervals, "brave": 0.5})

    async with PoliteClient(s) as client:
        ctx = ScrapeContext(client, s)
        await asyncio.gather(web_search.search(ctx, "hello world", 20), web_search.search(ctx, "hello there", 20))

    first, second = sorted(fake.seen, key=lambda seen: seen.at)
    assert second.at - first.answered >= 0.45


# --- SearXNG (no recording exists: the answer follows the field list in SOURCES.md) ------------------------

def searxng_result(url: str, title: str, content: str, engines: list[str], score: float) -> dict:
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    return {"url": url, "title": title, "content": content, "engine": engines[0], "engines": engines,
            "positions": list(range(1, len(engines) + 1)), "score": score, "category": "general",
            "parsed_url": [scheme, host, "/" + path, "", "", ""], "template": "default.html", "publishedDate": None}


SEARXNG = {
    "query": "trail running podcast",
    "number_of_results": 0,
    "results": [
        searxng_result("https://www.trailrunnernation.com/", "Trail Runner Nation",
                       "The podcast for trail and ultra runners: training, races and gear.",
                       ["duckduckgo", "brave", "qwant"], 9.0),
        searxng_result("https://www.irunfar.com/podcast", "iRunFar Podcast",
                       "Interviews with the people of trail and mountain running.", ["duckduckgo", "brave"], 4.5),
        searxng_result("https://www.bing.com/videos/search?q=trail+running+podcast", "trail running podcast - Bing",
                       "Videos for trail running podcast", ["bing"], 1.0),
        searxng_result("https://ultrarunnerpodcast.com/", "URP - UltraRunnerPodcast",
                       "Weekly ultramarathon interviews & race reports.", ["qwant"], 1.2),
    ],
    "answers": [],
    "corrections": [],
    "infoboxes": [],
    "suggestions": ["trail running podcast apple", "best trail running podcasts"],
    "unresponsive_engines": [["google", "timeout"]],
}


async def test_searxng_results_parse(settings, loopback):
    """The user's own SearXNG answers `format=json`: each result is a lead with its title and `content`; a
    search engine's own link is left out; the second page, empty, ends the search."""
    fake = FakeSearxng(loopback, payload=SEARXNG)

    found = await call(fake.settings(settings), lambda ctx: web_search.search(ctx, "trail running podcast", 10))

    assert [f.url for f in found] == ["https://www.trailrunnernation.com/", "https://www.irunfar.com/podcast",
                                      "https://ultrarunnerpodcast.com/"]
    assert (found[2].record["title"], found[2].record["description"]) == (
        "URP - UltraRunnerPodcast", "Weekly ultramarathon interviews & race reports.")
    assert all(not f.authoritative for f in found)
    assert [(c.query["format"], c.query["pageno"]) for c in fake.seen] == [("json", "1"), ("json", "2")]


async def test_searxng_without_json_format_says_how_to_enable_it(settings, loopback):
    """An instance whose settings.yml does not list `json` in `search.formats` answers 403: the message says
    exactly that."""
    fake = FakeSearxng(loopback, payload=SEARXNG, json_allowed=False)

    error = await failure(fake.settings(settings), lambda ctx: web_search.search(ctx, "trail running", 10))

    assert "search.formats" in str(error) and "json" in str(error)


async def test_searxng_with_every_engine_down_is_not_no_results(settings, loopback):
    """No results and engines listed as unresponsive (CAPTCHAs, limits) is a rate limit naming them."""
    fake = FakeSearxng(loopback, payload={**SEARXNG, "results": [], "unresponsive_engines": [
        ["duckduckgo", "CAPTCHA"], ["brave", "too many requests"]]})

    error = await failure(fake.settings(settings), lambda ctx: web_search.search(ctx, "trail running", 10))

    assert error.kind == "rate_limited" and "duckduckgo (CAPTCHA)" in str(error) and "brave" in str(error)


# --- DuckDuckGo (a page, crawled) ---------------------------------------------------------------------------

def ddg_link(url: str, rut: str) -> str:
    from urllib.parse import quote

    return f"//duckduckgo.com/l/?uddg={quote(url, safe='')}&amp;rut={rut}"


def ddg_result(url: str, title: str, snippet: str, *, ad: bool = False) -> str:
    kind = "result--ad" if ad else "web-result"
    return f"""
  <div class="result results_links results_links_deep {kind} ">
    <div class="links_main links_deep result__body">
      <h2 class="result__title">
        <a rel="nofollow" class="result__a" href="{ddg_link(url, 'a1')}">{title}</a>
      </h2>
      <div class="result__extras"><div class="result__extras__url">
        <a class="result__url" href="{ddg_link(url, 'a2')}">{url.split('/')[2]}</a>
      </div></div>
      <a class="result__snippet" href="{ddg_link(url, 'a3')}">{snippet}</a>
      <div class="clear"></div>
    </div>
  </div>"""


DDG_RESULTS = f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8"><title>trail running podcast at DuckDuckGo</title></head>
<body><div id="links" class="results">
{ddg_result("https://shoes.example/trail-sale", "Trail Shoes <b>Sale</b>", "Up to 50% off trail shoes.", ad=True)}
{ddg_result("https://www.trailrunnernation.com/", "Trail Runner <b>Nation</b>",
            "The <b>trail running</b> podcast for runners &amp; ultra runners.")}
{ddg_result("https://www.irunfar.com/podcast", "iRunFar <b>Podcast</b>",
            "Interviews with the people of <b>trail</b> and mountain <b>running</b>.")}
<div class="nav-link"><form action="/html/" method="post"><input type="submit" class="btn btn--alt" value="Next">
<input type="hidden" name="q" value="trail running podcast"></form></div>
</div></body></html>"""

DDG_CAPTCHA = """<!DOCTYPE html><html lang="en-US"><head><title>DuckDuckGo</title></head><body>
<div class="anomaly-modal__mask"><div class="anomaly-modal__modal" data-testid="anomaly-modal">
<div class="anomaly-modal__title">Unfortunately, bots use DuckDuckGo too.</div>
<div class="anomaly-modal__description">Please complete the following challenge to confirm this search was made by
a human.</div>
<form id="challenge-form" action="//duckduckgo.com/anomaly.js?sv=html&amp;cc=sre&amp;ti=1735600000&amp;gk=d4cd0dab&amp;q=trail%20running%20podcast" method="POST">
<div class="anomaly-modal__images"></div><button class="anomaly-modal__submit" type="submit">Submit</button>
</form></div></div></body></html>"""


async def test_duckduckgo_202_is_a_rate_limit_not_an_empty_list(settings, loopback):
    """DuckDuckGo answers scripts HTTP 202 with no results: an error naming its rate limit, never "nothing
    found"."""
    fake = FakeDuckDuckGo(loopback, page="<html><body><p>Please try again.</p></body></html>", status=202)

    error = await failure(fake.settings(settings), lambda ctx: web_search.search(ctx, "trail running", 10))

    assert error.kind == "rate_limited" and "202" in str(error) and "rate limit" in str(error)


async def test_duckduckgo_captcha_page_is_an_error(settings, loopback):
    """The bot check ("anomaly" modal with its challenge form) is an error saying so."""
    fake = FakeDuckDuckGo(loopback, page=DDG_CAPTCHA)

    error = await failure(fake.settings(settings), lambda ctx: web_search.search(ctx, "trail running", 10))

    assert error.kind == "rate_limited" and "CAPTCHA" in str(error)


async def test_duckduckgo_page_without_results_markup_is_an_error(settings, loopback):
    """A page with neither result links nor DuckDuckGo's "no results" notice is not a result page; a real
    "No results." page is an empty list."""
    broken = FakeDuckDuckGo(loopback, page="<html><body><h1>Service temporarily unavailable</h1></body></html>")
    empty = FakeDuckDuckGo(loopback, page='<html><body><div class="no-results">No results.</div></body></html>')

    error = await failure(broken.settings(settings), lambda ctx: web_search.search(ctx, "trail running", 10))
    nothing = await call(empty.settings(settings), lambda ctx: web_search.search(ctx, "zzqqxx", 10))

    assert "no results markup" in str(error)
    assert nothing == []


async def test_duckduckgo_results_page_gives_leads_with_snippets(settings, loopback):
    """A results page: each result's link is unwrapped from DuckDuckGo's redirect (`//duckduckgo.com/l/?uddg=`)
    and comes with its title and snippet; ads are skipped."""
    fake = FakeDuckDuckGo(loopback, page=DDG_RESULTS)

    found = await call(fake.settings(settings), lambda ctx: web_search.search(ctx, "trail running podcast", 10))

    assert [f.url for f in found] == ["https://www.trailrunnernation.com/", "https://www.irunfar.com/podcast"]
    assert (found[0].record["title"], found[0].record["description"]) == (
        "Trail Runner Nation", "The trail running podcast for runners & ultra runners.")
    assert all(not f.authoritative and f.source == "web" for f in found)
    [page] = fake.calls("/html/")
    assert page.query == {"q": "trail running podcast"}


# --- check_source ---------------------------------------------------------------------------------------------

def all_fakes(loopback, **youtube_options):
    return {
        "reddit": FakeReddit(loopback, search=recorded(REDDIT_2020)),
        "youtube": FakeYouTube(loopback, channels=recorded(YT_CHANNELS_2023), **youtube_options),
        "podcasts": FakePodcastIndex(loopback, byterm=recorded(PI_BYTERM)),
        "itunes": FakeItunes(loopback, search=recorded(ITUNES_GRUBER), lookups={}),
        "brave": FakeBrave(loopback, body=recorded(BRAVE_HELLO)),
    }


def pointed_at(settings, fakes, credentials=KEYS):
    s = api_settings(settings, web_search="brave").with_(credentials=credentials)
    return with_bases(s, reddit=fakes["reddit"].origin, reddit_oauth=fakes["reddit"].origin,
                      youtube_api=fakes["youtube"].origin + FakeYouTube.BASE,
                      podcastindex=fakes["podcasts"].origin + FakePodcastIndex.BASE,
                      itunes=fakes["itunes"].origin, brave=fakes["brave"].origin + FakeBrave.BASE)


async def checks(settings, names=connectors.NAMES) -> dict[str, connectors.SourceCheck]:
    async def run(ctx):
        return {name: await connectors.check_source(ctx, name) for name in names}
    return await call(settings, run)


async def test_check_source_says_ok_for_every_source(settings, loopback, recordings):
    """`recruiter sources check` makes one cheap call per source: against the fakes each one says ok, and so
    does the web source on each of its three engines."""
    results = await checks(pointed_at(settings, all_fakes(loopback)))
    searxng = await checks(FakeSearxng(loopback, payload=SEARXNG).settings(settings), ["web"])
    duckduckgo = await checks(FakeDuckDuckGo(loopback, page=DDG_RESULTS).settings(settings), ["web"])

    assert {name: (c.status, c.ok) for name, c in results.items()} == dict.fromkeys(connectors.NAMES, ("ok", True))
    assert results["web"].message == "brave answered (3 results)"
    assert (searxng["web"].status, duckduckgo["web"].status) == ("ok", "ok")


async def test_check_source_with_wrong_keys_says_bad_key(settings, loopback, recordings):
    """Wrong credentials for every keyed source: each says `bad_key` (iTunes needs none and stays ok), and no
    message shows a key."""
    wrong = Credentials(reddit_client_id="client-id-4f2a", reddit_client_secret="not-the-secret",
                        youtube_api_key="not-the-youtube-key", podcastindex_key=KEYS.podcastindex_key,
                        podcastindex_secret="not-the-pi-secret", brave_api_key="not-the-brave-key")

    results = await checks(pointed_at(settings, all_fakes(loopback), wrong))

    assert {name: c.status for name, c in results.items()} == {
        "reddit": "bad_key", "youtube": "bad_key", "podcasts": "bad_key", "itunes": "ok", "web": "bad_key"}
    for check in results.values():
        assert_no_secret(check.message, *wrong.secrets())


async def test_check_source_with_the_quota_spent_says_quota(settings, loopback, recordings):
    """YouTube answering quotaExceeded: `quota`."""
    results = await checks(pointed_at(settings, all_fakes(loopback, quota=True)), ["youtube"])

    assert results["youtube"].status == "quota" and "quota" in results["youtube"].message


async def test_check_source_without_credentials_says_not_configured(settings, loopback):
    """No credentials: each keyed source says `not_configured` naming what to set, without calling anything;
    the web source is keyless (DuckDuckGo) unless an engine that needs something was chosen."""
    bare = settings.with_(credentials=Credentials())

    results = await checks(bare, ["reddit", "youtube", "podcasts"])
    brave = await checks(bare.with_(web_search="brave"), ["web"])
    searxng = await checks(bare.with_(web_search="searxng"), ["web"])

    assert {name: c.status for name, c in results.items()} == dict.fromkeys(("reddit", "youtube", "podcasts"),
                                                                          "not_configured")
    assert all(variable in results["reddit"].message for variable in REDDIT_VARIABLES)
    assert "RECRUITER_YOUTUBE_API_KEY" in results["youtube"].message
    assert "RECRUITER_PODCASTINDEX_SECRET" in results["podcasts"].message
    assert brave["web"].status == "not_configured" and "RECRUITER_BRAVE_API_KEY" in brave["web"].message
    assert searxng["web"].status == "not_configured" and "RECRUITER_SEARXNG_URL" in searxng["web"].message


async def test_check_source_with_nothing_listening_says_unreachable(settings):
    """Every base URL on a closed port: each source says `unreachable` (the web source on Brave and on
    DuckDuckGo alike)."""
    dead = f"http://127.0.0.1:{closed_port()}"
    s = with_bases(api_settings(settings, web_search="brave"), reddit=dead, reddit_oauth=dead,
                   youtube_api=dead + "/youtube/v3", podcastindex=dead + "/api/1.0", itunes=dead,
                   brave=dead + "/res/v1", web_search=dead + "/html/")

    results = await checks(s)
    duckduckgo = await checks(s.with_(web_search="duckduckgo"), ["web"])

    assert {name: c.status for name, c in results.items()} == dict.fromkeys(connectors.NAMES, "unreachable")
    assert duckduckgo["web"].status == "unreachable"


# --- long podcast feeds -------------------------------------------------------------------------------------

HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        b'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>The Long Archive</title>'
        b"<link>https://longarchive.example/</link><description>Every episode since 2006.</description>"
        b"<language>en</language><itunes:author>Ada Archive</itunes:author>")


def long_feed(episodes: int = 4000, notes: int = 3600) -> bytes:
    """A podcast feed of ``episodes`` items, newest first, each with ``notes`` bytes of show notes."""
    text = ("Show notes with links and timestamps. " * (notes // 38 + 1))[:notes]
    items = []
    for n in range(episodes, 0, -1):
        items.append(f"<item><title>Episode {n}: part {n} of the archive</title>"
                     f"<link>https://longarchive.example/episodes/{n}</link><guid isPermaLink=\"false\">la-{n}</guid>"
                     f"<pubDate>{formatdate(1_140_000_000 + n * 86_400 * 4, usegmt=True)}</pubDate>"
                     f"<enclosure url=\"https://cdn.longarchive.example/{n}.mp3\" length=\"48000000\" "
                     f"type=\"audio/mpeg\"/><description><![CDATA[<p>{text}</p>]]></description></item>")
    return HEAD + "".join(items).encode() + b"</channel></rss>"


class Streamer:
    """A route writing ``body`` in 64 KB chunks (with a Content-Length, or until it closes the connection),
    noting for each request how much it wrote and whether the client hung up first."""

    def __init__(self, body: bytes, *, declare_length: bool = True, etag: str | None = None):
        self.body, self.declare_length, self.etag = body, declare_length, etag
        self.streams: list[dict] = []
        self.conditional: list[str | None] = []
        self.finished = threading.Semaphore(0)

    def __call__(self, request) -> None:
        self.conditional.append(request.headers.get("If-None-Match"))
        if self.etag and request.headers.get("If-None-Match") == self.etag:
            send(request, 304, b"", None, {"ETag": self.etag})
            return
        stream = {"sent": 0, "hung_up": False}
        self.streams.append(stream)
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        if self.etag:
            request.send_header("ETag", self.etag)
        if self.declare_length:
            request.send_header("Content-Length", str(len(self.body)))
        else:
            request.send_header("Connection", "close")
            request.close_connection = True
        request.end_headers()
        try:
            for start in range(0, len(self.body), 65536):
                request.wfile.write(self.body[start:start + 65536])
                stream["sent"] = start + len(self.body[start:start + 65536])
                if stream["sent"] > 1_048_576:
                    time.sleep(0.001)  # past the first MB, leave the client time to hang up
        except (BrokenPipeError, ConnectionResetError):
            stream["hung_up"] = True
            request.close_connection = True
        finally:
            self.finished.release()

    def wait(self, count: int) -> None:
        for _ in range(count):
            assert self.finished.acquire(timeout=10), "the server is still writing"


async def test_a_long_podcast_feed_is_read_only_as_far_as_needed(settings, loopback):
    """A 15 MB feed of 4,000 episodes: reading stops after the first 100 items (the response says so with its
    cut marker, and the server sees the client hang up), and the record is ok with the newest 50 episodes."""
    body = long_feed()
    assert 14_000_000 < len(body) < 20 * 1024 * 1024
    feed = Streamer(body)
    server = loopback({"/archive.xml": feed})
    s = settings.with_(total_timeout=15.0)

    async with PoliteClient(s) as client:
        response = await client.get(server.url("/archive.xml"))
    [record] = await scrape_urls([server.url("/archive.xml")], settings=s)
    feed.wait(2)

    assert response.headers[CUT_HEADER] == "items=100"
    assert response.body.count(b"</item>") == 100 and response.body.endswith(b"</item>")
    assert record["ok"], record["error"]
    assert (record["kind"], record["name"], len(record["items"])) == ("podcast", "The Long Archive", 50)
    assert record["items"][0]["title"] == "Episode 4000: part 4000 of the archive"
    assert all(stream["hung_up"] and stream["sent"] < len(body) for stream in feed.streams), feed.streams


async def test_a_feed_beyond_20_mb_fails_naming_the_limit(settings, loopback):
    """A 25 MB feed with one giant item (never 100 items to stop at) fails as too large, naming the 20 MB
    limit: whether it declares its length (refused before reading) or not (cut while streaming)."""
    giant = (HEAD + b"<item><title>Everything at once</title><description>" + b"x" * (25 * 1024 * 1024)
             + b"</description></item></channel></rss>")
    undeclared = Streamer(giant, declare_length=False)
    declared = Streamer(giant)
    server = loopback({"/streamed.xml": undeclared, "/declared.xml": declared})

    records = await scrape_urls([server.url("/streamed.xml"), server.url("/declared.xml")],
                                settings=settings.with_(total_timeout=15.0))
    undeclared.wait(1)
    declared.wait(1)

    for record in records:
        assert not record["ok"]
        assert "too large" in record["error"] and "20 MB" in record["error"], record["error"]
    assert undeclared.streams[0]["hung_up"] and declared.streams[0]["hung_up"]


async def test_a_long_feed_read_again_through_the_cache_is_still_ok(settings, loopback):
    """A long feed with an ETag is scraped twice: the second time the server answers 304 and the cached copy is
    used. That copy was cut after 100 items on purpose and must still read as a feed, not a truncated one."""
    feed = Streamer(long_feed(), etag='"archive-v1"')
    server = loopback({"/archive.xml": feed})
    s = settings.with_(total_timeout=15.0)

    [first] = await scrape_urls([server.url("/archive.xml")], settings=s)
    [second] = await scrape_urls([server.url("/archive.xml")], settings=s)

    assert first["ok"], first["error"]
    assert feed.conditional[-1] == '"archive-v1"'  # the second read was a revalidation
    assert second["ok"], second["error"]
    assert len(second["items"]) == 50


# --- enrich() and merge() -----------------------------------------------------------------------------------

async def test_enrich_keeps_an_authoritative_record_when_its_feed_fails(settings, loopback, recordings):
    """A podcast Podcast Index described is saved as described when its feed cannot be read (here: HTTP 500,
    retried): ok, with a warning saying what could not be read."""
    server = loopback({"/pc20rss.xml": lambda request: send(request, 500, "upstream down", "text/plain")})
    feed = dict(recorded_json(PI_BYTERM)["feeds"][0], url=server.url("/pc20rss.xml"))
    known = podcastindex.feed_record(feed)

    async def run(ctx):
        return await enrich(ctx, known["url"], known, authoritative=True, source="Podcast Index")
    record, links, warning = await call(settings, run)

    assert record["ok"] and record["error"] is None and links == []
    assert {k: record[k] for k in ("url", "kind", "name", "author", "site_url", "feed_url")} == {
        "url": known["url"], "kind": "podcast", "name": "Podcasting 2.0", "author": "Podcast Index LLC",
        "site_url": "http://podcastindex.org", "feed_url": known["url"]}
    assert record["description"] == known["description"]
    assert warning.startswith("kept what Podcast Index said; reading its feed failed") and "HTTP 500" in warning


async def test_enrich_drops_a_web_lead_pointing_into_a_private_network(settings, loopback, monkeypatch):
    """A search result naming 127.0.0.2 (not in RECRUITER_ALLOW_PRIVATE=127.0.0.1) is dropped, not kept as a
    lead: nothing is sent there, not even a robots.txt request. The same lead on an allowed address is read."""
    monkeypatch.setenv("RECRUITER_ALLOW_PRIVATE", "127.0.0.1")
    page = "<html><head><title>Router admin</title><meta name='description' content='Settings'></head></html>"
    inside = loopback({"/admin": lambda request: send(request, 200, page)}, host="127.0.0.2")
    allowed = loopback({"/admin": lambda request: send(request, 200, page)})

    async def run(ctx, url):
        lead = web_search.lead(url, "Router admin", "Configure your router", "web")
        return await enrich(ctx, lead.url, lead.record, authoritative=False, source="the web search")
    dropped, links, warning = await call(settings, lambda ctx: run(ctx, inside.url("/admin")))
    kept, _links, kept_warning = await call(settings, lambda ctx: run(ctx, allowed.url("/admin")))

    assert not dropped["ok"] and "127.0.0.2" in dropped["error"] and "private" in dropped["error"]
    assert warning is None and links == [] and inside.requests == []
    assert kept["ok"] and kept_warning is None and kept["title"] == "Router admin"


def test_merge_lets_the_authoritative_side_win_and_pools_contacts():
    """What an API said wins each field it fills (name, counts); the page fills the rest, contacts are pooled and
    the posts are the page's. A search engine's snippet is not authoritative: the page wins over it."""
    api = {"url": "https://www.reddit.com/r/golang/", "ok": True, "kind": "subreddit", "name": "r/golang",
           "audience_size": 116532, "description": "Ask questions about Go.", "emails": [], "items": []}
    page = {"url": "https://www.reddit.com/r/golang/", "ok": True, "kind": "subreddit", "name": "golang",
            "audience_size": 100, "description": "The page says this.", "language": "en",
            "emails": ["mods@golang.example"], "items": [{"title": "Go 1.22 is out"}]}

    merged = merge(api, page, authoritative=True)
    snippet = merge({**api, "name": "Golang - Search result", "audience_size": None}, page, authoritative=False)

    assert (merged["name"], merged["audience_size"], merged["description"], merged["language"]) == (
        "r/golang", 116532, "Ask questions about Go.", "en")
    assert merged["emails"] == ["mods@golang.example"] and merged["items"] == [{"title": "Go 1.22 is out"}]
    assert (snippet["name"], snippet["audience_size"]) == ("golang", 100)


def test_an_answer_nested_past_any_real_json_is_an_api_error_not_a_crash():
    """A broken or hostile API answering `[[[[...]]]]` a million deep: one clear error, not a RecursionError."""
    from scrapers.api import ApiResponse

    answer = ApiResponse(200, {}, b"[" * 1_000_000 + b"]" * 1_000_000, "https://api.example/v1?key=***")
    with pytest.raises(ApiError, match="expected JSON"):
        answer.json()
