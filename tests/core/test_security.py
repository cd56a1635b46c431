"""The web login's building blocks: password check, session token bound to the password, redirects, the body cap.

(The login lockout is kept in the database now: tests/accounts and tests/ui/test_accounts_web.py.)"""

from __future__ import annotations

import pytest

from recruiter.core import security
from recruiter.core.security import (
    check_password,
    safe_redirect_target,
    session_token,
    token_is_current,
    upload_limit_bytes,
)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECRUITER_HOME", str(tmp_path / "home"))
    security._secrets.clear()
    yield tmp_path / "home"
    security._secrets.clear()


def test_password_check(monkeypatch) -> None:
    monkeypatch.delenv("RECRUITER_PASSWORD", raising=False)
    assert not check_password("")  # no password set: nothing is accepted
    monkeypatch.setenv("RECRUITER_PASSWORD", "correct horse")
    assert check_password("correct horse")
    assert not check_password("correct hors") and not check_password("correct horse ") and not check_password("")
    assert not check_password(None)  # type: ignore[arg-type]
    assert not check_password("\udcff")  # lone surrogates from a hostile form do not crash the check


def test_session_token_is_bound_to_password_and_secret(monkeypatch, home) -> None:
    monkeypatch.setenv("RECRUITER_PASSWORD", "one")
    token = session_token()
    assert token_is_current(token) and "one" not in token
    monkeypatch.setenv("RECRUITER_PASSWORD", "two")
    assert not token_is_current(token)  # a new password ends every session
    assert token_is_current(session_token())
    (home / "storage_secret").write_text("another secret")
    security._secrets.clear()
    assert not token_is_current(session_token("two").replace("0", "1", 1))
    monkeypatch.delenv("RECRUITER_PASSWORD")
    assert not token_is_current(session_token("")) and not token_is_current(None)


@pytest.mark.parametrize("given", [
    "/\\evil.example/x", "//evil.example", "https://evil.example", "/%5cevil.example", "/%5Cevil.example",
    "/%2F%2Fevil.example", "/%2f/evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
    "javascript:alert(1)", "evil.example", "http:/evil.example", " /prospects", "", None, "/" + "a" * 3000,
    "/x\r\nSet-Cookie: a=b",
])
def test_redirect_targets_off_site_fall_back_to_home(given) -> None:
    assert safe_redirect_target(given) == "/"


@pytest.mark.parametrize("given", ["/", "/prospects", "/prospects?profile=home%20bakers&kind=blog",
                                   "/community/12", "/profiles/3#top"])
def test_redirect_targets_on_site_are_kept(given) -> None:
    assert safe_redirect_target(given) == given


def test_upload_limit(monkeypatch) -> None:
    monkeypatch.delenv("RECRUITER_UPLOAD_MAX_MB", raising=False)
    assert upload_limit_bytes() == 20 * 1024 * 1024
    monkeypatch.setenv("RECRUITER_UPLOAD_MAX_MB", "0.5")
    assert upload_limit_bytes() == 512 * 1024
    monkeypatch.setenv("RECRUITER_UPLOAD_MAX_MB", "lots")
    assert upload_limit_bytes() == 20 * 1024 * 1024
