"""Email for sequences: sending due steps over SMTP, reading replies and bounces over IMAP.

`send_due(...)` and `sync_inbox(...)` are the two entry points, keyword-only, for the CLI (`recruiter outreach
send` / `sync`, what a cron line calls) and for a periodic task. Modules: `settings` (server URLs, sender, window,
cap), `transport` (the SMTP/IMAP seams), `compose` (one message on the wire), `sending`, `inbox`.
"""

from recruiter.outreach.mail.inbox import SyncReport, sync_inbox
from recruiter.outreach.mail.sending import SendReport, send_due

__all__ = ["SendReport", "SyncReport", "send_due", "sync_inbox"]
