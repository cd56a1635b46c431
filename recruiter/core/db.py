"""Engines, sessions and the schema version.

The schema version lives in the `setting` table. A database written by a newer recruiter is refused with a
clear message rather than touched; an older one is brought forward by the steps in `MIGRATIONS`, each of which
only adds (tables, columns), so no data is ever dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from recruiter.core import models
from recruiter.core.config import database_url, redact_url
from recruiter.core.errors import RecruiterError

SCHEMA_VERSION = 2


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE ... ADD COLUMN for each column the table lacks (a step may meet a half-migrated table)."""
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, ddl in columns.items():
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")


def _v2_job_items(conn: Connection) -> None:
    """Jobs run by workers: failed count and finish time on `job` (the `job_item` table is created by
    create_all, which runs first)."""
    _add_columns(conn, "job", {"failed": "INTEGER NOT NULL DEFAULT 0", "finished_at": "TIMESTAMP"})


# version → function bringing a database at version-1 to version (additive only).
MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _v2_job_items}


class SchemaError(RecruiterError, RuntimeError):
    pass


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the life of the process, schema checked and created on first use."""
    url = database_url(url)
    engine = _engines.get(url)
    if engine is None:
        engine = make_engine(url)
        init_db(engine)
        _engines[url] = engine
    return engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # bad URL or missing driver: say which, without the password
        raise SchemaError(f"cannot open database {redact_url(url)}: {exc}") from exc


def init_db(engine: Engine) -> None:
    """Create missing tables, then check and advance the schema version."""
    with engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())
        version = None
        if "setting" in existing:
            row = conn.execute(
                models.Setting.__table__.select().where(models.Setting.__table__.c.key == "schema_version")
            ).first()
            version = row.value if row else None
        if version is not None and int(version) > SCHEMA_VERSION:
            raise SchemaError(
                f"database schema version {version} is newer than this recruiter understands "
                f"({SCHEMA_VERSION}); upgrade recruiter instead of opening it with this version"
            )
        SQLModel.metadata.create_all(conn)
        start = int(version) if version is not None else SCHEMA_VERSION
        for target in range(start + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](conn)
        table = models.Setting.__table__
        if version is None:
            conn.execute(table.insert().values(key="schema_version", value=SCHEMA_VERSION))
        elif int(version) != SCHEMA_VERSION:
            conn.execute(table.update().where(table.c.key == "schema_version").values(value=SCHEMA_VERSION))
        if conn.execute(table.select().where(table.c.key == "database_id")).first() is None:
            # Tells apart databases that share a URL (in-memory ones) so a cached index is never reused wrongly.
            conn.execute(table.insert().values(key="database_id", value=uuid.uuid4().hex))


@contextmanager
def open_session(url: str | None = None) -> Iterator[Session]:
    """A session on the configured database; commits nothing by itself."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        yield session


def get_setting(key: str, default=None, *, session: Session):
    row = session.get(models.Setting, key)
    return row.value if row is not None else default


def set_setting(key: str, value, *, session: Session) -> None:
    row = session.get(models.Setting, key)
    if row is None:
        session.add(models.Setting(key=key, value=value))
    else:
        row.value = value
        session.add(row)
    session.commit()


# Databases cap the parameters of one statement (SQLite 999 on old builds, PostgreSQL 65,535): IN lists and
# bulk inserts go in chunks of this size.
CHUNK = 500


def chunked(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    """Consecutive slices of at most `size` items (the one chunking loop for IN lists and bulk writes)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


DATA_VERSION_KEY = "community_data_version"


def current_data_version(*, session: Session) -> int:
    """Grows whenever communities change: derived data (the index, ranking data, stored rankings) compares it."""
    return int(get_setting(DATA_VERSION_KEY, 0, session=session) or 0)


def bump_data_version(*, session: Session) -> int:
    """Record that communities changed (and commit), so every loaded index knows to re-sync.

    The row is locked while it is read (FOR UPDATE on PostgreSQL), so two workers saving at once both count:
    a lost increment would let an index believe it is in sync while missing a community."""
    row = session.exec(select(models.Setting).where(models.Setting.key == DATA_VERSION_KEY)
                       .with_for_update().execution_options(populate_existing=True)).first()
    version = int((row.value if row is not None else 0) or 0) + 1
    set_setting(DATA_VERSION_KEY, version, session=session)
    return version


def dispose_engines(*, close: bool = True) -> None:
    """Forget every engine; `close=False` in a forked child leaves the parent's connections to the parent."""
    for engine in _engines.values():
        engine.dispose(close=close)
    _engines.clear()


__all__ = ["SchemaError", "get_engine", "get_setting", "init_db", "open_session", "select", "set_setting"]
