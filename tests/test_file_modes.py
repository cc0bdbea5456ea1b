"""What the service writes is readable by the service user only, whatever the umask; and an
erased row leaves no copy in the SQLite file.

Every test runs under the usual permissive umask (0022), so the modes come from the code, not
from the umask main() sets.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import main
from bot import sample_files
from bot.log_privacy import PersonalDataFilter
from storage.database import make_engine, migrate
from storage.file_store import INCOMING, LocalFileStore

MARKER = b"Zyxwvutsrq.erase-me@example.org"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_sqlite_database_its_wal_and_a_new_folder_are_private(tmp_path: Path):
    path = tmp_path / "data" / "intake.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)  # writes: the -wal and -shm files exist while the pool is connected
        assert {p.name: oct(mode(p)) for p in path.parent.iterdir()} == {
            "intake.sqlite3": "0o600", "intake.sqlite3-wal": "0o600",
            "intake.sqlite3-shm": "0o600"}
        assert mode(path.parent) == 0o700
    finally:
        engine.dispose()


def test_an_existing_database_that_is_more_open_is_narrowed(tmp_path: Path):
    path = tmp_path / "intake.sqlite3"
    folder_mode = mode(tmp_path)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    wal = path.with_name(path.name + "-wal")
    wal.write_bytes(b"")
    for file in (path, wal):
        os.chmod(file, 0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert (mode(path), mode(wal)) == (0o600, 0o600)
    assert mode(tmp_path) == folder_mode  # an existing folder may be shared: left as it is


def _erase_and_read(path: Path, secure_delete: bool) -> tuple[bytes, bytes]:
    """The file's bytes after a row with MARKER was checkpointed into it, and after that row was
    deleted and the WAL checkpointed again."""
    engine = make_engine(f"sqlite:///{path}")
    pooled = engine.raw_connection()
    try:
        db = pooled.driver_connection
        assert db is not None
        assert db.execute("PRAGMA secure_delete").fetchone() == (1,)
        if not secure_delete:
            db.execute("PRAGMA secure_delete=OFF")
        db.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body BLOB)")
        db.execute("INSERT INTO note (body) VALUES (?), (?)", (MARKER, b"another row"))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        written = path.read_bytes()
        db.execute("DELETE FROM note WHERE body = ?", (MARKER,))
        assert db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # not busy
        return written, path.read_bytes()
    finally:
        pooled.close()
        engine.dispose()


def test_a_deleted_row_leaves_no_bytes_in_the_database_file(tmp_path: Path):
    written, erased = _erase_and_read(tmp_path / "secure.sqlite3", secure_delete=True)
    assert MARKER in written
    assert MARKER not in erased
    assert b"another row" in erased


def test_without_secure_delete_the_bytes_would_stay(tmp_path: Path):
    # The test above can fail: SQLite's default leaves a deleted row in the page.
    written, erased = _erase_and_read(tmp_path / "default.sqlite3", secure_delete=False)
    assert MARKER in written and MARKER in erased


def test_stored_uploads_are_private_and_so_is_every_folder_of_the_store(tmp_path: Path):
    root = tmp_path / "data" / "uploads"
    store = LocalFileStore(root)
    source = tmp_path / "cv.pdf"
    source.write_bytes(sample_files.pdf())
    copied = store.path(store.put(source).stored_path)
    with store.incoming() as download:
        download.write_bytes(sample_files.pdf())  # as the library writes it: umask's 0644
        assert mode(download) == 0o644
        moved = store.path(store.put(download).stored_path)
    assert (mode(copied), mode(moved)) == (0o600, 0o600)
    folders = [tmp_path / "data", root, root / INCOMING, copied.parent.parent, copied.parent]
    assert {str(f.relative_to(tmp_path)): oct(mode(f)) for f in folders} == {
        str(f.relative_to(tmp_path)): "0o700" for f in folders}


def test_a_store_narrows_an_older_tree_that_is_more_open(tmp_path: Path):
    root = tmp_path / "uploads"
    month = root / "2025" / "01"
    month.mkdir(parents=True, mode=0o755)
    old = month / "0123abcd.pdf"
    old.write_bytes(sample_files.pdf())
    for path, open_mode in ((root, 0o755), (root / "2025", 0o755), (month, 0o775), (old, 0o644)):
        os.chmod(path, open_mode)
    LocalFileStore(root)
    assert [oct(mode(p)) for p in (root, root / "2025", month, old)] == [
        "0o700", "0o700", "0o700", "0o600"]


@pytest.fixture
def quiet_logging_setup() -> Iterator[None]:
    """main() configures logging for the process: put the levels back and take the filter off
    pytest's handlers afterwards."""
    names = ("", "telegram", "telegram.ext.AIORateLimiter", "httpx", "apscheduler", "alembic",
             "transitions")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in filter(None, handlers):
        for old in [f for f in handler.filters if isinstance(f, PersonalDataFilter)]:
            handler.removeFilter(old)


def test_exported_csv_files_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], quiet_logging_setup):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("RECRUITER_CHAT_ID", "")
    # main() sets umask 0077; keep 0022 here, so the modes must come from cmd_export itself.
    monkeypatch.setattr(os, "umask", lambda _mask: 0o022)
    out = tmp_path / "exports"
    out.mkdir()
    older = out / "school-ict-coordinator.csv"
    older.write_text("an export from before\n", encoding="utf-8")
    os.chmod(older, 0o644)
    new_out = tmp_path / "new" / "exports"

    assert main.main(["export", "--out", str(out)]) == 0
    assert main.main(["export", "school-ict-coordinator", "--out", str(new_out)]) == 0

    csvs = sorted(out.glob("*.csv"))
    assert len(csvs) > 1 and older in csvs
    assert {p.name: oct(mode(p)) for p in csvs} == {p.name: "0o600" for p in csvs}
    assert "an export from before" not in older.read_text(encoding="utf-8-sig")
    assert oct(mode(new_out / "school-ict-coordinator.csv")) == "0o600"
    assert mode(new_out) == 0o700
    assert mode(tmp_path / "db.sqlite3") == 0o600
    assert "0 dossiers" in capsys.readouterr().out
