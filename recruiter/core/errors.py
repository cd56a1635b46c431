"""One error base for everything a user can act on.

A `RecruiterError` carries a message meant for people: the CLI prints it as one line (`error: ...`) and exits
with code 2 in one place (`recruiter.cli.root`), and the web app shows it in a notification. Domain modules
subclass it (a stage that does not exist, a profile name already taken, a row that cannot be read), so the
faces never need to know each module's own exception to refuse the same things the same way.
"""

from __future__ import annotations


class RecruiterError(Exception):
    """An error the user can act on; its message is one line, fit to print as is."""


class NotFound(RecruiterError, LookupError):
    """What was asked for does not exist (a community, a profile, a job)."""


class Conflict(RecruiterError, ValueError):
    """The change would break a rule (a name already taken, a second first-contact)."""


class InvalidValue(RecruiterError, ValueError):
    """A value the user gave is not one the tool knows (a stage, a kind, a format)."""
