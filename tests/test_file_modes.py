"""What the service writes is readable by the service user only, whatever the umask; and an
erased row leaves no copy in the SQLite file.

Every test runs under the usual permissive umask (0022), so the modes come from the code, not
from the umask main() sets.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sample_files
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
