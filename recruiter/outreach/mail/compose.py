"""One sequence email as it goes on the wire: filled text, headers, the unsubscribe line and header.

Every message carries its own Message-ID (on the sender's domain: never the machine's host name), threads onto the
earlier steps (In-Reply-To / References, so a reply to any step is matched), and offers a way out twice: the
`List-Unsubscribe` header (a mailto with the enrollment's token, plus the https page when configured, with one-click
`List-Unsubscribe-Post`) and the `{unsubscribe}` line in the body, appended when the step does not place it.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import quote

from sqlmodel import Session

from recruiter.core.models import Community, Profile
from recruiter.outreach.templates import fill, gaps, message_values

UNSUBSCRIBE_SUBJECT = "unsubscribe"


def new_message_id(sender: Address) -> str:
    return make_msgid(idstring="rc", domain=sender.domain or "localhost")


def unsubscribe_mailto(sender: Address, token: str) -> str:
    return f"mailto:{sender.addr_spec}?subject={quote(f'{UNSUBSCRIBE_SUBJECT} {token}')}"


def unsubscribe_line(sender: Address, token: str, https_url: str | None) -> str:
    if https_url:
        return f"Not interested? Unsubscribe here: {https_url} (or just reply \"unsubscribe\")."
    return (f"Not interested? Reply \"unsubscribe\" and you won't hear from me again "
            f"({unsubscribe_mailto(sender, token)}).")


def fill_step(subject: str, body: str, *, community: Community, profile: Profile | None, session: Session,
              unsubscribe: str) -> tuple[str, str, list[str]]:
    """The step's subject and body filled for one community, and the placeholders that could not be filled
    (a message with any of those is not sent)."""
    values = {**message_values(community, session=session, profile=profile), "unsubscribe": unsubscribe}
    if "{unsubscribe}" not in body:
        body = body.rstrip() + "\n\n--\n{unsubscribe}"
    missing = gaps(subject + "\n" + body, values)
    filled_subject = " ".join(fill(subject, values).split())  # a header: one line, whatever a name holds
    return filled_subject, fill(body, values), missing


def build_message(*, sender: Address, to: str, subject: str, body: str, message_id: str, references: list[str],
                  token: str, https_url: str | None, when: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id
    if references:
        message["In-Reply-To"] = references[-1]
        message["References"] = " ".join(references)
    targets = [f"<{unsubscribe_mailto(sender, token)}>"]
    if https_url:
        targets.append(f"<{https_url}>")
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["List-Unsubscribe"] = ", ".join(targets)
    message.set_content(body)
    return message
