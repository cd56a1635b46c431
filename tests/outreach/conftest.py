"""Real mail servers on loopback for the sequence tests.

- `smtp_server`: aiosmtpd in a thread, on a free port, with AUTH (user `sender`, password `s3cret:pw`) required and
  allowed without TLS; it records every envelope and raw message, and can refuse recipients or sleep on DATA.
- `imap_server`: Debian's dovecot (installed with apt-get when missing, as root) started with a throwaway config,
  passwd-file and maildir in a temp dir on a free port; skipped with the reason when it cannot start. `deliver()`
  drops a raw message into the maildir, as a delivery agent would.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mail_helpers import IMAP_PASSWORD, IMAP_USER, SMTP_PASSWORD, SMTP_USER
from servers import free_port, stop_process

DOVECOT = Path("/usr/sbin/dovecot")


def pytest_configure(config) -> None:
    # aiosmtpd warns on every connection that AUTH without TLS is unsafe: on loopback, in tests, it is the point.
    config.addinivalue_line("filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning")


# --- SMTP ---------------------------------------------------------------------------------------------------

@dataclass
class Received:
    auth_user: str | None
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self):
        from email import policy
        from email.parser import BytesParser

        return BytesParser(policy=policy.default).parsebytes(self.raw)


@dataclass
class SmtpServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply to RCPT
    data_delay: float = 0.0

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@{self.host}:{self.port}"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.server.refuse:
            return self.server.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.server.data_delay:
            await asyncio.sleep(self.server.data_delay)
        login = session.auth_data.login.decode() if session.auth_data is not None else None
        self.server.received.append(Received(login, envelope.mail_from, list(envelope.rcpt_tos),
                                             bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    class LoopbackController(Controller):
        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]  # bound to port 0: learn the real one
            super()._trigger_server()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
              and auth_data.password == SMTP_PASSWORD.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    state = SmtpServer(host="127.0.0.1", port=0)
    with warnings.catch_warnings():  # AUTH without TLS: what this loopback test server is for
        warnings.simplefilter("ignore", UserWarning)
        controller = LoopbackController(_Handler(state), hostname="127.0.0.1", port=0, authenticator=authenticate,
                                        auth_required=True, auth_require_tls=False)
    controller.start()
    state.port = controller.port
    try:
        yield state
    finally:
        controller.stop()


# --- IMAP ---------------------------------------------------------------------------------------------------

@dataclass
class ImapServer:
    host: str
    port: int
    maildir: Path

    @property
    def url(self) -> str:
        return f"imap://{IMAP_USER}:{IMAP_PASSWORD}@{self.host}:{self.port}/INBOX"

    def deliver(self, raw: bytes | str) -> None:
        data = raw.encode() if isinstance(raw, str) else raw
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.test"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(data.replace(b"\r\n", b"\n"))
        os.chown(tmp, os.stat(self.maildir).st_uid, os.stat(self.maildir).st_gid)
        tmp.rename(self.maildir / "new" / name)


def _ensure_dovecot() -> str | None:
    """None when dovecot is there (installing it as root when missing), else why not."""
    if DOVECOT.exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "dovecot-imapd is not installed (apt-get install dovecot-imapd)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "dovecot-imapd"]
    result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0:  # the package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-q"], capture_output=True,
                       env=env, timeout=900)
        result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0 or not DOVECOT.exists():
        return f"cannot install dovecot-imapd: {(result.stderr or result.stdout).strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    reason = _ensure_dovecot()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="recruiter-dovecot-"))
    os.chmod(root, 0o755)
    me = pwd.getpwuid(os.getuid())
    # Mail is owned by an unprivileged account: dovecot refuses mail access as root.
    owner = pwd.getpwnam("dovecot") if os.geteuid() == 0 else me
    home = root / "home"
    maildir = home / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for path in [home, maildir, *(maildir / s for s in ("cur", "new", "tmp"))]:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    (root / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::::\n")
    port = free_port()
    internal = "dovecot" if os.geteuid() == 0 else me.pw_name
    login_user = "dovenull" if os.geteuid() == 0 else me.pw_name
    config = root / "dovecot.conf"
    config.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:{maildir}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
service submission-login {{
  chroot =
}}
""")
    process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                ready = s.recv(100).startswith(b"* OK")
                break
        except OSError:
            time.sleep(0.1)
    if not ready:
        process.kill()
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
        log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"dovecot did not start: {(output + log).strip()[-400:]}")
    try:
        yield ImapServer(host="127.0.0.1", port=port, maildir=maildir)
    finally:
        stop_process(process, timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clean_inbox(imap_server: ImapServer) -> ImapServer:
    """The shared server's maildir emptied for this test (the UIDs keep growing, as on a real server)."""
    for sub in ("cur", "new", "tmp"):
        for path in (imap_server.maildir / sub).iterdir():
            path.unlink()
    return imap_server
