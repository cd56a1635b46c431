"""/discover: start scrape and discovery jobs and follow them, wherever they run.

Both are `Job` rows written by the one Job service: with RECRUITER_BROKER set they are queued for the workers
(`recruiter.tasks`), without it the same item code runs in this process, off the event loop. The page polls
the rows, so a job started from the command line or running on another machine shows here the same way: its
state (queued, running, done, partial, failed), counts, workers, and each failed URL with its reason. A job
with failures keeps its input: the URL box is left as typed, and "Retry failed" runs exactly those again.

Most discovery sources need API keys: the Sources panel (`ui.components.sources_panel`) says which are
configured, checks them and stores their keys, and the discovery form labels each source with what it still
needs, so a source that would be skipped is visible before the job starts.

Starting or retrying a job needs DISCOVER, storing a source's key SOURCES (both checked by the services): a viewer
follows the jobs and sees the sources without a form, a member starts jobs but sees no key inputs.
"""

from __future__ import annotations

from typing import Any

from nicegui import background_tasks, run, ui

from profiles.service import list_profiles
from recruiter.accounts.roles import DISCOVER, Actor, NotAllowed, SessionEnded, require
from recruiter.core.db import open_session
from recruiter.core.jobs import job_view
from recruiter.core.jobs import recent_jobs as stored_jobs
from recruiter.discovery.discover import SOURCES
from recruiter.tasks.submit import (
    dispatch,
    queue_available,
    retry_job,
    run_discovery,
    run_inline,
    submit_discover,
    submit_scrape,
)
from ui.access import guarded, page_actor
from ui.components.sources_panel import first_configured, render_sources_panel, source_options
from ui.layout import frame

POLL_SECONDS = 1.0
STATE_COLORS = {"queued": "grey", "running": "blue", "done": "positive", "partial": "orange", "failed": "negative",
                "interrupted": "grey"}
FAILURES_SHOWN = 10


def recent_jobs(limit: int = 20) -> list[dict[str, Any]]:
    with open_session() as session:
        jobs = stored_jobs(session=session, limit=limit, failures=FAILURES_SHOWN)
    return [{"id": j.id, "kind": j.kind, "state": j.state, "progress": j.progress, "done": j.done,
             "failed": j.failed, "total": j.total, "error": j.error, "result": j.result, "params": j.params,
             "workers": j.workers, "failures": [f.as_dict() for f in j.failures],
             "created": j.created_at.strftime("%Y-%m-%d %H:%M")} for j in jobs]


def _start(job_id: int) -> None:
    """Queue the job's items for the workers (the caller runs it in-process when there is no broker)."""
    with open_session() as session:
        dispatch(job_id, session=session)


async def run_scrape_job(urls: list[str], *, actor: Actor, delay: float = 1.0) -> int:
    """Scrape the URLs and save what worked, as a job: queued for the workers, or run here off the event loop.
    Returns the job id (when run here, after it finished)."""
    with open_session() as session:
        job_id = int(submit_scrape(urls, actor=actor, session=session, delay=delay).id)
    if queue_available():
        await run.io_bound(_start, job_id)
    else:
        await run.io_bound(run_inline, job_id)
    return job_id


async def retry_failed_job(job_id: int, *, actor: Actor) -> None:
    with open_session() as session:
        keys = retry_job(job_id, actor=actor, session=session)
    if queue_available():
        await run.io_bound(lambda: _dispatch_keys(job_id, keys))
    else:
        await run.io_bound(run_inline, job_id)


def _dispatch_keys(job_id: int, keys: list[str]) -> None:
    with open_session() as session:
        dispatch(job_id, session=session, keys=keys)


def job_state(job_id: int) -> str:
    with open_session() as session:
        return job_view(job_id, session=session, failures=0).state


def run_discovery_job(profile_name: str, sources: list[str], queries: list[str], limit: int, *, actor: Actor) -> str:
    """Discovery in a worker thread with its own event loop (or queued for the workers); it records its Job."""
    if queue_available():
        with open_session() as session:
            job = submit_discover(profile_name, actor=actor, session=session, sources=sources, queries=queries,
                                  limit=limit)
            dispatch(int(job.id), session=session)
        return f"discovery job {job.id} queued for the workers"
    with open_session() as session:
        result = run_discovery(profile_name, actor=actor, session=session, sources=sources, queries=queries,
                               limit=limit)
    parts = [f"{result[k]} {k.replace('_', ' ')}" for k in ("searched", "scraped", "saved", "failed", "good_matches")
             if k in result]
    skipped = "; ".join(f"skipped {s['reason']}" for s in result.get("skipped") or [])
    return (f"discovery job {result.get('job_id', '?')} {result.get('state', 'finished')}: " + ", ".join(parts)
            + (f" ({skipped})" if skipped else ""))


@ui.page("/discover")
def discover_page() -> None:
    actor = page_actor()
    with open_session() as session:
        profile_names = [p.name for p in list_profiles(session=session)]
    with frame("Discover", active="/discover"):
        root = ui.context.slot.parent
        source_choice: list[ui.select] = []  # the discovery form's select, when there is a profile to discover for
        can_start = actor.allows(DISCOVER)
        if not can_start:
            ui.label("Read only: your role does not start scrapes or discoveries.").classes("text-sm text-grey-7")
        with ui.row().classes("w-full gap-4 items-start") as forms:
            forms.set_visibility(can_start)
            with ui.card().classes("flex-1 min-w-[340px] gap-2"):
                ui.label("Scrape URLs").classes("text-lg font-medium")
                ui.label("Pages, feeds, subreddits, channels, podcasts or OPML files: one per line.") \
                    .classes("text-sm text-grey-7")
                urls = ui.textarea("URLs").props("autogrow").classes("w-full").mark("scrape-urls")

                @guarded
                async def start_scrape() -> None:
                    items = [u.strip() for u in (urls.value or "").splitlines() if u.strip()]
                    if not items:
                        ui.notify("Enter at least one URL", color="warning")
                        return
                    queued = queue_available()
                    ui.notify(f"{'Queued' if queued else 'Scraping'} {len(items)} URLs…")
                    try:
                        job_id = await run_scrape_job(items, actor=actor)
                    except (NotAllowed, SessionEnded):
                        raise
                    except Exception as exc:  # the input stays in the box for another try
                        with root:
                            ui.notify(f"Could not start the scrape: {exc}", color="negative", multi_line=True)
                        return
                    jobs_view.refresh()
                    if queued:
                        return
                    state = job_state(job_id)
                    with root:
                        if state == "done":
                            urls.value = ""  # everything saved: the box is free for the next list
                            ui.notify(f"Job {job_id}: every URL saved", color="positive")
                        else:
                            ui.notify(f"Job {job_id} {state}: the failed URLs and reasons are listed below; "
                                      "the URLs stay in the box", color="warning", multi_line=True)

                ui.button("Start scraping", icon="play_arrow", on_click=start_scrape).mark("start-scrape")
            with ui.card().classes("flex-1 min-w-[340px] gap-2"):
                ui.label("Discover communities for a profile").classes("text-lg font-medium")
                if not profile_names:
                    ui.label("Create a profile first.").classes("text-grey-7")
                else:
                    sources_all = list(SOURCES)
                    profile = ui.select(profile_names, value=profile_names[0], label="Profile").classes("w-64")
                    options = source_options()  # values are the plain names; labels say what a source needs
                    sources = ui.select({name: options.get(name, name) for name in sources_all},
                                        value=first_configured() or sources_all[:1], multiple=True,
                                        label="Sources") \
                        .classes("w-96 max-w-full").props("use-chips").mark("discover-sources")
                    source_choice.append(sources)
                    queries = ui.input_chips("Extra search queries").classes("w-full")
                    limit = ui.number("Results per query and source", value=25, min=1, max=200).classes("w-64")

                    @guarded
                    async def start_discovery() -> None:
                        if not sources.value:
                            ui.notify("Choose at least one source", color="warning")
                            return
                        ui.notify(f"Discovery started for {profile.value}")
                        color = "positive"
                        try:
                            message = await run.io_bound(run_discovery_job, profile.value, list(sources.value),
                                                         list(queries.value or []), int(limit.value or 25),
                                                         actor=actor)
                        except (NotAllowed, SessionEnded):
                            raise
                        except Exception as exc:
                            message, color = f"discovery failed: {exc}", "negative"
                        with root:
                            ui.notify(message, color=color, multi_line=True)

                    ui.button("Start discovery", icon="travel_explore", on_click=start_discovery)

        def relabel_sources() -> None:
            for select in source_choice:
                options = source_options()
                select.set_options({name: options.get(name, name) for name in SOURCES}, value=select.value)

        render_sources_panel(on_change=relabel_sources, actor=actor)

        @guarded
        async def retry(job_id: int) -> None:
            with open_session() as session:
                require(actor, DISCOVER, session=session)  # refused here, not in the background task
            try:
                background_tasks.create(retry_failed_job(job_id, actor=actor), name=f"retry job {job_id}")
            except Exception as exc:
                ui.notify(f"Could not retry job {job_id}: {exc}", color="negative")
                return
            ui.notify(f"Retrying the failed items of job {job_id}")

        @ui.refreshable
        def jobs_view() -> None:
            jobs = recent_jobs()
            with ui.card().classes("w-full"):
                ui.label("Jobs").classes("text-lg font-medium")
                if not jobs:
                    ui.label("No jobs yet.").classes("text-grey-7")
                for job in jobs:
                    with ui.column().classes("w-full gap-1").mark(f"job-{job['id']}"):
                        with ui.row().classes("w-full items-center gap-x-3 gap-y-1 flex-wrap"):
                            ui.label(f"#{job['id']} {job['kind']}").classes("font-medium w-32")
                            ui.badge(job["state"], color=STATE_COLORS.get(job["state"], "grey"))
                            ui.linear_progress(value=job["progress"], show_value=False, size="10px") \
                                .classes("w-48 max-w-full")
                            counts = f"{job['done']}/{job['total']}" if job["total"] else ""
                            if job["failed"]:
                                counts += f" · {job['failed']} failed"
                            ui.label(counts).classes("text-sm whitespace-nowrap")
                            ui.label(job["created"]).classes("text-xs text-grey-6 whitespace-nowrap")
                            workers = ", ".join(f"{name} ({count})" for name, count in sorted(job["workers"].items())
                                                if name != "in-process")
                            summary = job["error"] or (f"workers: {workers}" if workers else "")
                            ui.label(summary).classes("text-sm text-grey-8 truncate flex-1 min-w-0")
                            if job["failed"] and job["state"] in ("partial", "failed") and can_start:
                                ui.button("Retry failed", icon="replay", on_click=lambda j=job["id"]: retry(j)) \
                                    .props("flat dense").mark(f"retry-{job['id']}")
                        for failure in job["failures"]:
                            ui.label(f"✗ {failure.get('url') or failure['item']}: {failure['error']}") \
                                .classes("text-xs text-negative pl-4 break-all")
                        if job["failed"] > len(job["failures"]):
                            ui.label(f"… and {job['failed'] - len(job['failures'])} more (recruiter job show "
                                     f"{job['id']})").classes("text-xs text-grey-7 pl-4")

        jobs_view()
        shown = {"jobs": recent_jobs()}

        def poll() -> None:
            # Rebuild only when a job moved: a steady page must not flicker every second.
            jobs = recent_jobs()
            if jobs != shown["jobs"]:
                shown["jobs"] = jobs
                jobs_view.refresh()

        ui.timer(POLL_SECONDS, poll)
