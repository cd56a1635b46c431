"""Discovery: searches, snowballing, saving, ranking, and resuming a persisted job."""

from __future__ import annotations

import pytest
from scrape_helpers import FakeWeb, fixture_bytes

from recruiter.discovery.discover import JOB_KIND, build_queries, match_score, profile_terms, run_discovery

BLOG = """<html><head><title>Mountain Miles - trail running blog</title>
<meta name="description" content="Trail running races, ultramarathon training and gear."></head>
<body><h1>Mountain Miles</h1><p>Trail running every week.</p>
<div class="blogroll"><a href="https://friend.test/">Friend's trail running blog</a>
<a href="https://www.reddit.com/r/trailrunning/">r/trailrunning</a></div></body></html>"""
FRIEND = """<html><head><title>Friend Runs - ultramarathon notes</title>
<meta name="description" content="Ultramarathon and trail running notes."></head><body>
<div class="blogroll"><a href="https://third.test/">Third</a></div></body></html>"""


def discovery_web() -> FakeWeb:
    web = FakeWeb()
    web.add_fixture("https://www.reddit.com/subreddits/search.json", "reddit_search.json", "application/json")
    web.add_fixture("https://www.reddit.com/r/trailrunning/about.json", "reddit_about.json", "application/json")
    web.add_fixture("https://www.reddit.com/r/trailrunning/top.json", "reddit_top.json", "application/json")
    web.add("https://www.reddit.com/r/ultrarunning/about.json",
            fixture_bytes("reddit_about.json").replace(b"trailrunning", b"ultrarunning"), content_type="application/json")
    web.add_fixture("https://itunes.apple.com/search", "itunes_search.json", "application/json")
    web.add_fixture("https://longrun.test/podcast.xml", "podcast.xml", "application/rss+xml")
    web.add("https://html.duckduckgo.com/html/",
            '<a class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fmountainmiles.test%2F">Mountain Miles</a>')
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


def test_queries_and_match_scores(profile):
    queries = build_queries(profile, ["mountain races"])
    assert queries[0] == "mountain races" and "trail running" in queries
    terms, exclusions = profile_terms(profile)
    assert "trail running" in terms and exclusions == ["road cycling"]
    good = {"name": "Trail running club", "description": "ultramarathon training"}
    assert match_score(good, terms, exclusions) > 0.1
    assert match_score({**good, "description": "road cycling and trail running"}, terms, exclusions) == 0


async def test_discovery_searches_snowballs_saves_and_ranks(settings, session, profile):
    from sqlmodel import select

    from recruiter.core.models import Community, Job

    web = discovery_web()
    result = await run_discovery(profile, session=session, sources=["reddit", "podcasts", "web"], queries=[],
                                 limit=5, settings=settings, transport=web.transport)
    urls = {c.url for c in session.exec(select(Community)).all()}
    assert "https://www.reddit.com/r/trailrunning/" in urls
    assert any("longrun.test" in u for u in urls)
    assert any("mountainmiles.test" in u for u in urls)
    assert any("friend.test" in u for u in urls)  # snowballed from the blogroll
    assert not any("third.test" in u for u in urls)  # only one level deep
    fetched = [u for u in web.urls() if not u.endswith("/robots.txt")]
    assert len(fetched) == len(set(fetched)), "a URL was fetched twice in one run"
    job = session.get(Job, result["job_id"])
    assert job.kind == JOB_KIND and job.state == "done" and job.progress == 1.0
    assert result["ranked"] and result["ranked"][0]["url"]


async def test_interrupted_discovery_resumes_without_refetching(settings, session, profile):
    from recruiter.core.models import Job

    web = discovery_web()
    calls = {"n": 0}

    def interrupt_after_first_batch(stage, done, total):
        if stage == "scraping":
            calls["n"] += 1
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await run_discovery(profile, session=session, sources=["reddit", "web"], queries=[], limit=5,
                            settings=settings.with_(), transport=web.transport, progress=interrupt_after_first_batch,
                            rank=False)
    [job] = session.exec(__import__("sqlmodel").select(Job)).all()
    assert job.state == "interrupted" and job.cursor["scraped"] > 0
    first_run = [u for u in web.urls() if not u.endswith("/robots.txt")]
    web.requests.clear()
    result = await run_discovery(profile, session=session, sources=["web", "reddit"], queries=[], limit=5,
                                 settings=settings, transport=web.transport, rank=False)
    assert result["job_id"] == job.id  # same params: the same job resumed
    second_run = [u for u in web.urls() if not u.endswith("/robots.txt")]
    assert not set(first_run) & set(second_run), "a resumed run fetched a URL again"
    assert not any("search" in u for u in second_run)  # searches were done before the interruption
    session.refresh(job)
    assert job.state == "done"


async def test_discovery_as_job_items_finds_the_same_communities(session, profile, db_url, monkeypatch):
    """`discover --queue` cuts the run into items (searches, then URLs as they are found); run by the same
    code the workers run, it saves, snowballs one level deep and ranks like the in-process run."""
    from sqlmodel import select

    from recruiter.core.jobs import job_view
    from recruiter.core.models import Community
    from recruiter.tasks.submit import submit_discover
    from recruiter.tasks.work import run_job_inline

    monkeypatch.setenv("RECRUITER_DB", db_url)
    web = discovery_web()
    job = submit_discover(profile.name, session=session, sources=["reddit", "podcasts", "web"], limit=5, delay=0)
    assert job.state == "queued" and job.total >= 3
    await run_job_inline(job.id, transport=web.transport)
    session.expire_all()
    urls = {c.url for c in session.exec(select(Community)).all()}
    assert "https://www.reddit.com/r/trailrunning/" in urls
    assert any("friend.test" in u for u in urls) and not any("third.test" in u for u in urls)
    view = job_view(job.id, session=session)
    assert view.finished and view.done >= 5 and view.workers == {"in-process": view.done + view.failed}
    assert view.result["ranked"] and view.result["ranked"][0]["url"]
    assert all(f.error for f in view.failures)  # anything that failed says why


async def test_discovery_where_everything_fails_ends_failed_with_reasons(settings, session, profile):
    """Issue 15: offline, every search fails: the job is `failed` (not a green `done`), each failure keeps its
    reason and input, and running the same command again starts afresh instead of resuming the failed run."""
    from recruiter.core.jobs import job_view

    web = discovery_web()
    web.add("https://www.reddit.com/subreddits/search.json", "down", status=404)
    first = await run_discovery(profile, session=session, sources=["reddit"], queries=[], limit=5,
                                settings=settings, transport=web.transport)
    view = job_view(first["job_id"], session=session)
    assert first["state"] == view.state == "failed" and view.failed >= 1 and view.done == 0
    assert all("reddit search" in f.error and "404" in f.error for f in view.failures)
    assert view.failures[0].input["source"] == "reddit"
    again = await run_discovery(profile, session=session, sources=["reddit"], queries=[], limit=5,
                                settings=settings, transport=web.transport)
    assert again["job_id"] != first["job_id"]
