"""Every page in a real headless Chromium at a laptop's 1400 px and a phone's 390 px: no page is wider than
the screen, the board reaches all nine stages, the prospect page tells the story, and screenshots of the
board, a prospect and a failed discovery job are taken.

Screenshots go to this test's temporary folder; to refresh the committed ones run
`RECRUITER_SCREENSHOTS=benchmarks/screenshots .venv/bin/python -m pytest tests/ui/test_screens.py`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_browser import Server, run_cli
from ui_helpers import COOKS, COOKS_DESCRIPTION, FIXTURES

from recruiter.accounts.roles import Actor

pytestmark = [pytest.mark.browser, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
WIDTHS = (1400, 390)
JOURNAL = "https://sourdoughjournal.example.com/"
LOOKALIKES = f"/lookalikes?seed={JOURNAL}"
READY = {LOOKALIKES: ".nicegui-content .q-table"}  # pages that fill in after they are shown: wait for their table


def populate(home: Path) -> dict[str, int]:
    """A pipeline a merchant has been working for a while: prospects at most stages, notes, follow-ups, and a
    scrape job that failed. Written through the services, before the app starts."""
    from sqlmodel import select

    from recruiter.core.db import dispose_engines, open_session
    from recruiter.core.jobs import NewItem, claim_item, complete_item, create_job, settle_job
    from recruiter.core.models import Profile
    from recruiter.outreach.pipeline import find_community, note_prospect, schedule_follow_up, set_stage

    url = f"sqlite:///{home / 'recruiter.db'}"
    today = date.today()
    plan = [  # (url, stages in order, note, follow-up in days)
        ("https://www.reddit.com/r/Breadit/", ["shortlisted"], "Mods allow one promo post a month", None),
        ("https://www.reddit.com/r/Baking/", ["shortlisted", "contacted"], "Sent the first-contact template", 3),
        (JOURNAL, ["shortlisted", "contacted"], "Wrote to the editor about a guest post and a sample loaf", 5),
        ("https://www.reddit.com/r/Cooking/", ["contacted", "replied"], "They want a discount code for members",
         -1),
        ("https://www.reddit.com/r/Coffee/", ["contacted", "replied", "negotiating"], "", 1),
        ("https://www.reddit.com/r/knitting/", ["declined"], "Not a fit: crafts, not food", None),
    ]
    ids: dict[str, int] = {}
    with open_session(url) as session:
        profile_id = session.exec(select(Profile.id)).first()
        for community_url, stages, note, days in plan:
            community = find_community(community_url, session=session)
            for stage in stages:
                prospect = set_stage(community, stage, actor=Actor.cli(), session=session, profile_id=profile_id)
            if note:
                note_prospect(community, note, actor=Actor.cli(), session=session)
            if days is not None:
                schedule_follow_up(community, today + timedelta(days=days), actor=Actor.cli(), session=session)
            ids[community_url] = prospect.id
        ids["journal_community"] = find_community(JOURNAL, session=session).id
        # A scrape job as the job code leaves it: one URL saved, two failed, each with its reason.
        urls = {"https://crumbclub.example.com/": None, "https://gone.example.com/": "HTTP 404 Not Found",
                "https://offline.example.org/feed": "cannot connect to offline.example.org: connection refused"}
        job = create_job("scrape", session=session, params={"urls": list(urls)},
                         items=[NewItem(key=url, kind="url", input={"url": url}) for url in urls])
        for url, error in urls.items():
            claim_item(job.id, url, session=session, worker="this machine")
            complete_item(job.id, url, session=session, worker="this machine", error=error)
        settle_job(job.id, session=session)
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    dispose_engines()
    return ids


@pytest.fixture(scope="module")
def screens_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    home = tmp_path_factory.mktemp("screens-home")
    assert run_cli(home, "import", str(FIXTURES / "communities.jsonl")).returncode == 0
    assert run_cli(home, "profile", "add", "--name", COOKS, "--description", COOKS_DESCRIPTION).returncode == 0
    ranked = run_cli(home, "rank", COOKS, "--limit", "100", "--format", "json")
    assert ranked.returncode == 0, ranked.stderr
    return home, populate(home)


@pytest.fixture(scope="module")
def screens_server(screens_home) -> Iterator[Server]:
    running = Server(screens_home[0], extra_env={"RECRUITER_UI_WARMUP": "0"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(chromium: str):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives Chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def shots_dir(tmp_path: Path) -> Path:
    wanted = os.environ.get("RECRUITER_SCREENSHOTS")
    folder = (REPO / wanted) if wanted and not Path(wanted).is_absolute() else Path(wanted or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, base: str, path: str, width: int, selector: str = ".nicegui-content"):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(base + path)
    page.wait_for_selector(selector, timeout=60000)
    page.wait_for_timeout(700)  # let Quasar lay the page out (fonts, icons, tooltips' anchors)
    return page


def overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def pipeline_rows(home: Path) -> tuple[int, ...]:
    with sqlite3.connect(home / "recruiter.db") as conn:
        return tuple(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                     for table in ("prospect", "stage_change", "activity"))


def test_no_page_is_wider_than_the_screen_and_looking_changes_nothing(browser, screens_server: Server,
                                                                      screens_home) -> None:
    home, ids = screens_home
    with sqlite3.connect(home / "recruiter.db") as conn:
        profile_id = conn.execute("SELECT id FROM profile").fetchone()[0]
        outside = conn.execute("SELECT id FROM community WHERE id NOT IN (SELECT community_id FROM prospect)"
                               ).fetchone()[0]
    before = pipeline_rows(home)
    paths = ["/", "/profiles", f"/profiles/{profile_id}", f"/prospects?profile={COOKS}", "/pipeline", "/discover",
             "/partners", "/platforms", f"/community/{ids['journal_community']}?profile={profile_id}",
             f"/prospects/{ids[JOURNAL]}", f"/community/{outside}?profile={profile_id}", LOOKALIKES]
    too_wide = []
    for width in WIDTHS:
        for path in paths:
            page = open_page(browser, screens_server.base, path, width, READY.get(path, ".nicegui-content"))
            scroll_width, inner = overflow(page)
            if scroll_width > inner:
                too_wide.append(f"{path} at {width} px: {scroll_width} > {inner}")
            page.close()
    assert too_wide == []
    assert pipeline_rows(home) == before  # opening pages (a community not in the pipeline too) created nothing


def test_board_reaches_every_stage_at_1400(browser, screens_server: Server, screens_home, tmp_path: Path) -> None:
    page = open_page(browser, screens_server.base, "/pipeline", 1400, ".cursor-grab")
    for stage in ("discovered", "shortlisted", "contacted", "replied", "negotiating", "joined", "activated",
                  "performing", "declined"):
        box = page.locator(f".jump-{stage}").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1400, stage  # every stage named on screen
    declined = page.locator(".stage-col-declined")
    assert declined.bounding_box()["x"] > 1400  # off to the right at first...
    assert page.locator(".board-cue").is_visible()  # ...and the board says so
    page.locator(".jump-declined").click()
    page.wait_for_timeout(1200)
    box = declined.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1400  # ...one click brings it into view
    assert not page.locator(".board-cue").is_visible()  # the last column is in view: no more cue
    page.locator(".board-scroll").evaluate("el => el.scrollTo({left: 0})")
    page.mouse.move(700, 800)  # away from the chips: no tooltip in the picture
    page.wait_for_timeout(600)
    text = page.inner_text(".board-scroll")
    assert "fit " in text and "↻" in text and "note:" in text  # cards carry fit, follow-up, last activity
    page.screenshot(path=str(shots_dir(tmp_path) / "board-1400.png"))
    page.close()


def test_prospect_page_tells_the_story(browser, screens_server: Server, screens_home, tmp_path: Path) -> None:
    _home, ids = screens_home
    page = open_page(browser, screens_server.base, f"/prospects/{ids[JOURNAL]}", 1400, "text=Timeline")
    text = page.inner_text("body").lower()  # buttons show their labels in capitals
    assert "fit" in text and f"for profile {COOKS}" in text
    assert page.get_by_label("To").input_value() == "hello@sourdoughjournal.example.com"
    assert "contacted before" not in text  # contacted once: a follow-up is no double outreach
    buttons = [b.lower() for b in page.locator(".q-btn").all_inner_texts()]
    assert any("they replied" in b for b in buttons)  # the next moves of a contacted prospect...
    assert not [b for b in buttons if "not a fit" in b or "shortlist" in b]  # ...not the judgements before it
    assert "wrote to the editor about a guest post and a sample loaf" in text
    page.screenshot(path=str(shots_dir(tmp_path) / "prospect-1400.png"), full_page=True)
    page.close()


def test_discover_page_shows_a_failed_job(browser, screens_server: Server, tmp_path: Path) -> None:
    page = open_page(browser, screens_server.base, "/discover", 1400)
    page.wait_for_selector("text=partial", timeout=30000)
    body = page.inner_text("body")
    assert "HTTP 404 Not Found" in body and "connection refused" in body
    page.screenshot(path=str(shots_dir(tmp_path) / "discover-failed-job-1400.png"), full_page=True)
    page.close()


def test_dashboard_screenshot(browser, screens_server: Server, tmp_path: Path) -> None:
    page = open_page(browser, screens_server.base, "/", 1400)
    text = page.inner_text("body")
    assert "Pipeline funnel" in text and "Coming up" in text and "Overdue" in text
    assert "Wrote to the editor about a guest post and a sample loaf" in text  # whole, not cut
    page.screenshot(path=str(shots_dir(tmp_path) / "dashboard-1400.png"), full_page=True)
    page.close()
