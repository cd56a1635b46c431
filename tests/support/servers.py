"""Real servers for tests and benchmarks on free loopback ports: PostgreSQL and Redis (Debian's packages,
throwaway data dirs) and the web app itself (`recruiter ui` as a user starts it).

A missing server is installed with apt-get when we run as root (as CI does; the Debian registry is reachable
there); anything that cannot be installed or started raises `Unavailable` with the reason, which the fixtures
turn into a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class Unavailable(RuntimeError):
    """The server cannot run here; the message says why."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, *, timeout: float = 15, kill: bool = False) -> None:
    """Ask a child process to stop (SIGTERM, or SIGKILL with `kill`), wait, and kill it if it will not go."""
    if proc.poll() is None:
        if kill:
            proc.kill()
        else:
            proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


class UiServer:
    """`recruiter ui --host HOST --port PORT` in a subprocess with `env`, its output in `log_path`; the
    constructor returns once `/login` answers with a status `ready` accepts (90 s at most)."""

    def __init__(self, recruiter: str, *, env: dict[str, str], log_path: Path, host: str = "127.0.0.1",
                 port: int | None = None, ready=lambda status: status < 500) -> None:
        import httpx

        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([recruiter, "ui", "--host", host, "--port", str(self.port)], env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                raise AssertionError(f"recruiter ui exited: {log_path.read_text()}")
            try:
                if ready(httpx.get(self.base + "/login", timeout=2).status_code):
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError("recruiter ui did not start within 90 s")

    def text_of_log(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def ensure_chromium() -> str:
    """Debian's Chromium: installed when missing and we are root with apt-get (as CI is); else Unavailable."""
    path = find_chromium()
    if path is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "chromium"], env=env, capture_output=True, timeout=1200)
        path = find_chromium()
    if path is None:
        raise Unavailable("headless Chromium is not installed and could not be installed "
                          "(needs root and apt-get: apt-get install -y chromium)")
    return path


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable(f"{' '.join(packages)} not installed and cannot install it here (needs root and "
                          f"apt-get): apt-get install -y {' '.join(packages)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Another process may hold the dpkg lock for a while (parallel installs): wait for it instead of failing.
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=900",
               *packages]
    result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=900"], capture_output=True,
                       env=env)
        result = subprocess.run(install, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise Unavailable(f"apt-get install {' '.join(packages)} failed: {result.stderr.strip()[-300:]}")


def _wait_port(port: int, seconds: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# --- Redis -----------------------------------------------------------------------------------------------

def redis_binary() -> str:
    path = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if path is None:
        _apt_install("redis-server")
        path = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(path).exists():
            raise Unavailable("redis-server still missing after apt-get install")
    return path


class RedisServer:
    """redis-server on 127.0.0.1 and a free port, its data (AOF, so a restart keeps the queue) in a temp dir."""

    def __init__(self) -> None:
        self.binary = redis_binary()
        self.folder = Path(tempfile.mkdtemp(prefix="recruiter-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--protected-mode", "no",
             "--daemonize", "no", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not _wait_port(self.port, 20, self.proc):
            log = (self.folder / "redis.log").read_text(errors="replace")[-300:] if (self.folder / "redis.log").exists() else ""
            self.stop()
            raise Unavailable(f"redis-server did not start: {log}")
        return self

    def stop(self, *, kill: bool = False) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=20, kill=kill)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


# --- PostgreSQL ------------------------------------------------------------------------------------------

def postgres_bin() -> Path:
    def find() -> Path | None:
        root = Path("/usr/lib/postgresql")
        if not root.is_dir():
            return None
        return next((p for p in sorted(root.glob("*/bin"), reverse=True) if (p / "initdb").exists()), None)

    found = find()
    if found is None:
        _apt_install("postgresql")
        found = find()
        if found is None:
            raise Unavailable("PostgreSQL server binaries still missing after apt-get install postgresql")
    return found


class PostgresServer:
    """A throwaway cluster (trust auth, user `recruiter`) on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise Unavailable("psycopg is not installed (make install adds it)") from exc
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="recruiter-pg-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root: use the postgres account
            if shutil.which("runuser") is None:
                raise Unavailable("running as root without runuser: cannot start PostgreSQL")
            try:
                import pwd

                pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and no postgres account: cannot start PostgreSQL") from None
            shutil.chown(self.folder, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://recruiter@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        data = self.folder / "data"
        init = subprocess.run([*self.run_as, str(self.bin / "initdb"), "-D", str(data), "-U", "recruiter",
                               "--auth=trust", "-E", "UTF8"], capture_output=True, text=True)
        if init.returncode != 0:
            raise Unavailable(f"initdb failed: {init.stderr.strip()[:200]}")
        self.proc = subprocess.Popen(
            [*self.run_as, str(self.bin / "postgres"), "-D", str(data), "-p", str(self.port), "-k", str(self.folder),
             "-h", "127.0.0.1", "-c", "max_connections=200", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                              capture_output=True).returncode == 0:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.close()
        raise Unavailable("PostgreSQL did not start")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://recruiter@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=30)
        self.proc = None
        shutil.rmtree(self.folder, ignore_errors=True)


def websocket_status(port: int, cookie: str | None) -> str:
    """The status line the socket.io websocket handshake gets."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        request = (f"GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n")
        sock.sendall(request.encode())
        return sock.recv(4096).decode("latin-1").split("\r\n")[0]
