"""Scrapers: turn URLs on the web into community records for the core.

Layout (data flows top to bottom):

- ``scrapers.http`` — the one HTTP layer every adapter shares: politeness (per-host
  serialisation and delay, a global concurrency cap, robots.txt), retries, timeouts,
  the body cap (feeds streamed further, and cut after the items we keep), content-type
  and charset handling, redirects and the conditional-GET cache (``scrapers.cache``).
- ``scrapers.api`` — the API policy beside it: a documented API called with the user's
  credentials follows its own limits (pace, Retry-After, rate-limit headers, quotas kept
  in ``scrapers.cache``'s ledger or the cluster's Redis), not robots.txt; secrets never
  reach an error.
- ``scrapers.config`` — settings: base URLs, credentials (read where the work runs), the
  contact our User-Agent names.
- ``scrapers.netguard`` — the address policy on every connection (SSRF): derived URLs
  reach public addresses only, checked on the address actually connected to
  (``recruiter.core.netpolicy`` says which addresses are public).
- ``scrapers.readability`` / ``scrapers.extract`` — pure functions over HTML: the
  Readability-style metadata port and the contact/social/feed/link extraction.
- ``scrapers.adapters`` — one module per kind of source (website, feed, Reddit,
  YouTube, Podcast Index, Apple Podcasts, web search, newsletter, OPML); each takes the
  shared client. ``scrapers.adapters.sources`` is the table of discovery sources: what
  each needs, how to search it, how to check it.
- ``scrapers.scrape`` — runs the right adapter per URL and turns every failure into
  a record with ``ok: false`` and an error, so one bad URL never stops the others.
- ``recruiter.discovery.discover`` — the resumable discovery job; ``recruiter.cli.scraping`` — the
  ``scrape`` and ``discover`` commands registered on the core's Typer app.
"""
