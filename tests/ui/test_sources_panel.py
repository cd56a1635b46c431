"""The Discover page's Sources panel, as a new user meets it (NiceGUI's simulated `user`, no browser).

The user sees which sources need keys, stores one (it is only ever shown masked, and lands owner-only in
$RECRUITER_HOME), removes it, gets a wrong value refused, and checks the sources against services on loopback
(the test process cannot reach the internet: tests/conftest.py resolves loopback names only).
"""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User
from ui_helpers import wait_until

from scrapers.loopback import send

YOUTUBE_KEY = "AIzaSy-test-Key-0123456789-wxyz"  # long enough that its last four may be shown
BRAVE_KEY = "brave-from-the-shell-0123456789"


def one(user: User, marker: str) -> ui.element:
    return user.find(marker=marker).elements.pop()


def text_of(user: User, marker: str) -> str:
    try:
        return one(user, marker).text
    except AssertionError:  # between a refresh and the next draw
        return ""


def everything_sent(user: User) -> str:
    """What the page's elements hold (texts, props, input values) and every notification, as one text."""
    elements = [element._to_dict() for element in list(user.client.elements.values())]
    return json.dumps(elements, default=str) + json.dumps(user.notify.messages)


def stored_file(home: Path) -> dict[str, str]:
    path = home / "credentials.json"
    return json.loads(path.read_text()) if path.exists() else {}


async def test_a_new_user_stores_a_youtube_key_and_only_ever_sees_it_masked(user: User, ui_home: Path) -> None:
    await user.open("/discover")
    await user.should_see(marker="sources-panel")
    assert text_of(user, "badge-youtube") == "not configured"
    assert "RECRUITER_YOUTUBE_API_KEY" in text_of(user, "status-youtube")
    assert text_of(user, "base-youtube") == "https://www.googleapis.com/youtube/v3"
    assert text_of(user, "engine-web") == "engine: duckduckgo"
    assert text_of(user, "current-RECRUITER_YOUTUBE_API_KEY") == "not set"
    choice = one(user, "discover-sources")
    assert choice.options["youtube"] == "youtube (needs RECRUITER_YOUTUBE_API_KEY)"
    assert choice.options["itunes"] == "itunes (no key needed)"
    assert choice.value == ["itunes"]  # values stay the plain names; it starts on a source that can run

    field = one(user, "key-RECRUITER_YOUTUBE_API_KEY")
    assert field.props["type"] == "password" and field.value == ""
    user.find(marker="key-RECRUITER_YOUTUBE_API_KEY").type(YOUTUBE_KEY)
    assert YOUTUBE_KEY in everything_sent(user)  # as typed, in the input (what the browser holds): the probe works
    user.find(marker="save-youtube").click()
    await wait_until(lambda: text_of(user, "badge-youtube") == "configured")
    await user.should_see("Saved RECRUITER_YOUTUBE_API_KEY")
    assert text_of(user, "current-RECRUITER_YOUTUBE_API_KEY") == "••••wxyz stored"
    assert one(user, "key-RECRUITER_YOUTUBE_API_KEY").value == ""  # the new input is empty, not pre-filled
    assert one(user, "discover-sources").options["youtube"] == "youtube (configured)"
    assert YOUTUBE_KEY not in everything_sent(user)

    path = ui_home / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored_file(ui_home)["RECRUITER_YOUTUBE_API_KEY"] == YOUTUBE_KEY

    user.find(marker="remove-RECRUITER_YOUTUBE_API_KEY").click()
    await wait_until(lambda: text_of(user, "badge-youtube") == "not configured")
    assert "RECRUITER_YOUTUBE_API_KEY" in text_of(user, "status-youtube")
    assert "RECRUITER_YOUTUBE_API_KEY" not in stored_file(ui_home)
    assert one(user, "discover-sources").options["youtube"] == "youtube (needs RECRUITER_YOUTUBE_API_KEY)"
    await user.should_not_see(marker="remove-RECRUITER_YOUTUBE_API_KEY")


async def test_a_key_from_the_environment_wins_and_is_shown_masked_too(
        user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECRUITER_BRAVE_API_KEY", BRAVE_KEY)
    await user.open("/discover")
    await user.should_see(marker="sources-panel")
    assert text_of(user, "current-RECRUITER_BRAVE_API_KEY") == (
        "••••6789 from the environment, which wins over a stored value")
    assert text_of(user, "engine-web") == "engine: brave"
    assert text_of(user, "badge-web") == "configured"
    await user.should_not_see(marker="remove-RECRUITER_BRAVE_API_KEY")  # nothing stored to remove
    assert BRAVE_KEY not in everything_sent(user)


async def test_a_wrong_web_search_engine_is_refused_with_a_message(user: User, ui_home: Path) -> None:
    await user.open("/discover")
    await user.should_see(marker="sources-panel")
    user.find(marker="key-RECRUITER_WEB_SEARCH").type("google")
    user.find(marker="save-web").click()
    await user.should_see("RECRUITER_WEB_SEARCH must be searxng, brave or duckduckgo")
    assert "RECRUITER_WEB_SEARCH" not in stored_file(ui_home)
    assert one(user, "key-RECRUITER_WEB_SEARCH").value == "google"  # not a secret: kept to be corrected

    user.find(marker="key-RECRUITER_WEB_SEARCH").clear().type("Brave")
    user.find(marker="save-web").click()
    await wait_until(lambda: text_of(user, "engine-web") == "engine: brave")
    assert text_of(user, "badge-web") == "not configured"
    assert "RECRUITER_BRAVE_API_KEY" in text_of(user, "status-web")
    assert text_of(user, "current-RECRUITER_WEB_SEARCH") == "brave stored"
    assert one(user, "discover-sources").options["web"] == "web (needs RECRUITER_BRAVE_API_KEY)"


async def test_the_contact_is_stored_the_same_way(user: User, ui_home: Path) -> None:
    await user.open("/discover")
    await user.should_see(marker="sources-panel")
    assert "set RECRUITER_CONTACT" in text_of(user, "contact-note")
    user.find(marker="key-RECRUITER_CONTACT").type("not a contact")
    user.find(marker="save-contact").click()
    await user.should_see("RECRUITER_CONTACT must be an email address or an http(s) URL")
    user.find(marker="key-RECRUITER_CONTACT").clear().type("partners@example.com")
    user.find(marker="save-contact").click()
    await wait_until(lambda: "partners@example.com" in text_of(user, "contact-note"))
    assert text_of(user, "contact-note") == "contact sent with every request: partners@example.com"
    assert stored_file(ui_home)["RECRUITER_CONTACT"] == "partners@example.com"


async def test_check_shows_each_source_ok_or_its_problem(user: User, loopback, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Apple's lookup answers, the web search refuses, YouTube refuses the stored key and echoes it in its error
    (the panel shows the problem, never the key); the sources without keys say what they need."""
    import time

    def lookup(request) -> None:
        time.sleep(0.5)  # long enough to see the button disabled while the check runs
        send(request, 200, json.dumps({"resultCount": 1, "results": [{"collectionId": 1}]}), "application/json")

    def youtube(request) -> None:
        error = {"error": {"code": 400, "message": f"API key not valid. Please pass a valid API key ({YOUTUBE_KEY})",
                           "errors": [{"reason": "keyInvalid", "message": "API key not valid"}]}}
        send(request, 400, json.dumps(error), "application/json")

    caplog.set_level(logging.DEBUG)
    server = loopback({"/lookup": lookup, "/html/": lambda r: send(r, 403, "no robots here"),
                       "/youtube/v3/channels": youtube})
    monkeypatch.setenv("RECRUITER_ITUNES_BASE", server.url("/").rstrip("/"))
    monkeypatch.setenv("RECRUITER_WEB_SEARCH_BASE", server.url("/html/"))
    monkeypatch.setenv("RECRUITER_YOUTUBE_API_BASE", server.url("/youtube/v3"))
    await user.open("/discover")
    await user.should_see(marker="sources-panel")
    assert text_of(user, "base-itunes") == server.url("/").rstrip("/")
    user.find(marker="key-RECRUITER_YOUTUBE_API_KEY").type(YOUTUBE_KEY)
    user.find(marker="save-youtube").click()
    await wait_until(lambda: text_of(user, "badge-youtube") == "configured")

    button = one(user, "check-sources")
    user.find(marker="check-sources").click()
    await wait_until(lambda: not button.enabled)
    await wait_until(lambda: bool(text_of(user, "check-itunes")), timeout=30)
    assert button.enabled
    assert text_of(user, "check-itunes") == "ok: the lookup answered (1 result)"
    assert "text-positive" in one(user, "check-itunes").classes
    assert text_of(user, "check-web") == "error: HTTP 403 Forbidden"
    assert "text-negative" in one(user, "check-web").classes
    assert text_of(user, "check-youtube").startswith("bad key: the YouTube Data API refused the key (HTTP 400")
    assert text_of(user, "check-reddit") == (
        "reddit is not configured: set RECRUITER_REDDIT_CLIENT_ID and RECRUITER_REDDIT_CLIENT_SECRET")
    await user.should_see("1 of 3 configured sources answered; a problem with youtube, web")
    assert YOUTUBE_KEY not in everything_sent(user)
    assert YOUTUBE_KEY not in caplog.text
    assert any(path.startswith("/youtube/v3/channels") for path in server.requests)


async def test_served_to_others_the_searxng_address_is_only_set_on_the_server(
        user: User, ui_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SearXNG address is an origin the crawler trusts even when private: typed into an app served beyond
    this machine it could point the server at its own network, so the panel refuses it there."""
    monkeypatch.setenv("RECRUITER_TRUST_GIVEN_URLS", "0")  # what `recruiter ui --host 0.0.0.0` sets
    await user.open("/discover")
    await user.should_see(marker="sources-panel")
    field = one(user, "key-RECRUITER_SEARXNG_URL")
    assert not field.enabled
    field.value = "http://169.254.169.254/"  # what a tampered page could send anyway
    user.find(marker="save-web").click()
    await user.should_see("set the SearXNG address on the server")
    assert "RECRUITER_SEARXNG_URL" not in stored_file(ui_home)
