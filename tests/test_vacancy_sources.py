"""Every `source` in vacancies/ is a verbatim quote of its seed document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "vacancies" / "seeds"
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
FILES = sorted((ROOT / "vacancies").glob("*.yaml"))


def _norm(text: str) -> str:
    return " ".join(text.split())


def _sources(node: Any, path: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "source" and isinstance(value, str):
                found.append((where, value))
            else:
                found += _sources(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _sources(value, f"{path}.{i}")
    return found


def _traced(node: Any) -> list[str]:
    """Paths of rules/documents/dates that carry neither a source nor an assumption."""
    missing: list[str] = []
    data = node
    for section in ("requirements", "documents", "selection", "notes", "silent_on"):
        for i, item in enumerate(data.get(section) or []):
            if not (item.get("source") or item.get("assumption")):
                missing.append(f"{section}.{i}")
    for key in ("deadline", "questions", "reserve", "contract", "hours", "salary_scale", "contact"):
        item = data.get(key)
        if item and not (item.get("source") or item.get("assumption")):
            missing.append(key)
    return missing


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_source_quote_is_in_the_seed(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    seed = _norm((SEEDS / data["seed"]).read_text(encoding="utf-8"))
    sources = _sources(data)
    assert sources, "a vacancy file without a single source quote"
    missing = [
        f"{where}: {fragment!r}"
        for where, quote in sources
        for fragment in _norm(quote).split(" ... ")
        if fragment.strip(" .") and fragment.strip() not in seed
    ]
    assert not missing, "quotes not found in the seed:\n" + "\n".join(missing)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_rule_date_and_document_is_traced(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _traced(data) == []


def test_one_vacancy_file_per_seed():
    seeds = {yaml.safe_load(p.read_text(encoding="utf-8"))["seed"] for p in FILES}
    assert seeds == {p.name for p in SEEDS.glob("*.txt")}


def test_vendored_seeds_are_unchanged_copies():
    if not SHARED_SEEDS.is_dir():
        pytest.skip(f"{SHARED_SEEDS} not present: nothing to compare the vendored copies with")
    for original in SHARED_SEEDS.glob("*.txt"):
        assert (SEEDS / original.name).read_bytes() == original.read_bytes(), original.name
