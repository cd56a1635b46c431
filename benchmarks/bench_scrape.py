"""Scraper benchmark and acceptance checks, all against loopback servers.

    python benchmarks/bench_scrape.py [--only throughput|feeds|pages|hostile]...

- throughput: pages per second over many loopback hosts (one port = one host) with
  politeness on (per-host delay, robots.txt, global concurrency cap).
- feeds: the real feeds of shared/datasets/feeds, served locally and scraped in one
  ``recruiter scrape --delay 0 --format json`` call, checked against rss-parser's
  expected output (title, first five item titles, item count).
- pages: the 130 Readability test pages, checked against Readability's expected
  title, site name and byline.
- hostile: 404, 500, a redirect loop, a 120 s stall, a 2 GiB body, truncated RSS,
  binary content, a robots.txt-disallowed page, a non-URL, an ftp:// URL and a
  refused port, next to one good page, in one CLI call: time and peak memory.

The shared dir is ``$RECRUITER_SHARED`` or ``<repo>/../shared``; checks that need it
are skipped with a message when it is absent. Every check drives the real CLI in a
subprocess, the way a new user would, with ``RECRUITER_HOME`` in a temp dir.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._shared import recruiter_cmd as cli_command
from benchmarks._shared import shared_dir
from scrapers.loopback import LoopbackServer, send


def run_cli(args: list[str], home: Path) -> tuple[int, list, float, float]:
    """(exit code, parsed JSON stdout, seconds, peak RSS MiB) of one CLI call."""
    env = dict(os.environ, RECRUITER_HOME=str(home))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(cli_command() + args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        raw = out.read().decode("utf-8", "replace")
        errors = err.read().decode("utf-8", "replace")
    try:
        records = json.loads(raw)
    except ValueError:
        print(f"CLI printed no JSON (exit {proc.returncode}):\n{raw[:2000]}\n{errors[-3000:]}")
        records = []
    return proc.returncode, records, elapsed, usage.ru_maxrss / 1024


def norm(text) -> str:
    return " ".join(str(text or "").split())


# -- feeds ------------------------------------------------------------------------------


def check_feeds(shared: Path, home: Path) -> None:
    feeds = shared / "datasets" / "feeds"
    expected = {}
    for out in sorted((feeds / "output").glob("*.json")):
        if out.stem == "uolNoticias":
            continue  # its expected titles hold decoding errors
        raw = out.read_bytes()
        try:
            expected[out.stem] = json.loads(raw.decode("utf-8"))["feed"]
        except UnicodeDecodeError:
            expected[out.stem] = json.loads(raw.decode("latin-1"))["feed"]
    inputs = {p.stem: p.name for p in (feeds / "input").iterdir()}
    with LoopbackServer(directory=feeds / "input") as server:
        names = [n for n in expected if n in inputs]
        code, records, elapsed, rss = run_cli(
            ["scrape", "--delay", "0", "--format", "json"] + [server.url(inputs[n]) for n in names], home
        )
    by_url = {r["url"]: r for r in records}
    good = 0
    for name in names:
        exp = expected[name]
        rec = by_url.get(server.url(inputs[name])) or {}
        want_items = [norm(i.get("title")) for i in exp.get("items", [])]
        got_items = [norm(i.get("title")) for i in rec.get("items", [])]
        ok = (
            rec.get("ok")
            and norm(rec.get("title")) == norm(exp.get("title"))
            and got_items[:5] == want_items[:5]
            and len(got_items) >= min(len(want_items), 20)
        )
        good += bool(ok)
        if not ok:
            print(f"  feed {name}: got {rec.get('title')!r} {got_items[:2]} ({len(got_items)}), "
                  f"want {exp.get('title')!r} {want_items[:2]} ({len(want_items)}) {rec.get('error') or ''}")
    verdict = "PASS" if good >= 27 else "FAIL"
    print(f"feeds: {good}/{len(names)} match (need >= 27) in {elapsed:.1f} s, peak {rss:.0f} MiB, exit {code} -> {verdict}")


# -- pages ------------------------------------------------------------------------------


def check_pages(shared: Path, home: Path) -> None:
    pages = shared / "datasets" / "pages"
    names = sorted(p.name for p in pages.iterdir() if (p / "source.html").is_file())
    with LoopbackServer(directory=pages) as server:
        urls = [server.url(f"/{name}/source.html") for name in names]
        code, records, elapsed, rss = run_cli(["scrape", "--delay", "0", "--format", "json"] + urls, home)
    by_url = {r["url"]: r for r in records}
    titles = sites = authors = authors_raw = 0
    want_sites = want_authors = 0
    misses = []
    for name, url in zip(names, urls, strict=True):
        exp = json.loads((pages / name / "expected-metadata.json").read_text("utf-8"))
        rec = by_url.get(url) or {}
        if (rec.get("title") or "") == (exp.get("title") or "").strip():  # exact: Readability's own string
            titles += 1
        else:
            misses.append(f"  title {name}: got {rec.get('title')!r} want {exp.get('title')!r} {rec.get('error') or ''}")
        if exp.get("siteName"):
            want_sites += 1
            if norm(rec.get("site_name")) == norm(exp["siteName"]):
                sites += 1
            else:
                misses.append(f"  site_name {name}: got {rec.get('site_name')!r} want {exp['siteName']!r}")
        if exp.get("byline"):
            want_authors += 1
            got, want = norm(rec.get("author")), norm(exp["byline"])
            if got and (got in want or want in got):
                authors += 1
            else:
                misses.append(f"  author {name}: got {rec.get('author')!r} want {exp['byline']!r}")
            raw_got, raw_want = (rec.get("author") or "").strip(), exp["byline"].strip()
            if raw_got and (raw_got in raw_want or raw_want in raw_got):
                authors_raw += 1
    for line in misses[:20]:
        print(line)
    t, s, a = titles / len(names), sites / max(want_sites, 1), authors / max(want_authors, 1)
    verdict = "PASS" if t >= 0.9 and s >= 0.85 and a >= 0.65 else "FAIL"
    print(
        f"pages: title {titles}/{len(names)} ({t:.0%}, need 90%), site_name {sites}/{want_sites} ({s:.0%}, need 85%), "
        f"author {authors}/{want_authors} ({a:.0%}, need 65%; {authors_raw} without whitespace normalising) in {elapsed:.1f} s, peak {rss:.0f} MiB, exit {code} -> {verdict}"
    )


# -- hostile ----------------------------------------------------------------------------

GOOD_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Trail Notes - a running blog</title><meta property="og:site_name" content="Trail Notes">
<meta name="author" content="Ada Runner"><meta name="description" content="Notes on trail running."></head>
<body><h1>Trail Notes</h1><p>Write to <a href="mailto:ada@trailnotes.test">ada@trailnotes.test</a>.</p></body></html>"""

TRUNCATED_RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title>
<item><title>One</title><link>http://example.test/1</link></item><item><title>Tw"""


def _stall(request, seconds: float = 120.0) -> None:
    time.sleep(seconds)
    send(request, 200, "too late")


def _huge(request, total: int = 2 * 1024**3) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Connection", "close")
    request.end_headers()
    chunk = b"<p>" + b"x" * 65533
    sent = 0
    try:
        while sent < total:
            request.wfile.write(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, OSError):
        pass
    request.close_connection = True


def hostile_routes() -> dict:
    rng = random.Random(7)
    binary = bytes(rng.randrange(256) for _ in range(4096))
    return {
        "/robots.txt": lambda r: send(r, 200, "User-agent: *\nDisallow: /private/\n", "text/plain"),
        "/good": lambda r: send(r, 200, GOOD_PAGE),
        "/missing": lambda r: send(r, 404, "no such page"),
        "/error": lambda r: send(r, 500, "boom"),
        "/loop-a": lambda r: send(r, 302, "", None, {"Location": "/loop-b"}),
        "/loop-b": lambda r: send(r, 302, "", None, {"Location": "/loop-a"}),
        "/stall": _stall,
        "/huge": _huge,
        "/truncated.rss": lambda r: send(r, 200, TRUNCATED_RSS, "application/rss+xml"),
        "/binary": lambda r: send(r, 200, binary, "text/html"),
        "/private/secret": lambda r: send(r, 200, GOOD_PAGE),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_hostile(home: Path) -> None:
    with LoopbackServer(routes=hostile_routes()) as server:
        urls = [server.url("/good")] + [
            server.url(p) for p in ("/missing", "/error", "/loop-a", "/stall", "/huge", "/truncated.rss", "/binary", "/private/secret")
        ] + ["this is not a url", "ftp://127.0.0.1/file.txt", f"http://127.0.0.1:{free_port()}/"]
        code, records, elapsed, rss = run_cli(["scrape", "--delay", "0", "--format", "json"] + urls, home)
        requested = list(server.requests)
    ok = len(records) == len(urls) and records[0]["ok"] and all(not r["ok"] and r["error"] for r in records[1:])
    never_private = not any(p.startswith("/private") for p in requested)
    for record in records:
        print(f"  {'ok ' if record['ok'] else 'ERR'} {record['url'][:50]:50} {record['error'] or record['name']}")
    verdict = "PASS" if ok and never_private and elapsed < 150 and rss < 1024 and code == 1 else "FAIL"
    print(
        f"hostile: {len(records)} records, good page ok={bool(records and records[0]['ok'])}, others failed cleanly={ok}, "
        f"disallowed page never requested={never_private}, {elapsed:.1f} s (limit 150), peak {rss:.0f} MiB (limit 1024), "
        f"exit {code} -> {verdict}"
    )


# -- throughput -------------------------------------------------------------------------


def synthetic_site(index: int, pages: int) -> dict:
    routes = {"/robots.txt": lambda r: send(r, 200, "User-agent: *\nDisallow: /admin/\n", "text/plain")}
    items = "".join(f"<item><title>Post {n}</title><link>/post/{n}</link></item>" for n in range(10))
    feed = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Site {index}</title>{items}</channel></rss>"
    routes["/feed.xml"] = lambda r, body=feed: send(r, 200, body, "application/rss+xml")
    routes["/about"] = lambda r: send(r, 200, f"<html><body>Contact editor{index}@site{index}.test</body></html>")
    for n in range(pages):
        body = (
            f"<!doctype html><html lang='en'><head><title>Post {n} | Site {index}</title>"
            f"<link rel='alternate' type='application/rss+xml' href='/feed.xml'>"
            f"<meta property='og:site_name' content='Site {index}'></head><body><article><h1>Post {n}</h1>"
            f"<p class='byline'>By Author {index}</p><p>{'Lorem ipsum dolor sit amet. ' * 40}</p>"
            f"<a href='/about'>About</a></article></body></html>"
        )
        routes[f"/post/{n}"] = lambda r, body=body: send(r, 200, body)
    return routes


def check_throughput(home: Path, hosts: int, pages: int, delay: float) -> None:
    servers = [LoopbackServer(routes=synthetic_site(i, pages)).start() for i in range(hosts)]
    try:
        urls = [s.url(f"/post/{n}") for n in range(pages) for s in servers]
        code, records, elapsed, rss = run_cli(["scrape", "--delay", str(delay), "--format", "json"] + urls, home)
        requests = sum(len(s.requests) for s in servers)
    finally:
        for s in servers:
            s.stop()
    good = sum(1 for r in records if r["ok"])
    print(
        f"throughput: {good}/{len(urls)} pages from {hosts} hosts, per-host delay {delay:g} s: {elapsed:.1f} s wall "
        f"(CLI start-up included) = {len(urls) / elapsed:.1f} pages/s, {requests / elapsed:.1f} requests/s, "
        f"peak {rss:.0f} MiB, exit {code}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=["throughput", "feeds", "pages", "hostile"])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--pages-per-host", type=int, default=4)
    parser.add_argument("--delay", type=float, default=1.0, help="per-host delay for the throughput run")
    args = parser.parse_args()
    wanted = args.only or ["throughput", "feeds", "pages", "hostile"]
    shared = shared_dir()
    with tempfile.TemporaryDirectory(prefix="recruiter-bench-") as tmp:
        home = Path(tmp)
        if "throughput" in wanted:
            check_throughput(home / "throughput", args.hosts, args.pages_per_host, args.delay)
        for name, check in (("feeds", check_feeds), ("pages", check_pages)):
            if name in wanted:
                if shared is None:
                    print(f"{name}: skipped, no shared dir (set RECRUITER_SHARED or put shared/ next to the repo)")
                else:
                    check(shared, home / name)
        if "hostile" in wanted:
            check_hostile(home / "hostile")


if __name__ == "__main__":
    main()
