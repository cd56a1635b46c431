"""Mail settings and message composition: server URLs (never showing a password), the sender, the window, and
the unsubscribe header and line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


def test_server_urls_parse_with_defaults_and_hide_the_password() -> None:
    from recruiter.outreach.mail.settings import parse_server_url

    smtps = parse_server_url("smtps://ana%40shop.example:p%40ss@smtp.example.com", kind="smtp", variable="X")
    assert (smtps.host, smtps.port, smtps.user, smtps.password, smtps.ssl) == \
        ("smtp.example.com", 465, "ana@shop.example", "p@ss", True)
    assert "p@ss" not in repr(smtps) and "p@ss" not in smtps.redacted() and "***" in smtps.redacted()
    starttls = parse_server_url("smtp://u:p@mail.example?starttls=1", kind="smtp", variable="X")
    assert starttls.port == 587 and starttls.starttls and not starttls.ssl
    imap = parse_server_url("imaps://u:p@imap.example/Replies%20Folder", kind="imap", variable="X")
    assert (imap.port, imap.mailbox) == (993, "Replies Folder")
    assert parse_server_url("imap://u:p@imap.example", kind="imap", variable="X").mailbox == "INBOX"


@pytest.mark.parametrize(("url", "message"), [
    ("smtp://u:secretpw@host:notaport", "not a valid smtp:// URL"),
    ("smtp://u:secretpw@:25", "has no host"),
    ("smtps://u:secretpw@host?starttls=1", "TLS already"),
    ("smtp://u:secretpw@host?verify=0", "unknown option 'verify'"),
    ("ftp://u:secretpw@host", "must start with smtp://"),
])
def test_bad_server_urls_are_named_without_the_password(url, message) -> None:
    from recruiter.outreach.mail.settings import MailConfigError, parse_server_url

    with pytest.raises(MailConfigError) as info:
        parse_server_url(url, kind="smtp", variable="RECRUITER_SMTP_URL")
    assert message in str(info.value) and "secretpw" not in str(info.value)


def test_sender_window_and_cap(monkeypatch) -> None:
    from recruiter.core.errors import InvalidValue
    from recruiter.outreach.mail.settings import MailConfigError, max_per_day, sender, window

    address = sender("Ana from Shop <ana@shop.example>")
    assert (address.display_name, address.addr_spec) == ("Ana from Shop", "ana@shop.example")
    with pytest.raises(MailConfigError):
        sender("Ana <ana@shop.example>\r\nBcc: x@y.example")
    berlin = window("09:00-17:00", "Europe/Berlin")
    assert berlin.contains(datetime(2026, 7, 1, 7, 30, tzinfo=UTC))  # 09:30 in summer
    assert not berlin.contains(datetime(2026, 1, 1, 16, 30, tzinfo=UTC))  # 17:30 in winter
    assert window("always") is None
    with pytest.raises(InvalidValue, match="unknown time zone"):
        window("09:00-17:00", "Mars/Olympus")
    with pytest.raises(InvalidValue, match="empty"):
        window("09:00-09:00")
    monkeypatch.delenv("RECRUITER_MAX_PER_DAY", raising=False)
    assert max_per_day(None) == 50 and max_per_day(0) == 0
    monkeypatch.setenv("RECRUITER_MAX_PER_DAY", "lots")
    with pytest.raises(MailConfigError, match="RECRUITER_MAX_PER_DAY"):
        max_per_day(None)


def test_unsubscribe_header_line_and_one_click_link(monkeypatch) -> None:
    from recruiter.outreach.mail.compose import build_message, new_message_id, unsubscribe_line
    from recruiter.outreach.mail.settings import MailConfigError, sender, unsubscribe_url

    ana = sender("Ana <ana@shop.example>")
    token = "ab" * 12
    mid = new_message_id(ana)
    assert mid.endswith("@shop.example>")  # never the machine's host name
    plain = build_message(sender=ana, to="x@site.example", subject="Hello", body="Hi", message_id=mid,
                          references=[], token=token, https_url=None, when=datetime.now(UTC))
    assert plain["List-Unsubscribe"] == f"<mailto:ana@shop.example?subject=unsubscribe%20{token}>"
    assert plain["List-Unsubscribe-Post"] is None
    link = unsubscribe_url(token, "https://shop.example/unsubscribe?t={token}")
    both = build_message(sender=ana, to="x@site.example", subject="Again", body="Hi", message_id=mid,
                         references=["<a@shop.example>", "<b@shop.example>"], token=token, https_url=link,
                         when=datetime.now(UTC))
    assert f"<{link}>" in both["List-Unsubscribe"] and both["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert both["In-Reply-To"] == "<b@shop.example>" and both["References"] == "<a@shop.example> <b@shop.example>"
    assert link in unsubscribe_line(ana, token, link)
    with pytest.raises(MailConfigError):
        unsubscribe_url(token, "http://shop.example/unsubscribe")


def test_fill_step_collapses_a_hostile_name_into_one_header_line(session) -> None:
    from recruiter.core.models import Community
    from recruiter.outreach.mail.compose import fill_step

    community = Community(url="https://evil.example", name="Evil\r\nBcc: victim@x.example", emails=[])
    session.add(community)
    session.commit()
    subject, body, missing = fill_step("Hello {name}", "Hi {name} {merchant}", community=community, profile=None,
                                       session=session, unsubscribe="bye")
    assert "\n" not in subject and "\r" not in subject
    assert missing == ["{merchant}"]  # no shop name set: held, not sent with a gap
    assert body.endswith("bye")
