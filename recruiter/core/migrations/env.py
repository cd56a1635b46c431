"""Alembic's entry point for recruiter's schema (run by `recruiter.core.db`, never by hand).

The connection comes from the caller (`config.attributes["connection"]`), already inside the transaction that
holds the schema lock (on SQLite an explicit `BEGIN IMMEDIATE`, so its schema statements are part of it too), so
an upgrade is one transaction: it lands whole or not at all. Batch mode would let SQLite alter tables by copying
them: with foreign keys on, dropping the old copy cascades to the rows that point at it, so a migration that
changes a referenced table on SQLite must not use it (0002 shows the in-place way).
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from recruiter.core import models  # noqa: F401  (registers every table on the metadata)

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `recruiter.core.db` runs migrations
    raise RuntimeError("recruiter's migrations run through `recruiter db upgrade` (or any command), not alembic")

context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
