"""/partners: scorecards, segments with their playbooks, trend and funnel charts, which kinds perform, and the
performance import (IMPORT, checked by the service: a viewer sees the numbers without the import).

"Find more like these" opens the lookalike results (`ui.components.lookalikes`) seeded with the best partners
by a measure over the period shown, with a segment (the one filtered, or another), or with the partners selected
in the scorecards: the partners that sell are the best description of the communities to recruit next."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from nicegui import ui

from recruiter.accounts.roles import IMPORT, Actor
from recruiter.core.db import open_session
from recruiter.core.models import Stage, utcnow
from recruiter.matching.lookalike import MAX_SEEDS
from recruiter.outreach.pipeline import prospect_ids_by_url
from recruiter.partners.activation import STEP_LABELS, activation_summary, reminders
from recruiter.partners.lookalikes import MEASURES, SeedChoice
from recruiter.partners.money import money_json, per, total
from recruiter.partners.performance import PerformanceError, import_performance, parse_mapping
from recruiter.partners.platforms import PlatformError, chosen_platform, has_chosen_platform, list_platforms
from recruiter.partners.reports import (
    SEGMENTS,
    PartnerScorecard,
    funnel,
    kind_performance,
    partner_scorecards,
    playbook,
    segment_counts,
    trend,
)
from ui.access import guarded, page_actor
from ui.components.lookalikes import MEASURE_LABELS, lookalikes_url
from ui.layout import SEGMENT_COLORS, SEGMENT_LABELS, STAGE_LABELS, empty_state, frame

PERIODS = {"all": "All time", "30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months"}
COLUMNS = [
    {"name": "name", "label": "Partner", "field": "name", "align": "left", "sortable": True},
    {"name": "kind", "label": "Kind", "field": "kind", "align": "left", "sortable": True},
    {"name": "stage", "label": "Stage", "field": "stage_label", "align": "left", "sortable": True},
    {"name": "segment", "label": "Segment", "field": "segment_label", "align": "left", "sortable": True},
    {"name": "ref_code", "label": "Ref code", "field": "ref_code", "align": "left"},
    {"name": "clicks", "label": "Clicks", "field": "clicks", "sortable": True},
    {"name": "conversions", "label": "Sales", "field": "conversions", "sortable": True},
    {"name": "revenue", "label": "Revenue", "field": "revenue", "sortable": True},
    {"name": "commission", "label": "Commission", "field": "commission", "sortable": True},
    {"name": "epc", "label": "EPC", "field": "epc_text", "sortable": True},
    {"name": "conversion_rate", "label": "Conv. rate", "field": "rate_text", "sortable": True},
    {"name": "last_activity", "label": "Last activity", "field": "last_activity", "sortable": True},
]


@ui.page("/partners")
def partners_page() -> None:
    actor = page_actor()
    with frame("Partners", active="/partners"):
        PartnersView(actor)


class PartnersView:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.period = "all"
        self.segment: str | None = None
        self.trend_by = "week"
        with ui.row().classes("w-full items-center gap-3"):
            ui.select(PERIODS, value=self.period, label="Totals over",
                      on_change=lambda e: self.set_period(e.value)).classes("w-44").props("dense outlined")
            self.platform_line()
            ui.space()
            if actor.allows(IMPORT):
                ui.button("Import performance", icon="upload", on_click=self.open_import).props("outline")
        self.overview()
        with ui.row().classes("w-full gap-4 items-stretch"):
            with ui.card().classes("flex-[3] min-w-[360px]"):
                self.trend_chart()
            with ui.card().classes("flex-[2] min-w-[300px]"):
                self.reminder_list()
        with ui.card().classes("w-full"):
            self.scorecards()
        with ui.card().classes("w-full"):
            self.playbooks()
        with ui.row().classes("w-full gap-4 items-stretch"):
            with ui.card().classes("flex-1 min-w-[360px]"):
                self.funnel_view()
            with ui.card().classes("flex-1 min-w-[360px]"):
                self.kinds_view()
        self.import_dialog = self.build_import_dialog() if actor.allows(IMPORT) else None

    # --- data ------------------------------------------------------------------------------------------------
    def since(self):
        return None if self.period == "all" else utcnow().date() - timedelta(days=int(self.period))

    def cards(self) -> list[PartnerScorecard]:
        with open_session() as session:
            return partner_scorecards(session=session, since=self.since())

    def table_rows(self, cards: list[PartnerScorecard]) -> list[dict]:
        """The scorecards as the table's rows (plain JSON values, with labels and formatted numbers)."""
        with open_session() as session:
            ids = prospect_ids_by_url([card.url for card in cards], session=session)
        rows = []
        for card in cards:
            rows.append({**card.public(), "prospect_id": ids.get(card.url),
                         "stage_label": STAGE_LABELS.get(card.stage, card.stage.value),
                         "segment_label": SEGMENT_LABELS[card.segment], "name": card.name or card.url,
                         "epc_text": "—" if card.epc is None else f"{card.epc:.2f}",
                         "rate_text": "—" if card.conversion_rate is None else f"{card.conversion_rate * 100:.1f} %",
                         "last_activity": card.last_activity.isoformat() if card.last_activity else "—"})
        return rows

    def set_period(self, value: str) -> None:
        self.period = value
        self.overview.refresh()
        self.scorecards.refresh()
        self.kinds_view.refresh()

    def set_segment(self, value: str | None) -> None:
        self.segment = None if value == self.segment else value
        self.overview.refresh()
        self.scorecards.refresh()

    def refresh_all(self) -> None:
        for view in (self.overview, self.trend_chart, self.reminder_list, self.scorecards, self.playbooks,
                     self.funnel_view, self.kinds_view):
            view.refresh()

    # --- sections --------------------------------------------------------------------------------------------
    @ui.refreshable_method
    def platform_line(self) -> None:
        with open_session() as session:
            chosen = chosen_platform(session=session) if has_chosen_platform(session=session) else None
        with ui.row().classes("items-center gap-1 text-sm text-grey-8"):
            ui.label(f"Tracking: {chosen.name if chosen else 'UTM links (no platform chosen)'}")
            ui.link("compare platforms", "/platforms")

    @ui.refreshable_method
    def overview(self) -> None:
        cards = self.cards()
        counts = segment_counts(cards)
        clicks, conversions = sum(c.clicks for c in cards), sum(c.conversions for c in cards)
        revenue, commission = total(c.revenue for c in cards), total(c.commission for c in cards)
        with ui.row().classes("w-full gap-3"):
            for segment in SEGMENTS:
                selected = self.segment == segment
                with ui.card().classes("cursor-pointer min-w-[140px] flex-1 p-3 "
                                       + ("ring-2 ring-primary" if selected else "")) \
                        .on("click", lambda s=segment: self.set_segment(s)) as card:
                    card.mark(f"segment-{segment}")
                    ui.badge(SEGMENT_LABELS[segment], color=SEGMENT_COLORS[segment])
                    ui.label(str(counts[segment])).classes("text-2xl font-semibold")
            with ui.card().classes("min-w-[220px] flex-[2] p-3"):
                ui.label(f"{len(cards)} partners · {PERIODS[self.period].lower()}").classes("text-sm text-grey-7")
                epc = per(revenue, clicks)
                ui.label(f"{clicks:,} clicks · {conversions:,} sales").classes("font-medium")
                ui.label(f"revenue {revenue:,.2f} · commission {commission:,.2f}"
                         + (f" · EPC {epc:.2f}" if epc is not None else "")).classes("text-sm")

    @ui.refreshable_method
    def trend_chart(self) -> None:
        with ui.row().classes("w-full items-center"):
            ui.label("Trend").classes("text-lg font-medium")
            ui.space()
            ui.toggle({"day": "Days", "week": "Weeks", "month": "Months"}, value=self.trend_by,
                      on_change=lambda e: self.set_trend(e.value)).props("dense")
        periods = {"day": 30, "week": 12, "month": 12}[self.trend_by]
        with open_session() as session:
            points = trend(session=session, by=self.trend_by, periods=periods)
        ui.echart({
            "tooltip": {"trigger": "axis"},
            "legend": {"data": ["Revenue", "Clicks", "Sales"], "top": 0, "left": "center"},
            "grid": {"left": 55, "right": 55, "top": 45, "bottom": 30},
            "xAxis": {"type": "category", "data": [p.period.isoformat() for p in points]},
            "yAxis": [{"type": "value", "name": "revenue"}, {"type": "value", "name": "clicks"}],
            "series": [
                {"name": "Revenue", "type": "bar", "data": [money_json(p.revenue) for p in points],
                 "itemStyle": {"color": "#3949ab"}},
                {"name": "Clicks", "type": "line", "yAxisIndex": 1, "data": [p.clicks for p in points],
                 "itemStyle": {"color": "#26a69a"}},
                {"name": "Sales", "type": "line", "yAxisIndex": 1, "data": [p.conversions for p in points],
                 "itemStyle": {"color": "#ff8f00"}},
            ],
        }).classes("w-full h-64")

    def set_trend(self, value: str) -> None:
        self.trend_by = value
        self.trend_chart.refresh()

    @ui.refreshable_method
    def reminder_list(self) -> None:
        ui.label("Activation").classes("text-lg font-medium")
        with open_session() as session:
            stats = activation_summary(session=session)
            waiting = reminders(session=session, days=7)
            ids = prospect_ids_by_url([r.url for r in waiting], session=session)
        if stats.partners:
            def days(value) -> str:
                return "—" if value is None else f"{value:g} d"

            ui.label(f"{stats.promoted} of {stats.partners} partners promoted, {stats.sold} sold · "
                     f"median {days(stats.median_days_to_first_click)} to first click, "
                     f"{days(stats.median_days_to_first_sale)} to first sale").classes("text-sm text-grey-8")
        ui.label("Waiting a week or more on a step").classes("text-sm font-medium mt-2")
        if not waiting:
            ui.label("Nobody.").classes("text-grey-7 text-sm")
        for item in waiting[:12]:
            with ui.row().classes("items-center gap-2 w-full no-wrap text-sm"):
                ui.link(item.name or item.url, f"/prospects/{ids.get(item.url)}").classes("truncate")
                ui.space()
                ui.label(STEP_LABELS[item.step]).classes("text-grey-8")
                ui.badge(f"{item.waiting_days} d", color="amber-9" if item.waiting_days < 21 else "red-5")
        if len(waiting) > 12:
            ui.label(f"and {len(waiting) - 12} more: recruiter activation reminders").classes("text-xs text-grey-6")

    @ui.refreshable_method
    def scorecards(self) -> None:
        cards = self.cards()
        shown = self.table_rows([c for c in cards if self.segment is None or c.segment == self.segment])
        with ui.row().classes("w-full items-center"):
            ui.label("Scorecards" + (f" · {SEGMENT_LABELS[self.segment]}" if self.segment else "")) \
                .classes("text-lg font-medium")
            if self.segment:
                ui.button("Show all", on_click=lambda: self.set_segment(self.segment)).props("flat dense")
            ui.space()
            if cards:
                ui.button("Find more like these", icon="person_search", on_click=self.open_lookalikes) \
                    .props("outline dense").mark("find-lookalikes") \
                    .tooltip("Communities like your best partners, a segment, or the partners you select")
        self.table = None
        if not cards:
            empty_state("No partners yet: move a prospect to Joined to start its activation.",
                        link=("Open the pipeline", "/pipeline"))
            return
        # Selecting rows (the checkboxes) chooses seeds for "Find more like these"; a click elsewhere on a row
        # opens the partner.
        self.table = ui.table(columns=COLUMNS, rows=shown, row_key="url", pagination=25,
                              selection="multiple").classes("w-full")
        self.table.props("dense flat").mark("scorecards")
        self.table.on("rowClick", lambda e: self.open_partner(e.args))

    # --- find more like these ---------------------------------------------------------------------------------
    def selected_urls(self) -> list[str]:
        return [row["url"] for row in self.table.selected] if self.table is not None else []

    def open_lookalikes(self) -> None:
        """Choose the seeds: the partners selected, else the segment filtered, else the best partners."""
        selected = self.selected_urls()
        with ui.dialog() as dialog, ui.card().classes("min-w-[min(460px,100%)]"):
            ui.label("Find more like these").classes("text-lg font-medium")
            ui.label("Communities like the partners you choose, best first; never one of them, nor a community "
                     "already worked in the pipeline.").classes("text-sm text-grey-8")
            options = {"top": "Your best partners", "segment": "A segment",
                       "selected": f"The partners selected in the scorecards ({len(selected)})"}
            source = ui.radio(options, value="selected" if selected else "segment" if self.segment else "top") \
                .mark("lookalike-source")
            with ui.row().classes("items-center gap-2 pl-8").bind_visibility_from(source, "value",
                                                                                   value="top"):
                top = ui.number("How many", value=5, min=1, max=MAX_SEEDS, step=1, precision=0) \
                    .classes("w-24").props("dense").mark("lookalike-top")
                by = ui.select({m: MEASURE_LABELS[m] for m in MEASURES}, value="revenue", label="by") \
                    .classes("w-32").props("dense").mark("lookalike-by")
                ui.label(f"over {PERIODS[self.period].lower()}").classes("text-sm text-grey-7")
            with ui.row().classes("items-center gap-2 pl-8").bind_visibility_from(source, "value",
                                                                                   value="segment"):
                segment = ui.select(SEGMENT_LABELS, value=self.segment or "top", label="Segment") \
                    .classes("w-44").props("dense").mark("lookalike-segment")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Find", icon="person_search",
                          on_click=lambda: self.find_lookalikes(source.value, top.value, by.value, segment.value)) \
                    .mark("lookalike-find")
        dialog.open()

    def find_lookalikes(self, source: str, top, by: str, segment: str) -> None:
        """Open the results; the service checks the seeds there (and says what is wrong with them)."""
        if source == "selected":
            urls = self.selected_urls()
            if not urls:
                ui.notify("Select partners in the scorecards first (the checkboxes)", color="warning")
                return
            choice = SeedChoice(urls=tuple(urls))
        elif source == "segment":
            choice = SeedChoice(segment=segment)
        else:
            choice = SeedChoice(top=int(top or 5), by=by, since=self.since())
        ui.navigate.to(lookalikes_url(choice))

    def open_partner(self, args) -> None:
        row = args[1] if isinstance(args, list) and len(args) > 1 else {}
        if row.get("prospect_id"):
            ui.navigate.to(f"/prospects/{row['prospect_id']}")

    @ui.refreshable_method
    def playbooks(self) -> None:
        ui.label("Playbooks").classes("text-lg font-medium")
        with open_session() as session:
            books = {segment: playbook(segment, session=session) for segment in SEGMENTS}
        with ui.tabs().props("dense align=left") as tabs:
            tab_items = {s: ui.tab(s, label=f"{SEGMENT_LABELS[s]} ({len(books[s].partners)})") for s in SEGMENTS}
        with ui.tab_panels(tabs, value=tab_items["never-activated"]).classes("w-full"):
            for segment, book in books.items():
                with ui.tab_panel(tab_items[segment]):
                    ui.label(book.goal).classes("font-medium")
                    for action in book.actions:
                        ui.label(f"• {action}").classes("text-sm")
                    ui.textarea("Message template", value=book.message) \
                        .props("readonly autogrow outlined dense").classes("w-full text-sm")
                    ui.button("Copy", icon="content_copy", on_click=lambda m=book.message: self.copy(m)) \
                        .props("flat dense")
                    names = ", ".join(p.name or p.url for p in book.partners[:30]) or "none yet"
                    ui.label(f"Partners: {names}").classes("text-sm text-grey-8")

    @ui.refreshable_method
    def funnel_view(self) -> None:
        ui.label("Funnel").classes("text-lg font-medium")
        with open_session() as session:
            rows = funnel(session=session)
        stages = [r for r in rows if r.stage is not Stage.declined]
        ui.echart({
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 100, "right": 40, "top": 10, "bottom": 20},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": [STAGE_LABELS[r.stage] for r in stages][::-1]},
            "series": [{"type": "bar", "data": [r.reached for r in stages][::-1],
                        "label": {"show": True, "position": "right"}, "itemStyle": {"color": "#3949ab"}}],
        }).classes("w-full h-64")
        table_rows = [{"stage": STAGE_LABELS.get(r.stage, r.stage.value), "reached": r.reached,
                       "conversion": "—" if r.conversion is None else f"{r.conversion * 100:.0f} %",
                       "now": r.now, "days": "—" if r.median_days_in_stage is None else r.median_days_in_stage}
                      for r in rows]
        ui.table(columns=[{"name": k, "label": label, "field": k, "align": "left"} for k, label in
                          [("stage", "Stage"), ("reached", "Reached"), ("conversion", "From previous"),
                           ("now", "Now"), ("days", "Median days in stage")]],
                 rows=table_rows, row_key="stage").props("dense flat").classes("w-full")

    @ui.refreshable_method
    def kinds_view(self) -> None:
        ui.label("Which kinds of community perform").classes("text-lg font-medium")
        with open_session() as session:
            rows = kind_performance(session=session, since=self.since())
        if not rows:
            ui.label("Shown once partners have joined.").classes("text-grey-7 text-sm")
            return
        ui.echart({
            "tooltip": {"trigger": "axis"},
            "grid": {"left": 90, "right": 40, "top": 10, "bottom": 20},
            "xAxis": {"type": "value"},
            "yAxis": {"type": "category", "data": [r.kind for r in rows][::-1]},
            "series": [{"type": "bar", "name": "Revenue per partner",
                        "data": [money_json(r.revenue_per_partner) for r in rows][::-1],
                        "label": {"show": True, "position": "right"}, "itemStyle": {"color": "#26a69a"}}],
        }).classes("w-full h-48")
        ui.table(columns=[{"name": k, "label": label, "field": k, "align": "left"} for k, label in
                          [("kind", "Kind"), ("partners", "Partners"), ("activation", "Activated"),
                           ("revenue_per_partner", "Revenue / partner"), ("epc", "EPC")]],
                 rows=[{"kind": r.kind, "partners": r.partners,
                        "activation": f"{(r.activation_rate or 0) * 100:.0f} %",
                        "revenue_per_partner": f"{r.revenue_per_partner:,.2f}",
                        "epc": "—" if r.epc is None else f"{r.epc:.2f}"} for r in rows],
                 row_key="kind").props("dense flat").classes("w-full")

    # --- import ----------------------------------------------------------------------------------------------
    def build_import_dialog(self) -> ui.dialog:
        with ui.dialog() as dialog, ui.card().classes("min-w-[520px]"):
            ui.label("Import performance").classes("text-lg font-medium")
            ui.label("A CSV of date, partner (ref code or community URL), clicks, sales, revenue, commission. "
                     "Re-importing the same file changes nothing; a newer export of a day replaces it.") \
                .classes("text-sm text-grey-8")
            options = {p.key: p.name for p in list_platforms()}
            with open_session() as session:
                current = chosen_platform(session=session).key
            self.import_platform = ui.select(options, value=current, label="Columns as exported by") \
                .classes("w-full").props("dense outlined")
            self.import_map = ui.input("Column names (optional)", placeholder="partner=Affiliate, conversions=Sales") \
                .classes("w-full").props("dense")
            ui.upload(label="CSV file", auto_upload=True, max_file_size=20_000_000,
                      on_upload=self.handle_upload).props("accept=.csv,.tsv,text/csv").classes("w-full")
            self.import_result = ui.column().classes("w-full gap-0 text-sm")
            with ui.row().classes("w-full"):
                ui.space()
                ui.button("Close", on_click=dialog.close).props("flat")
        return dialog

    def open_import(self) -> None:
        self.import_result.clear()
        self.import_dialog.open()

    @guarded
    async def handle_upload(self, event) -> None:
        raw = await event.file.read()
        name = Path(event.file.name or "upload.csv").name
        mapping_items = [m.strip() for m in (self.import_map.value or "").replace(";", ",").split(",") if m.strip()]
        self.import_result.clear()
        with self.import_result:
            try:
                with open_session() as session:
                    report = import_performance(name, actor=self.actor, session=session,
                                                platform=self.import_platform.value,
                                                mapping=parse_mapping(mapping_items),
                                                text=raw.decode("utf-8-sig", errors="replace"))
            except (PerformanceError, PlatformError) as exc:
                ui.label(str(exc)).classes("text-negative")
                return
            ui.label(report.summary()).classes("font-medium")
            for note in report.notes:
                ui.label(note).classes("text-grey-7")
            for error in report.errors[:50]:
                ui.label(error).classes("text-negative")
            if len(report.errors) > 50:
                ui.label(f"and {len(report.errors) - 50} more skipped rows").classes("text-negative")
        self.refresh_all()

    def copy(self, text: str) -> None:
        ui.clipboard.write(text)
        ui.notify("Copied")
