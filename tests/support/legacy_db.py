"""Databases as the hand-versioned code (before Alembic) left them, for the upgrade tests: the baseline schema
(revision 0001 is exactly that schema), no `alembic_version` table, and the old `schema_version` setting."""

from __future__ import annotations

from sqlalchemy import text


def legacy_database(engine, version: int = 4) -> None:
    """Make ``engine``'s empty database look like one written by the code of schema ``version`` (2 to 4)."""
    from alembic import command

    from recruiter.core.db import _alembic

    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO setting (key, value) VALUES ('schema_version', :v)"), {"v": str(version)})
        if version < 3:
            conn.execute(text("DROP INDEX ix_community_feed_url"))
        if version < 4:
            conn.execute(text("ALTER TABLE job_item DROP COLUMN note"))
            conn.execute(text("ALTER TABLE job_item DROP COLUMN output"))
