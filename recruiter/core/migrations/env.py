"""Alembic's entry point for recruiter's schema (run by `recruiter.core.db`, never by hand).

The connection comes from the caller (`config.attributes["connection"]`), already inside the transaction that
holds the schema lock, so an upgrade is one transaction: it lands whole or not at all (on PostgreSQL; SQLite
runs each step's DDL in that same transaction too). Batch mode lets SQLite alter tables the way it can.
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
