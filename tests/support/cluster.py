"""A small cluster on one machine for tests and benchmarks: `recruiter worker` subprocesses over a real Redis
and PostgreSQL, and a farm of loopback web sites that record when each request arrived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from scrapers.loopback import LoopbackServer, send


def recruiter_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("recruiter")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "recruiter.cli"]


class SiteFarm:
    """`hosts` loopback sites (one port each: one politeness slot each) of `pages` distinct pages."""

    def __init__(self, hosts: int, pages: int) -> None:
        self.lock = threading.Lock()
        self.times: dict[int, list[tuple[float, str]]] = {}
        self.servers: list[LoopbackServer] = []
        for h in range(hosts):
            routes = {"/robots.txt": self._robots(h)}
            routes.update({f"/p{p}": self._page(h, p) for p in range(pages)})
            self.servers.append(LoopbackServer(routes).start())
        self.pages = pages

    def _record(self, h: int, path: str) -> None:
        with self.lock:
            self.times.setdefault(h, []).append((time.monotonic(), path))

    def _robots(self, h: int):
        def handler(request) -> None:
            self._record(h, "/robots.txt")
            send(request, 200, "User-agent: *\nAllow: /\n", "text/plain")
        return handler

    def _page(self, h: int, p: int):
        words = ["trail", "running", "coffee", "yoga", "plants", "budget", "games", "comics", "baking", "tax"]

        def handler(request) -> None:
            self._record(h, f"/p{p}")
            topic = f"{words[h % len(words)]} {words[p % len(words)]}"
            send(request, 200, f"<html><head><title>Site {h} page {p}: {topic}</title>"
                               f"<meta name='description' content='Community {h}-{p} about {topic} for readers "
                               f"who love {words[(h + p) % len(words)]}.'></head>"
                               f"<body><h1>Site {h} page {p}</h1><p>{topic} notes number {h * 100 + p}.</p>"
                               f"</body></html>")
        return handler

    def urls(self) -> list[str]:
        return [server.url(f"/p{p}") for server in self.servers for p in range(self.pages)]

    def page_times(self) -> dict[int, list[float]]:
        with self.lock:
            return {h: sorted(t for t, _ in entries) for h, entries in self.times.items()}

    def min_gap(self) -> float:
        """The smallest gap between two consecutive requests to one site, over all sites."""
        gaps = [b - a for times in self.page_times().values() for a, b in zip(times, times[1:], strict=False)]
        return min(gaps) if gaps else float("inf")

    def close(self) -> None:
        for server in self.servers:
            server.stop()


class Worker:
    """`recruiter worker --name NAME --concurrency N` in its own process group (so a SIGKILL takes its pool
    processes too, as when a machine goes away)."""

    def __init__(self, name: str, concurrency: int, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = open(log_dir / f"{name}.log", "wb")  # closed in stop()
        self.proc = subprocess.Popen([*recruiter_cmd(), "worker", "--name", name, "--concurrency", str(concurrency),
                                      "--loglevel", "WARNING"], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
            except ProcessLookupError:
                pass
        if not self.log.closed:
            self.log.close()


def cli(args: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*recruiter_cmd(), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
