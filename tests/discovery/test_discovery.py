"""Discovery: searches through the APIs, saving what they describe, snowballing, ranking, skipping what is not
configured, and resuming an interrupted job."""

from __future__ import annotations

import pytest
from api_helpers import KEYS, TOKEN, add_reddit, api_settings
from scrape_helpers import FakeWeb
from sqlmodel import select

from recruiter.accounts.roles import Actor
from recruiter.core.jobs import job_view
from recruiter.core.models import Community, Job
from recruiter.discovery.discover import DiscoveryError, build_queries, match_score, plan, profile_terms
from recruiter.tasks.submit import run_discovery

BLOG = """<html><head><title>Mountain Miles - trail running blog</title>
<meta name="description" content="Trail running races, ultramarathon training and gear."></head>
<body><h1>Mountain Miles</h1><p>Trail running every week.</p>
<div class="blogroll"><a href="https://friend.test/">Friend's trail running blog</a>
<a href="https://www.reddit.com/r/trailrunning/">r/trailrunning</a></div></body></html>"""
FRIEND = """<html><head><title>Friend Runs - ultramarathon notes</title>
<meta name="description" content="Ultramarathon and trail running notes."></head><body>
<div class="blogroll"><a href="https://third.test/">Third</a></div></body></html>"""
DDG = ('<div id="links"><div class="result results_links web-result"><h2 class="result__title">'
       '<a class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fmountainmiles.test%2F">Mountain Miles</a>'
       '</h2><a class="result__snippet" href="#">Trail running races and ultramarathon training.</a></div></div>')


def discovery_web(tokens: list | None = None) -> FakeWeb:
    web = FakeWeb()
    add_reddit(web, tokens=tokens)
    web.add_fixture("https://itunes.apple.com/search", "itunes_search.json", "text/javascript; charset=utf-8")
    web.add_fixture("https://longrun.test/podcast.xml", "podcast.xml", "application/rss+xml")
    web.add("https://html.duckduckgo.com/html/", DDG)
    web.add("https://mountainmiles.test/", BLOG)
    web.add("https://friend.test/", FRIEND)
    web.add("https://third.test/", "<html><head><title>Third site about trail running</title></head></html>")
    return web


@pytest.fixture
def profile(session):
    from recruiter.core.models import Profile

    row = Profile(name="Trail shoes", description="Trail running shoes for ultramarathon runners.",
                  keywords=["trail running", "ultramarathon"], exclusions=["road cycling"])
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


@pytest.fixture
def db_env(db_url, monkeypatch):
    monkeypatch.setenv("RECRUITER_DB", db_url)
    return db_url


def test_queries_and_match_scores(profile):
    queries = build_queries(profile, ["mountain races"])
    assert queries[0] == "mountain races" and "trail running" in queries
    terms, exclusions = profile_terms(profile)
    assert "trail running" in terms and exclusions == ["road cycling"]
    good = {"name": "Trail running club", "description": "ultramarathon training"}
    assert match_score(good, terms, exclusions) > 0.1
    assert match_score({**good, "description": "road cycling and trail running"}, terms, exclusions) == 0


def test_discovery_saves_what_the_apis_describe_snowballs_and_ranks(settings, session, profile, db_env):
    tokens: list = []
    web = discovery_web(tokens)
    result = run_discovery(profile.name, actor=Actor.cli(), session=session, sources=["reddit", "itunes", "web"], limit=5, delay=0,
                           settings=api_settings(settings, web_search="duckduckgo"), transport=web.transport)
    communities = {c.url: c for c in session.exec(select(Community)).all()}
    trail = communities["https://www.reddit.com/r/trailrunning/"]
    assert (trail.name, trail.audience_size) == ("r/trailrunning", 245123)
    assert trail.description == "A community for trail runners & ultramarathoners."  # entities decoded
    assert trail.recent_posts[:1] == ["Finished my first 50k!"]  # enriched through the API's top posts
    private = communities["https://www.reddit.com/r/ultrarunning/"]  # no posts to read: kept, with a warning
    assert private.audience_size is None and private.name == "r/ultrarunning"
    assert "https://www.reddit.com/r/nsfwrunning/" not in communities
    assert any("longrun.test" in u for u in communities)
    assert any("mountainmiles.test" in u for u in communities)
    assert any("friend.test" in u for u in communities)  # snowballed from the blogroll
    assert not any("third.test" in u for u in communities)  # only one level deep
    assert len(tokens) == 1, "one token request serves every Reddit call of the run"
    fetched = [u for u in web.urls() if not u.endswith("/robots.txt")]
    assert len(fetched) == len(set(fetched)), "a URL was fetched twice in one run"
    assert not any("reddit.com/robots.txt" in u or "itunes.apple.com/robots.txt" in u for u in web.urls())
    job = session.get(Job, result["job_id"])
    assert job.kind == "discover" and job.state == "done" and job.progress == 1.0
    assert result["ranked"] and result["ranked"][0]["url"]
    assert result["warned"] >= 1 and any("r/ultrarunning" in w for w in result["warnings"])
    view = job_view(job.id, session=session)
    assert any(w.input.get("url", "").endswith("/r/ultrarunning/") for w in view.warnings)


def test_a_source_without_its_keys_is_skipped_with_the_variable_to_set(settings, session, profile, db_env):
    web = discovery_web()
    keyless = settings.with_(credentials=KEYS.__class__(brave_api_key="x" * 20))
    result = run_discovery(profile.name, actor=Actor.cli(), session=session, sources=["reddit", "itunes"], limit=5, delay=0,
                           settings=keyless, transport=web.transport)
    assert result["state"] == "done"
    assert result["skipped"] == [{"source": "reddit", "reason": "reddit is not configured: set "
                                  "RECRUITER_REDDIT_CLIENT_ID and RECRUITER_REDDIT_CLIENT_SECRET"}]
    assert not any("reddit.com" in u for u in web.urls())
    with pytest.raises(DiscoveryError, match="RECRUITER_YOUTUBE_API_KEY"):
        plan(profile, sources=["youtube"], settings=keyless)


def test_interrupted_discovery_resumes_without_repeating_finished_work(settings, session, profile, db_env):
    web = discovery_web()
    seen = {"n": 0}

    def interrupt_after_some_items(done: int, total: int) -> None:
        seen["n"] += 1
        if seen["n"] == 4:
            raise KeyboardInterrupt

    fast = api_settings(settings, global_concurrency=1, web_search="duckduckgo")
    with pytest.raises(KeyboardInterrupt):
        run_discovery(profile.name, actor=Actor.cli(), session=session, sources=["reddit", "web"], limit=5, delay=0, settings=fast,
                      transport=web.transport, progress=interrupt_after_some_items)
    [job] = session.exec(select(Job)).all()
    session.refresh(job)
    assert job.state == "interrupted" and job.done >= 3
    first_run = [u for u in web.urls() if not u.endswith("/robots.txt")]
    web.requests.clear()
    result = run_discovery(profile.name, actor=Actor.cli(), session=session, sources=["web", "reddit"], limit=5, delay=0, settings=fast,
                           transport=web.transport)
    assert result["job_id"] == job.id  # asked the same way: the same job, continued
    second_run = [u for u in web.urls() if not u.endswith("/robots.txt")]
    searches = [u for u in first_run if "search" in u]
    assert not set(searches) & set(second_run), "a finished search ran again"
    session.refresh(job)
    assert job.state == "done"


async def test_discovery_queued_on_items_finds_the_same_communities(settings, session, profile, db_env):
    """`discover --queue` runs the same items on workers; run here by the workers' code it saves the same."""
    from recruiter.tasks.submit import submit_discover
    from recruiter.tasks.work import run_job_inline

    web = discovery_web()
    job = submit_discover(profile.name, actor=Actor.cli(), session=session, sources=["reddit", "itunes", "web"], limit=5, delay=0,
                          settings=api_settings(settings, web_search="duckduckgo"))
    assert job.state == "queued" and job.total >= 3
    await run_job_inline(job.id, transport=web.transport, settings=api_settings(settings, web_search="duckduckgo"))
    session.expire_all()
    urls = {c.url for c in session.exec(select(Community)).all()}
    assert "https://www.reddit.com/r/trailrunning/" in urls and "https://www.reddit.com/r/ultrarunning/" in urls
    assert any("friend.test" in u for u in urls) and not any("third.test" in u for u in urls)
    view = job_view(job.id, session=session)
    assert view.finished and view.done >= 5 and view.workers == {"in-process": view.done + view.failed}
    assert view.result["ranked"] and view.result["ranked"][0]["url"]
    assert all(f.error for f in view.failures)  # anything that failed says why


def test_discovery_where_everything_fails_ends_failed_with_reasons(settings, session, profile, db_env):
    """Offline, every search fails: the job is `failed` (not a green `done`), each failure keeps its reason
    and input, and running the same command again starts afresh instead of resuming the failed run."""
    web = discovery_web()
    web.add("https://oauth.reddit.com/subreddits/search", "down", status=404)
    first = run_discovery(profile.name, actor=Actor.cli(), session=session, sources=["reddit"], limit=5, delay=0,
                          settings=api_settings(settings, web_search="duckduckgo"), transport=web.transport)
    view = job_view(first["job_id"], session=session)
    assert first["state"] == view.state == "failed" and view.failed >= 1 and view.done == 0
    assert all("reddit search" in f.error and "404" in f.error for f in view.failures)
    assert view.failures[0].input["source"] == "reddit"
    again = run_discovery(profile.name, actor=Actor.cli(), session=session, sources=["reddit"], limit=5, delay=0,
                          settings=api_settings(settings, web_search="duckduckgo"), transport=web.transport)
    assert again["job_id"] != first["job_id"]
    assert TOKEN not in str(again) and KEYS.reddit_client_secret not in str(view.as_dict())
