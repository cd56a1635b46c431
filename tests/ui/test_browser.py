"""The real app in a real browser: `recruiter ui` as a subprocess, pages rendered by headless Chromium.

Chromium is the Debian package: installed here when missing and we are root, otherwise these tests skip and
say why. `--dump-dom` prints the DOM after the page's scripts ran (Vue renders NiceGUI's elements client-side).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from servers import UiServer, free_port
from ui_helpers import COOKS, COOKS_DESCRIPTION, FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RECRUITER = str(Path(sys.executable).with_name("recruiter"))
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>alert('xss')</script>"


def app_env(home: Path, extra_env: dict | None = None) -> dict[str, str]:
    """The environment of a user's shell: none of pytest's markers (NiceGUI reads them as "under test"), and the
    real embedding model (the other tiers run on the hashing one): the app end to end as a user runs it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RECRUITER_DB", "RECRUITER_PASSWORD", "RECRUITER_MODEL", "PYTEST_CURRENT_TEST",
                        "NICEGUI_STORAGE_PATH")
           and not k.startswith("NICEGUI_")}
    return dict(env, RECRUITER_HOME=str(home), HF_HUB_OFFLINE="1", **(extra_env or {}))


def run_cli(home: Path, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = app_env(home, extra_env)
    return subprocess.run([RECRUITER, *args], env=env, capture_output=True, text=True, timeout=600)


class Server(UiServer):
    """The app as a user serves it from `home` (output in home/ui.log)."""

    def __init__(self, home: Path, host: str = "127.0.0.1", extra_env: dict | None = None) -> None:
        super().__init__(RECRUITER, env=app_env(home, extra_env), log_path=home / "ui.log", host=host)


@pytest.fixture(scope="module")
def app_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new user's data dir: communities imported and one profile added, both through the CLI."""
    home = tmp_path_factory.mktemp("browser-home")
    imported = run_cli(home, "import", str(FIXTURES / "communities.jsonl"))
    assert imported.returncode == 0, imported.stderr + imported.stdout
    added = run_cli(home, "profile", "add", "--name", COOKS, "--description", COOKS_DESCRIPTION)
    assert added.returncode == 0, added.stderr
    return home


@pytest.fixture(scope="module")
def server(app_home: Path) -> Iterator[Server]:
    running = Server(app_home)
    yield running
    running.stop()


def dump_dom(chromium: str, url: str, tmp_path: Path) -> BeautifulSoup:
    profile_dir = tmp_path / f"chromium-{time.monotonic_ns()}"
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={profile_dir}", "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return BeautifulSoup(result.stdout, "html.parser")


def visible_text(soup: BeautifulSoup) -> str:
    for tag in soup(["script", "style", "template"]):
        tag.decompose()
    return soup.get_text(" ", strip=True)


def assert_markup_inert(soup: BeautifulSoup) -> None:
    """The hostile community's markup never became elements."""
    assert not soup.find_all("img", src="x"), "an <img src=x> element was created from community text"
    # NiceGUI's own boot script carries the page data as JSON (with "<" escaped): only a script element whose
    # whole body is the hostile code would mean the markup became a script.
    assert not [s for s in soup.find_all("script") if s.get_text().strip() == "alert('xss')"]
    assert not [b for b in soup.find_all("b") if b.get_text() == "Lab"]


def test_pages_render_in_chromium(chromium: str, server: Server, app_home: Path, tmp_path: Path) -> None:
    profiles = visible_text(dump_dom(chromium, server.base + "/profiles", tmp_path))
    assert COOKS in profiles

    names = [line.split('"name": "')[1].split('"')[0]
             for line in (FIXTURES / "communities.jsonl").read_text().splitlines()]
    for _attempt in range(3):  # a first visit waits up to 20 s for the first ranking; a slow CI may need more
        soup = dump_dom(chromium, server.base + "/prospects", tmp_path)
        assert_markup_inert(soup)
        text = visible_text(soup)
        shown = [name for name in names if name in text]
        if len(shown) >= 10:
            break
    assert COOKS in text
    assert len(shown) >= 10, (shown, text[:2000])
    assert "Pastry <b>Lab</b>" in text  # the hostile name, ranked for bakers, shown as the characters it is

    board = visible_text(dump_dom(chromium, server.base + "/pipeline", tmp_path))
    for stage in ("Discovered", "Shortlisted", "Contacted", "Replied", "Negotiating", "Joined", "Activated",
                  "Performing", "Declined"):
        assert stage in board

    dashboard = visible_text(dump_dom(chromium, server.base + "/", tmp_path))
    assert "Pipeline funnel" in dashboard and COOKS in dashboard
    # DNS rebinding: a request naming another host is refused when serving without a password
    assert httpx.get(server.base + "/", headers={"Host": "attacker.example"}).status_code == 400


def test_hostile_description_is_text_on_the_detail_page(chromium: str, server: Server, app_home: Path,
                                                        tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(app_home / "recruiter.db") as conn:
        (hostile_id,) = conn.execute("SELECT id FROM community WHERE url LIKE '%evilbakes%'").fetchone()
    soup = dump_dom(chromium, f"{server.base}/community/{hostile_id}", tmp_path)
    assert_markup_inert(soup)
    text = visible_text(soup)
    assert HOSTILE_IMG in text and HOSTILE_SCRIPT in text


def test_beyond_loopback_needs_the_password(chromium: str, app_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "guarded-home"
    shutil.copytree(app_home, home, ignore=shutil.ignore_patterns("ui.log", "nicegui", "storage_secret"))
    refused = run_cli(home, "ui", "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode != 0 and "RECRUITER_PASSWORD" in refused.stderr

    guarded = Server(home, host="0.0.0.0", extra_env={"RECRUITER_PASSWORD": "correct horse", "RECRUITER_UI_WARMUP": "0"})
    try:
        soup = dump_dom(chromium, guarded.base + "/prospects", tmp_path)
        text = visible_text(soup)
        assert "Enter the password" in text
        assert COOKS not in text and "r/Breadit" not in text
        raw = httpx.get(guarded.base + "/prospects", follow_redirects=False)
        assert raw.status_code in (302, 303, 307) and raw.headers["location"].startswith("/login")
        assert (home / "storage_secret").stat().st_mode & 0o077 == 0
        log_in_through_the_browser(chromium, guarded.base, "correct horse")
    finally:
        guarded.stop()


def log_in_through_the_browser(chromium: str, base: str, password: str) -> None:
    """Type the password into the login form in a real browser; the page asked for opens with its data."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return  # the dump-dom checks above already cover what a browser without scripting sees
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(base + "/prospects")
            assert "/login" in page.url
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector(f"text=Ideal client: {COOKS}", timeout=30000)
            assert page.url.endswith("/prospects")
        finally:
            browser.close()


def test_row_actions_and_board_drag_in_a_real_browser(chromium: str, server: Server, app_home: Path) -> None:
    """Table slots and SortableJS run only in a browser: click a row's menu, tick a box, drag a card."""
    import sqlite3

    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives these clicks")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 2200, "height": 1000})
            page.goto(server.base + "/prospects")
            page.wait_for_selector("tbody tr")
            # A background re-rank redraws the table (and closes any open menu): act once it has finished.
            page.get_by_role("button", name="Re-rank").wait_for(timeout=60000)
            rows = page.locator("tbody tr")
            item = page.locator(".q-menu .q-item", has_text="Shortlisted")
            for _attempt in range(3):
                rows.nth(0).locator(".move-menu").click()
                try:
                    item.wait_for(timeout=5000)
                    break
                except sync_api.TimeoutError:
                    continue
            item.click()
            page.wait_for_selector("text=1 moved to Shortlisted", timeout=30000)
            rows.nth(1).locator(".q-checkbox").click()
            page.wait_for_selector("text=1 selected:", timeout=30000)
            page.locator(".bulk-bar button", has_text="Shortlist").click()
            page.wait_for_selector("text=1 shortlisted", timeout=30000)

            page.goto(server.base + "/pipeline")
            page.wait_for_selector(".cursor-grab")
            columns = page.locator(".q-card.w-56")
            card = columns.nth(1).locator(".cursor-grab").first  # a Shortlisted card
            card.drag_to(columns.nth(2).locator(".min-h-\\[120px\\]"))  # onto Contacted
            page.wait_for_selector("text=moved to Contacted", timeout=30000)
        finally:
            browser.close()
    with sqlite3.connect(app_home / "recruiter.db") as conn:
        moves = conn.execute("SELECT from_stage, to_stage, at FROM stage_change WHERE to_stage = 'contacted'").fetchall()
    assert len(moves) == 1 and moves[0][0] == "shortlisted" and moves[0][2]


def test_a_key_saved_in_the_sources_panel_never_comes_back_to_the_browser(chromium: str, app_home: Path,
                                                                          tmp_path: Path) -> None:
    """Type a YouTube key into the Discover page's Sources panel and save it: the page then shows it masked, and
    nothing the server sends (the page, every websocket message, the page loaded again) carries the key."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives these clicks")
    key = "AIzaSy-browser-Key-0123456789-wxyz"
    home = tmp_path / "sources-home"
    shutil.copytree(app_home, home, ignore=shutil.ignore_patterns("ui.log", "nicegui", "credentials.*"))
    running = Server(home, extra_env={"RECRUITER_UI_WARMUP": "0"})
    received: list[str] = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(str(frame))))
                first = page.goto(running.base + "/discover")
                assert first is not None and key not in first.text()
                field = page.get_by_label("RECRUITER_YOUTUBE_API_KEY")
                keys = page.locator(".q-expansion-item").filter(has=field)
                keys.locator(".q-item").first.click()
                field.fill(key)
                keys.get_by_role("button", name="Save").click()
                page.wait_for_selector("text=Saved RECRUITER_YOUTUBE_API_KEY", timeout=30000)
                page.wait_for_selector("text=••••wxyz stored", timeout=30000)
                assert page.get_by_label("RECRUITER_YOUTUBE_API_KEY").input_value() == ""
                assert key not in page.content()
                again = page.reload()
                assert again is not None and key not in again.text()
                page.wait_for_selector("text=••••wxyz stored", state="attached", timeout=30000)  # folded away
                assert key not in page.content()
            finally:
                browser.close()
    finally:
        running.stop()
    assert received, "no websocket message came from the server"
    assert not [frame for frame in received if key in frame]
    assert key not in (home / "ui.log").read_text()
    stored = home / "credentials.json"
    assert json.loads(stored.read_text())["RECRUITER_YOUTUBE_API_KEY"] == key
    assert stored.stat().st_mode & 0o077 == 0
