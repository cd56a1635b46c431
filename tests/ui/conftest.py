"""UI test fixtures: one prepared data dir (24 communities embedded, two profiles) copied fresh for each test.

The NiceGUI `user` fixture (plugin enabled in pyproject's addopts) runs ui/main.py for each test; the autouse
fixture below points it at a copy of the prepared data first, so tests never share or leak state.

The prepared data is embedded with the hashing backend (RECRUITER_MODEL=hashing, as every test not asking for
the real model): these tests are about pages, filters and flows; what they assert about order (bakers' communities
first for a baking profile, gaming ones for a gaming description) shared words decide as well as the real model.
Ranking quality with the real model is tested in tests/matching/test_ranking.py, and the browser tests run the
real app with the real model.
"""

from __future__ import annotations

import gc
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import COOKS, COOKS_DESCRIPTION, FIXTURES, YOGA, YOGA_DESCRIPTION

from recruiter.accounts.roles import Actor


@pytest.fixture(scope="session")
def prepared_home() -> Iterator[Path]:
    """A data dir with the fixture communities imported and indexed (hashing model) and two profiles, built once."""
    from profiles.service import save_profile
    from recruiter.catalogue.importing import import_files
    from recruiter.core.db import dispose_engines, open_session
    from recruiter.core.models import ProfileCreate
    from recruiter.matching.index import forget_loaded_indexes, refresh_index

    home = Path(tempfile.mkdtemp(prefix="recruiter-ui-template-"))
    url = f"sqlite:///{home / 'recruiter.db'}"
    with pytest.MonkeyPatch.context() as patch, open_session(url) as session:
        patch.setenv("RECRUITER_MODEL", "hashing")
        import_files([FIXTURES / "communities.jsonl"], actor=Actor.cli(), session=session)
        refresh_index(session=session)
        save_profile(ProfileCreate(name=COOKS, description=COOKS_DESCRIPTION, keywords=["sourdough"]),
                     actor=Actor.cli(), session=session)
        save_profile(ProfileCreate(name=YOGA, description=YOGA_DESCRIPTION), actor=Actor.cli(), session=session)
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    dispose_engines()
    forget_loaded_indexes()
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(autouse=True)
def ui_home(prepared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own copy of the prepared data dir, as $RECRUITER_HOME."""
    from recruiter.core.db import dispose_engines
    from recruiter.matching.index import forget_loaded_indexes

    # NiceGUI's user fixture forgets only the page modules that registered routes during the test before: a page
    # module imported by a plain test (to call one of its functions) would stay cached, `register_pages` would
    # not run it again, and its pages would answer 404 in every later user test.
    for name in [m for m in sys.modules if m.startswith("ui.pages.")]:
        del sys.modules[name]
    # NiceGUI's user fixture runs a full gc.collect() before and after every test; over everything this process
    # has imported (NiceGUI, FastAPI, SQLAlchemy, numpy, faiss...) that is most of a UI test's time. What is alive
    # now lives on (modules, the prepared data): freeze it, so the collections look only at this test's objects.
    gc.collect()
    gc.freeze()
    home = tmp_path / "home"
    shutil.copytree(prepared_home, home)
    monkeypatch.setenv("RECRUITER_HOME", str(home))
    monkeypatch.delenv("RECRUITER_DB", raising=False)
    monkeypatch.delenv("RECRUITER_PASSWORD", raising=False)
    forget_loaded_indexes()
    yield home
    dispose_engines()
    forget_loaded_indexes()


@pytest.fixture
def db():
    """A session on this test's data dir (the same database the pages use)."""
    from recruiter.core.db import open_session

    with open_session() as session:
        yield session
