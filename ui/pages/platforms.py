"""/platforms: the tracking platforms side by side, and the choice (link format, import columns).

Seven platforms side by side are wider than a laptop, let alone a phone: the comparison scrolls sideways inside
its own card (its first column, the fact names, stays in view), and the page itself never overflows.

Choosing is a platform setting (PLATFORM, checked by the service): a member or a viewer compares without the
Choose buttons."""

from __future__ import annotations

from nicegui import ui

from recruiter.accounts.roles import PLATFORM, Actor
from recruiter.core.db import open_session
from recruiter.partners.platforms import (
    COMPARISON_ROWS,
    catalog_note,
    choose_platform,
    chosen_platform,
    has_chosen_platform,
    list_platforms,
)
from ui.access import guarded, page_actor
from ui.layout import frame

# The fact names stay in view while the platforms scroll past them.
STICKY = "sticky left-0 z-10 bg-white"


@ui.page("/platforms")
def platforms_page() -> None:
    actor = page_actor()
    with frame("Tracking platforms", active="/platforms"):
        PlatformComparison(actor)


class PlatformComparison:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        ui.label("Choose where referrals are tracked. The choice sets the parameter your partners' links carry "
                 "and the column names performance imports look for.").classes("text-grey-8")
        ui.label(catalog_note()).classes("text-xs text-grey-7").mark("catalog-note")
        self.view()

    @ui.refreshable_method
    def view(self) -> None:
        with open_session() as session:
            chosen = chosen_platform(session=session).key if has_chosen_platform(session=session) else None
        platforms = list_platforms()
        if chosen is None:
            ui.label("No platform chosen yet: links carry UTM parameters.").classes("text-sm")
        with ui.card().classes("w-full max-w-full min-w-0 p-0 overflow-hidden"), \
                ui.element("div").classes("w-full max-w-full overflow-x-auto").mark("platform-scroll"):
            with ui.grid().style(f"grid-template-columns: 120px repeat({len(platforms)}, minmax(170px, 1fr)); "
                                 f"min-width: {120 + 170 * len(platforms)}px").classes("gap-0 text-sm") as grid:
                grid.mark("platform-grid")
                ui.label("").classes(STICKY)
                for platform in platforms:
                    selected = platform.key == chosen
                    with ui.column().classes("p-2 gap-1 " + ("bg-indigo-1 rounded-t" if selected else "")):
                        ui.link(platform.name, platform.website, new_tab=True).classes("font-semibold")
                        if selected:
                            ui.badge("chosen", color="green")
                        elif self.actor.allows(PLATFORM):
                            ui.button("Choose", on_click=lambda p=platform.key: self.choose(p)) \
                                .props("dense outline size=sm").mark(f"choose-{platform.key}")
                for key, label in COMPARISON_ROWS:
                    ui.label(label).classes("p-2 font-medium text-grey-8 border-t " + STICKY)
                    for platform in platforms:
                        value = platform.to_dict()[key]
                        classes = "p-2 border-t " + ("bg-indigo-1" if platform.key == chosen else "")
                        ui.label(value).classes(classes + (" font-mono text-xs break-all" if key == "link_format" else ""))
                ui.label("CSV columns").classes("p-2 font-medium text-grey-8 border-t " + STICKY)
                for platform in platforms:
                    with ui.column().classes("p-2 border-t gap-0 text-xs "
                                             + ("bg-indigo-1" if platform.key == chosen else "")):
                        for field, names in platform.csv_columns.items():
                            ui.label(f"{field}: {', '.join(names)}")
                ui.label(f"Sources (as of {platforms[0].as_of})" if platforms else "Sources") \
                    .classes("p-2 font-medium text-grey-8 border-t " + STICKY)
                for platform in platforms:
                    with ui.column().classes("p-2 border-t gap-0 text-xs "
                                             + ("bg-indigo-1 rounded-b" if platform.key == chosen else "")):
                        for source in platform.sources:
                            ui.link(source.removeprefix("https://"), source, new_tab=True).classes("break-all")

    @guarded
    def choose(self, key: str) -> None:
        with open_session() as session:
            platform = choose_platform(key, actor=self.actor, session=session)
        ui.notify(f"Tracking platform: {platform.name}. New links use {platform.link_format()}", type="positive")
        self.view.refresh()
