"""`migrate`'s fast path (storage/database.py): it skips Alembic only when the schema is at the
head Alembic itself would find."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from storage import database
from storage.database import alembic_config, head_revision


def test_the_head_read_from_the_files_is_alembics():
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_revision_as_alembics_template_writes_it_is_seen(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "0001_a.py").write_text('revision: str = "0001"\ndown_revision = None\n')
    # script.py.mako writes repr(): single quotes.
    (versions / "0002_b.py").write_text(
        "revision: str = '0002'\ndown_revision: str | None = '0001'\n")
    monkeypatch.setattr(database, "MIGRATIONS_DIR", tmp_path)
    assert head_revision() == "0002"
    # A file whose revision this reader cannot see: Alembic decides, the fast path is off.
    (versions / "0003_c.py").write_text("revision = make_revision()\ndown_revision = '0002'\n")
    assert head_revision() is None
