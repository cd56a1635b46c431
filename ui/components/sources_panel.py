"""The Discover page's Sources panel: which discovery sources can run, their keys, and one cheap check of each.

Discovery searches Reddit, YouTube, Podcast Index, Apple Podcasts and the web through their APIs, most of which
need a key: a source without one is skipped. This panel lets the user see that before starting a discovery, and
fix it without a shell. It is a face over `recruiter.discovery.sources`, the services `recruiter sources`,
`sources check` and `sources set` call, so the web app and the command line list the same sources, check them
with the same call and refuse the same values with the same words.

Keys are secrets, and the app may be served to others behind `RECRUITER_PASSWORD`:
- a secret is typed into a password input that is never pre-filled; what is shown back is only the masked
  value the service gives (`Credential.shown`), with where it comes from (the environment wins over a stored
  value, as everywhere);
- a typed secret is taken out of its input as soon as Save reads it (saved or refused), so the element never
  sends it back to the browser; notifications and the log name the variable, never its value;
- a handler trusts only the typed values: which variables a Save may store is fixed here, on the server, when
  the row is drawn;
- an address typed here becomes an origin the crawler trusts even when it is private (a configured base URL):
  when the app is served beyond this machine (`RECRUITER_TRUST_GIVEN_URLS=0`, set by `recruiter ui`), the
  service refuses the SearXNG address (set it on the server, `recruiter sources set RECRUITER_SEARXNG_URL`)
  and the field is disabled, saying so.

Checking makes network calls and runs its own event loop (`check_sources`): it runs in a thread, off the page's
event loop, and its results are drawn into each source's row without redrawing the inputs.

Keys are source credentials: storing or removing one needs SOURCES (an admin or the owner), checked by the service
(`set_setting`), which records the variable's name (never its value) in the audit log. Without SOURCES the panel
shows which sources are configured and the Check button, but no key input, Save or Remove.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nicegui import run, ui

from recruiter.accounts.roles import SOURCES, Actor, NotAllowed, SessionEnded
from recruiter.core.credentials import Credential, describe, secret_values, stored_values
from recruiter.core.db import open_session
from recruiter.core.errors import RecruiterError
from recruiter.discovery.sources import (
    SEARXNG_SERVED_TO_OTHERS,
    SourceView,
    check_sources,
    contact_note,
    list_sources,
    set_setting,
)
from scrapers.adapters.sources import SourceCheck, SourceStatus
from scrapers.api import scrub
from scrapers.config import trust_given_urls_default
from ui.access import guarded, page_actor

log = logging.getLogger(__name__)

CONTACT = "RECRUITER_CONTACT"
SEARXNG = "RECRUITER_SEARXNG_URL"
CHECK_COLORS = {"ok": "text-positive", "not_configured": "text-orange-9", "rate_limited": "text-orange-9",
                "quota": "text-orange-9", "robots": "text-orange-9"}
SERVED_TO_OTHERS = SEARXNG_SERVED_TO_OTHERS  # the service refuses it too; the field says so beforehand


def option_label(status: SourceStatus) -> str:
    """How the discovery form names a source: with what it still needs, so a skipped source is no surprise."""
    if status.missing:
        return f"{status.name} (needs {' and '.join(status.missing)})"
    if status.engine:
        return f"{status.name} ({status.engine}{', no key needed' if status.engine == 'duckduckgo' else ''})"
    return f"{status.name} ({'no key needed' if status.keyless else 'configured'})"


def source_options() -> dict[str, str]:
    """The discovery form's choices: plain source names as values, labelled with whether they are configured."""
    return {view.status.name: option_label(view.status) for view in list_sources()}


def first_configured() -> list[str]:
    """The discovery form's starting choice: the first source that can run (a new user has no keys yet)."""
    return [view.status.name for view in list_sources() if view.status.configured][:1]


def where_from(credential: Credential, stored: set[str]) -> str:
    """The current value as it may be shown (masked when secret), and where it comes from."""
    if credential.origin == "environment":
        text = f"{credential.shown} from the environment, which wins over a stored value"
        return text + (" (a stored one is ignored while it is set)" if credential.name in stored else "")
    if credential.origin == "stored":
        return f"{credential.shown} stored"
    return "not set"


def render_sources_panel(*, on_change: Callable[[], None] | None = None,
                         actor: Actor | None = None) -> SourcesPanel:
    """Draw the panel into the current container; ``on_change`` runs after a value was stored or removed;
    ``actor`` is the page's (read from the page's session when not given)."""
    return SourcesPanel(on_change=on_change, actor=actor or page_actor())


class SourcesPanel:
    def __init__(self, *, on_change: Callable[[], None] | None = None, actor: Actor) -> None:
        self.on_change = on_change
        self.actor = actor
        self.can_set = actor.allows(SOURCES)
        self.host = ui.context.slot.parent  # outlives a refresh: notifications after an await go here
        self.checks: dict[str, SourceCheck] = {}
        self.checking = False
        self.check_button: ui.button | None = None
        self.result_boxes: dict[str, ui.element] = {}
        self.opened: set[str] = set()  # the forms the user opened stay open when the panel is drawn again
        self.view()

    # -- drawing ----------------------------------------------------------------------------------------------

    @ui.refreshable_method
    def view(self) -> None:
        views = list_sources()
        stored = set(stored_values())  # the names only: which variables have a stored value to remove
        self.result_boxes = {}
        with ui.card().classes("w-full gap-2").mark("sources-panel"):
            with ui.row().classes("w-full items-center gap-2"):
                ui.label("Sources").classes("text-lg font-medium")
                ui.label("where discovery searches; a source without its keys is skipped") \
                    .classes("text-sm text-grey-7")
                ui.space()
                self.check_button = ui.button("Check", icon="network_check", on_click=self.check) \
                    .props("outline").mark("check-sources")
                self.check_button.tooltip("One cheap call to each source: ok, or the exact problem")
                if self.checking:
                    self.check_button.disable()
                    self.check_button.props("loading")
            self.contact_row(stored)
            for view in views:
                self.source_row(view, stored)

    def contact_row(self, stored: set[str]) -> None:
        with ui.column().classes("w-full gap-1"):
            with ui.row().classes("items-center gap-2 no-wrap"):
                ui.icon("contact_mail").classes("text-grey-7")
                ui.label(contact_note()).classes("text-sm").mark("contact-note")
            if not self.can_set:
                return
            with self.expansion("contact", "Contact", "edit"):
                ui.label("Sites and APIs see it in the User-Agent, so their owners can reach you: an email address "
                         "or an http(s) URL.").classes("text-xs text-grey-7")
                self.keys_form("contact", [describe(CONTACT)], stored)

    def source_row(self, view: SourceView, stored: set[str]) -> None:
        status = view.status
        with ui.column().classes("w-full gap-1 border-t pt-2").mark(f"source-{status.name}"):
            with ui.row().classes("w-full items-center gap-2"):
                ui.label(status.title).classes("font-medium")
                ui.badge("configured" if status.configured else "not configured",
                         color="positive" if status.configured else "grey-7").mark(f"badge-{status.name}")
                if status.engine:
                    ui.badge(f"engine: {status.engine}", color="indigo").props("outline") \
                        .mark(f"engine-{status.name}")
            ui.label(status.message).classes("text-sm " + ("text-grey-8" if status.configured else "text-orange-9")) \
                .mark(f"status-{status.name}")
            ui.label(status.base).classes("text-xs text-grey-6 break-all").mark(f"base-{status.name}")
            if status.note:
                ui.label(status.note).classes("text-xs text-grey-6")
            self.result_boxes[status.name] = ui.row().classes("w-full items-center gap-2")
            self.show_check(status.name)
            if view.settings and self.can_set:
                with self.expansion(status.name, "Keys", "key"):
                    self.keys_form(status.name, view.settings, stored)

    def expansion(self, key: str, title: str, icon: str) -> ui.expansion:
        def toggled(event) -> None:
            (self.opened.add if event.value else self.opened.discard)(key)

        return ui.expansion(title, icon=icon, value=key in self.opened, on_value_change=toggled) \
            .classes("w-full").props("dense").mark(f"keys-{key}")

    def keys_form(self, key: str, settings: list[Credential], stored: set[str]) -> None:
        """One input per variable (a password input for a secret, never pre-filled), its current value as it
        may be shown, Remove for a stored one, and Save for what was typed."""
        fields: dict[str, ui.input] = {}
        secrets = {c.name for c in settings if c.secret}
        for credential in settings:
            name = credential.name
            with ui.row().classes("w-full items-center gap-x-3 gap-y-0"):
                field = ui.input(name, password=credential.secret).classes("flex-1 min-w-[260px]") \
                    .props("dense autocomplete=new-password spellcheck=false").mark(f"key-{name}")
                if name == SEARXNG and not trust_given_urls_default():
                    field.disable()
                    field.tooltip(SERVED_TO_OTHERS)
                fields[name] = field
                ui.label(where_from(credential, stored)).classes("text-xs text-grey-7").mark(f"current-{name}")
                if name in stored:
                    ui.button("Remove", icon="delete_outline", on_click=lambda n=name: self.remove(key, n)) \
                        .props("flat dense color=negative").mark(f"remove-{name}")
        ui.button("Save", icon="save", on_click=lambda: self.save(key, fields, secrets)) \
            .props("dense").mark(f"save-{key}")

    def show_check(self, name: str) -> None:
        box = self.result_boxes.get(name)
        result = self.checks.get(name)
        if box is None or box.is_deleted:
            return
        box.clear()
        if result is None:
            return
        with box:
            if result.ok:
                ui.icon("check_circle").classes("text-positive")
                ui.label(f"ok: {result.message}").classes("text-sm text-positive").mark(f"check-{name}")
            else:
                # "not configured" says so itself ("youtube is not configured: set ..."); the rest gets its kind
                said = result.message if result.status == "not_configured" else \
                    f"{result.status.replace('_', ' ')}: {result.message}"
                ui.icon("error_outline").classes(CHECK_COLORS.get(result.status, "text-negative"))
                ui.label(said) \
                    .classes("text-sm break-all " + CHECK_COLORS.get(result.status, "text-negative")) \
                    .mark(f"check-{name}")

    def notify(self, message: str, **kwargs) -> None:
        with self.host:
            ui.notify(message, **kwargs)

    # -- actions ----------------------------------------------------------------------------------------------

    async def check(self) -> None:
        if self.checking:  # the button is disabled meanwhile; a second click from a tampered page does nothing
            return
        self.checking = True
        button = self.check_button
        if button is not None:
            button.disable()
            button.props("loading")
        try:
            results = await run.io_bound(check_sources)
        except RecruiterError as exc:
            self.notify(f"Could not check the sources: {exc}", color="negative", multi_line=True)
            return
        except Exception as exc:
            log.warning("checking the sources failed: %s: %s", type(exc).__name__, scrub(str(exc), secret_values()))
            self.notify("Could not check the sources; the details are in the server's log.", color="negative")
            return
        finally:
            self.checking = False
            for shown in (button, self.check_button):  # the one clicked, and the one a refresh drew meanwhile
                if shown is not None and not shown.is_deleted:
                    shown.enable()
                    shown.props(remove="loading")
        if results is None:  # the server is stopping
            return
        self.checks = {result.name: result for result in results}
        for name in self.checks:
            self.show_check(name)
        ok = sum(result.ok for result in results)
        configured = sum(result.status != "not_configured" for result in results)
        problems = [r.name for r in results if not r.ok and r.status != "not_configured"]
        summary = f"{ok} of {configured} configured sources answered"
        if problems:
            summary += f"; a problem with {', '.join(problems)}"
        self.notify(summary, color="positive" if not problems else "warning")

    @guarded
    async def save(self, key: str, fields: dict[str, ui.input], secrets: set[str]) -> None:
        """Store what was typed. Only the typed values come from the page: the variables are this form's own."""
        typed: dict[str, str] = {}
        for name, field in fields.items():
            value = field.value if isinstance(field.value, str) else ""
            if name in secrets and value:
                field.value = ""  # read once: the typed secret is not kept in the element, saved or refused
            if value.strip():
                typed[name] = value
        if not typed:
            self.notify("Type a value to save first", color="warning")
            return
        outcome = await run.io_bound(_store, typed, self.actor)
        if outcome is None:  # the server is stopping
            return
        saved, refused = outcome
        for name in saved:
            if not fields[name].is_deleted:
                fields[name].value = ""
        for _name, reason in refused:
            self.notify(reason, color="negative", multi_line=True)
        if saved:
            self.notify(f"Saved {', '.join(saved)}", color="positive")
            self.changed(key)

    @guarded
    async def remove(self, key: str, name: str) -> None:
        outcome = await run.io_bound(_store, {name: ""}, self.actor)
        if outcome is None:
            return
        saved, refused = outcome
        for _name, reason in refused:
            self.notify(reason, color="negative", multi_line=True)
        if saved:
            self.notify(f"Removed the stored {name}", color="positive")
            self.changed(key)

    def changed(self, key: str) -> None:
        """A value changed: that source's last check (every one's, for the contact) no longer says how it is."""
        if key == "contact":
            self.checks.clear()
        else:
            self.checks.pop(key, None)
        self.view.refresh()
        if self.on_change is not None:
            self.on_change()


def _store(values: dict[str, str], actor: Actor) -> tuple[list[str], list[tuple[str, str]]]:
    """Store each value through the service (in a thread): the names saved, and (name, reason) of those refused.
    A reason is the service's own words, which name the variable and never repeat its value. A role without
    SOURCES is refused by the service (`NotAllowed`, raised: nothing is stored)."""
    saved: list[str] = []
    refused: list[tuple[str, str]] = []
    for name, value in values.items():
        try:
            with open_session() as session:
                set_setting(name, value, actor=actor, session=session)
        except (NotAllowed, SessionEnded):
            raise
        except RecruiterError as exc:
            refused.append((name, str(exc)))
        except OSError as exc:
            log.warning("could not store %s: %s", name, exc.strerror or type(exc).__name__)
            refused.append((name, f"{name} could not be stored: {exc.strerror or 'the data folder is not writable'}"))
        else:
            saved.append(name)
    return saved, refused
