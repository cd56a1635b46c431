"""Engines, sessions and the schema's migrations.

The schema is versioned by Alembic (`recruiter/core/migrations`): every change is a revision, applied on first use
of a database (any command, the web app, a worker) or by `recruiter db upgrade`, one process at a time and in one
transaction (an advisory lock on PostgreSQL, the write lock taken first on SQLite): an upgrade lands whole or not
at all. A database already at `HEAD` costs one query and never imports Alembic. A database whose revision
this code does not know (written by a newer recruiter) is refused with a clear message rather than touched.

Before Alembic the version was a number in the `setting` table, advanced by additive steps (`LEGACY_STEPS`). A
database of that time (its versions 1 to 4, no `alembic_version`) is brought to version 4 by those steps, stamped
with the baseline revision (`0001`, the same schema) and then upgraded like any other; its data stays. The
setting now says `SCHEMA_VERSION` (5), so the code from before Alembic, which refuses a newer version, never
opens a migrated database.

A database that cannot be opened (a server that does not answer, a bad URL, a driver that is not installed, a
SQLite file in a folder that does not exist or cannot be written) is a `DatabaseUnavailable`: one line that
names the host or file and never the password, which the CLI prints as ``error: ...`` and the web app shows as
its error page. `describe_database_error` words any database error that way, for the faces to use when one
surfaces later (a server going away mid-command).

A SQLite database file is created owner-only (0600) and tightened to that when found looser, with its -wal and
-shm files: it holds the user's prospects and notes.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, inspect
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from recruiter.core import models
from recruiter.core.config import database_url, make_private, redact_url, sqlite_path
from recruiter.core.errors import RecruiterError

SCHEMA_VERSION = 5  # what the `setting` row says from Alembic on (the hand-versioned code stopped at 4)
LEGACY_VERSION = 4  # the last hand-versioned schema: the baseline revision
BASELINE = "0001"
HEAD = "0002"  # the newest revision (a test checks it against the scripts)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE ... ADD COLUMN for each column the table lacks (a step may meet a half-migrated table)."""
    present = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, ddl in columns.items():
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")


def _v2_job_items(conn: Connection) -> None:
    """Jobs run by workers: failed count and finish time on `job` (the `job_item` table is created with the
    other missing baseline tables, before the steps run)."""
    _add_columns(conn, "job", {"failed": "INTEGER NOT NULL DEFAULT 0", "finished_at": "TIMESTAMP"})


def _v3_feed_url_index(conn: Connection) -> None:
    """Imports look communities up by feed URL (a feed and its site are one community): index it."""
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_community_feed_url ON community (feed_url)")


def _v4_item_notes(conn: Connection) -> None:
    """A done item may carry a warning and what it produced (discovery keeps API results whose page failed)."""
    _add_columns(conn, "job_item", {"note": "VARCHAR", "output": "JSON NOT NULL DEFAULT '{}'"})


# The hand-versioned steps: version → function bringing a database at version-1 to version (additive only).
LEGACY_STEPS: dict[int, Callable[[Connection], None]] = {2: _v2_job_items, 3: _v3_feed_url_index, 4: _v4_item_notes}
# The tables of the baseline (what the hand-versioned code created with create_all).
BASELINE_TABLES = (
    "community", "embedding_cache", "profile", "match", "prospect", "stage_change", "activity", "referral_code",
    "tracked_link", "activation_step", "performance_day", "email_sequence", "sequence_step", "enrollment",
    "outbound_message", "email_suppression", "inbound_message", "job", "job_item", "setting",
)


class SchemaError(RecruiterError, RuntimeError):
    pass


class DatabaseUnavailable(RecruiterError, RuntimeError):
    """The database cannot be opened or reached; the message names the host or file, never the password."""


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the life of the process, schema checked and created on first use."""
    url = database_url(url)
    engine = _engines.get(url)
    if engine is None:
        engine = make_engine(url)
        try:
            init_db(engine)
        except RecruiterError:
            engine.dispose()
            raise
        except Exception as exc:
            engine.dispose()
            raise DatabaseUnavailable(describe_database_error(exc, url, opening=True)) from exc
        _tighten_sqlite_files(url)
        _engines[url] = engine
    return engine


def make_engine(url: str) -> Engine:
    try:
        return _make_engine(url)
    except RecruiterError:
        raise
    except Exception as exc:  # bad URL or missing driver: say which, without the password
        raise DatabaseUnavailable(describe_database_error(exc, url, opening=True)) from exc


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        _create_sqlite_file(url)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _create_sqlite_file(url: str) -> None:
    """Create a new SQLite file owner-only (SQLite would make it world-readable), or say why it cannot be."""
    path = sqlite_path(url)
    if path is None:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except FileNotFoundError:
        why = f"cannot create files in {path.parent}" if path.parent.is_dir() else f"the folder {path.parent} does not exist"
        raise DatabaseUnavailable(f"cannot open the SQLite database {path}: {why}") from None
    except NotADirectoryError:
        raise DatabaseUnavailable(f"cannot open the SQLite database {path}: {path.parent} is not a folder") from None
    except PermissionError:
        raise DatabaseUnavailable(f"cannot open the SQLite database {path}: no permission to create files in "
                                  f"{path.parent}") from None
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot open the SQLite database {path}: {exc.strerror or exc}") from None
    os.close(fd)


def _tighten_sqlite_files(url: str) -> None:
    path = sqlite_path(url)
    if path is not None:
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            make_private(file)


def is_database_error(exc: BaseException) -> bool:
    """An error raised by SQLAlchemy or a database driver (worded for people by `describe_database_error`)."""
    return (type(exc).__module__ or "").split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg", "psycopg2")


_DRIVERS = {"psycopg": "psycopg[binary] (pip install 'recruiter[postgres]')",
            "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient", "pymysql": "PyMySQL"}


def describe_database_error(exc: BaseException, url: str | None = None, *, opening: bool = False) -> str:
    """One line saying what went wrong with the database, naming the host or file and never the password.

    ``opening``: the error came while connecting for the first time (so the database could not be opened at all),
    rather than from a statement later on.
    """
    url = database_url(url)
    shown = redact_url(url)
    try:
        parsed = make_url(url)
    except Exception:
        return f"not a database URL: {shown!r} (expected e.g. postgresql+psycopg://user:password@host/db)"
    name = type(exc).__name__
    detail = _first_line(getattr(exc, "orig", None) or exc)
    if isinstance(exc, ImportError) or name == "NoSuchModuleError":
        module = getattr(exc, "name", None)
        if module:
            return (f"cannot open database {shown}: its driver {module!r} is not installed "
                    f"(install {_DRIVERS.get(module, module)})")
        return f"cannot open database {shown}: unknown kind of database {parsed.drivername!r}"
    if name == "ArgumentError":
        return f"not a usable database URL {shown}: {detail}"
    path = sqlite_path(url)
    connection_lost = name in ("OperationalError", "InterfaceError") and getattr(exc, "connection_invalidated", False)
    if parsed.get_backend_name() == "sqlite":
        where = f"the SQLite database {path}" if path else "the SQLite database"
        said = f"cannot open {where}" if opening else f"database error in {where}"
        return _scrub(f"{said}: {detail}", parsed.password)
    host = parsed.host or "localhost"
    where = f"{host}:{parsed.port}" if parsed.port else host
    if opening or connection_lost:
        return _scrub(f"cannot reach the database at {where} ({shown}): {detail}", parsed.password)
    return _scrub(f"database error at {where} ({shown}): {detail}", parsed.password)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text)
    line = next((part.strip() for part in text.splitlines() if part.strip()), text)
    line = re.sub(r"^\((?:[\w.]+)\)\s*", "", line)  # "(psycopg.OperationalError) " prefixes
    return line if len(line) <= 300 else line[:297] + "..."


def _scrub(message: str, password: str | None) -> str:
    """Drivers do not print passwords, but a message must never carry one, whatever a driver does."""
    if password and len(password) >= 3:
        for form in {password, _quote(password)}:
            message = message.replace(form, "***")
    return " ".join(message.split())


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def init_db(engine: Engine) -> None:
    """Bring the schema to HEAD (creating it in an empty database), or refuse a newer one.

    Several processes may open a new database at the same moment (workers starting together, two commands): on
    PostgreSQL they queue on an advisory lock; on SQLite the loser of the race meets "already exists" and tries
    again, finding the database migrated."""
    for attempt in range(3):
        try:
            _init_db(engine)
            return
        except (IntegrityError, OperationalError, ProgrammingError) as exc:
            text = str(exc).lower()
            if attempt == 2 or not any(s in text for s in ("already exists", "duplicate", "unique constraint")):
                raise
            time.sleep(0.1 * (attempt + 1))


def _init_db(engine: Engine) -> None:
    with engine.connect() as conn:
        current = revision_of(conn) == HEAD
    if current:
        with engine.begin() as conn:
            _settle_settings(conn)
        return
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # The write lock first, before reading the revision: two processes opening a database that is behind
            # take turns and the second finds the work done; and the schema statements run inside this
            # transaction (the driver would otherwise commit each as it runs), so an upgrade lands whole or not.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        lock_for_transaction("schema", session=conn)  # PostgreSQL: the same, with an advisory lock
        if revision_of(conn) != HEAD:
            _migrate(conn)
        _settle_settings(conn)


def revision_of(conn: Connection) -> str | None:
    """The database's Alembic revision (None: not versioned by Alembic yet, or empty)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _alembic(conn: Connection):
    """Alembic's configuration over this connection (imported only when a database needs migrating)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    config = _alembic(None)
    return [script.revision for script in ScriptDirectory.from_config(config).walk_revisions()]


def _migrate(conn: Connection) -> None:
    """Bring a database to HEAD: a pre-Alembic one through the legacy steps and a stamp first."""
    from alembic import command

    current = revision_of(conn)
    config = _alembic(conn)
    if current is None:
        existing = set(inspect(conn).get_table_names())
        if existing & set(BASELINE_TABLES):
            _legacy_to_baseline(conn, existing)
            command.stamp(config, BASELINE)
    elif current not in known_revisions():
        raise SchemaError(f"the database is at schema revision {current}, which this recruiter does not know (it "
                          f"knows up to {HEAD}): it was written by a newer recruiter; upgrade recruiter instead of "
                          f"opening it with this version")
    command.upgrade(config, "head")


def _legacy_to_baseline(conn: Connection, existing: set[str]) -> None:
    """A database of the hand-versioned code: refuse a newer one, else add what versions 2 to 4 added."""
    version = None
    if "setting" in existing:
        row = conn.execute(models.Setting.__table__.select()
                           .where(models.Setting.__table__.c.key == "schema_version")).first()
        version = int(row.value) if row is not None and row.value is not None else None
    if version is not None and version > LEGACY_VERSION:
        raise SchemaError(f"database schema version {version} is newer than this recruiter understands (versions "
                          f"up to {LEGACY_VERSION}, revisions up to {HEAD}); upgrade recruiter instead of opening it "
                          "with this version")
    missing = [SQLModel.metadata.tables[name] for name in BASELINE_TABLES if name not in existing]
    SQLModel.metadata.create_all(conn, tables=missing)  # as the old code did for tables a step introduced
    for target in range((version or LEGACY_VERSION) + 1, LEGACY_VERSION + 1):
        LEGACY_STEPS[target](conn)


def _settle_settings(conn: Connection) -> None:
    table = models.Setting.__table__
    row = conn.execute(table.select().where(table.c.key == "schema_version")).first()
    if row is None:
        conn.execute(table.insert().values(key="schema_version", value=SCHEMA_VERSION))
    elif row.value != SCHEMA_VERSION:
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
    """Store a setting and commit. Two processes may write the same new key at once (two `outreach sync`
    runs, two workers): the loser of the insert updates the winner's row instead of failing."""
    table = models.Setting.__table__
    updated = session.execute(table.update().where(table.c.key == key).values(value=value)).rowcount
    if not updated:
        try:
            with session.begin_nested():
                session.execute(table.insert().values(key=key, value=value))
        except IntegrityError:
            session.execute(table.update().where(table.c.key == key).values(value=value))
    session.commit()
    row = session.get(models.Setting, key)
    if row is not None:
        session.refresh(row)  # the ORM copy, if loaded before, must show what was stored


# Databases cap the parameters of one statement (SQLite 999 on old builds, PostgreSQL 65,535): IN lists and
# bulk inserts go in chunks of this size.
CHUNK = 500


def lock_for_transaction(name: str, *, session: Session | Connection) -> None:
    """Serialize the rest of this transaction with every other one that takes the same named lock.

    A check-then-write in one statement (`UPDATE ... WHERE (SELECT count(...)) < cap`) is exact on SQLite, whose
    writers queue on the database lock, but not on PostgreSQL under READ COMMITTED: two transactions can both
    count below the cap and both write. There a transaction-level advisory lock, released at commit or rollback,
    makes them take turns; on SQLite this does nothing. Takes an ORM session or a Core connection (the schema
    set-up runs on one)."""
    connection = isinstance(session, Connection)
    if (session.dialect if connection else session.get_bind().dialect).name != "postgresql":
        return
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    statement = sql_text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key)
    if connection:
        session.execute(statement)
    else:
        session.exec(statement)


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


__all__ = ["DatabaseUnavailable", "SchemaError", "describe_database_error", "get_engine", "get_setting", "init_db", "is_database_error", "open_session", "select", "set_setting"]
