"""Start-up: the vacancy cache never serves a stale vacancy; the start-up path builds every one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import main
from flows import vacancy_loader
from flows.engine import Engine
from flows.flow import Flow
from flows.vacancy_loader import CatalogueError, load_catalogue
from settings import Settings

ROOT = Path(__file__).resolve().parents[1]
HARDENBERG = "hardenberg-medewerker-intern-service-punt"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "vacancies"
    target.mkdir()
    for path in (ROOT / "vacancies").glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def test_cached_catalogue_equals_the_compiled_one(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = load_catalogue(folder)
    first = load_catalogue(folder, cache)
    assert len(list(cache.glob("*.pickle"))) == len(fresh)
    second = load_catalogue(folder, cache)
    assert first == fresh and second == fresh


def test_a_changed_file_is_compiled_again(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_catalogue(folder, cache)
    path = folder / f"{HARDENBERG}.yaml"
    text = path.read_text(encoding="utf-8")
    edited = text.replace("id: " + HARDENBERG, "id: " + HARDENBERG + "-2", 1)
    path.write_text(edited, encoding="utf-8")
    loaded = load_catalogue(folder, cache)
    assert f"{HARDENBERG}-2" in loaded and HARDENBERG not in loaded
    assert loaded == load_catalogue(folder)
    # Entries of the old bytes are gone: the cache holds the catalogue as it is.
    assert len(list(cache.glob("*.pickle"))) == len(loaded)


def test_any_change_of_bytes_gives_another_entry(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_catalogue(folder, cache)
    before = {e.name for e in cache.glob("*.pickle")}
    path = folder / f"{HARDENBERG}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    load_catalogue(folder, cache)
    after = {e.name for e in cache.glob("*.pickle")}
    assert len(after - before) == 1 and len(before - after) == 1


def test_a_file_made_invalid_is_reported_despite_the_cache(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_catalogue(folder, cache)
    path = folder / f"{HARDENBERG}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nunknown_key: 1\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(folder, cache)
    assert any("unknown_key" in str(p) for p in caught.value.problems)


def test_a_change_of_the_validating_code_invalidates(folder: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    load_catalogue(folder, cache)
    compiled: list[Path] = []
    real = vacancy_loader._compile

    def counting(path: Path, content: bytes):  # type: ignore[no-untyped-def]
        compiled.append(path)
        return real(path, content)

    monkeypatch.setattr(vacancy_loader, "_compile", counting)
    load_catalogue(folder, cache)
    assert compiled == []  # all from the cache
    monkeypatch.setattr(vacancy_loader, "CACHE_FORMAT", vacancy_loader.CACHE_FORMAT + 1)
    load_catalogue(folder, cache)
    assert len(compiled) == len(list(folder.glob("*.yaml")))


def test_a_torn_cache_entry_is_compiled_again(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_catalogue(folder, cache)
    for entry in cache.glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert load_catalogue(folder, cache) == load_catalogue(folder)


def test_start_up_path_builds_every_vacancy(folder: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "data" / "uploads"))
    settings = Settings(vacancies_dir=folder)
    vacancies = main.load_vacancies(settings.vacancies_dir, main.vacancy_cache(settings))
    assert vacancies is not None and set(vacancies) == set(load_catalogue(folder))
    assert main.vacancy_cache(settings).is_relative_to(tmp_path / "data")
    again = main.load_vacancies(settings.vacancies_dir, main.vacancy_cache(settings))
    assert again == vacancies
    engine = Engine(again, None, None, lambda: None)  # type: ignore[arg-type]
    for vacancy_id, flow in engine.flows.items():
        # The machine is built on first use; built, it knows every state of the flow.
        assert set(flow.machine.states) == set(flow.states), vacancy_id
        assert flow.unreachable_states() == [], vacancy_id
        assert flow.fire("accept", "privacy", flow.states[1]) == flow.states[1]


def test_the_machine_is_built_on_first_use() -> None:
    vacancy = next(iter(load_catalogue(ROOT / "vacancies").values()))
    flow = Flow(vacancy)
    assert "machine" not in vars(flow)
    assert flow.can("decline", "privacy")
    assert "machine" in vars(flow)


def test_catalogue_json_follows_the_po_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import messages

    locale = tmp_path / "locale"
    shutil.copytree(messages.LOCALE_DIR, locale,
                    ignore=shutil.ignore_patterns("*.json"))
    monkeypatch.setattr(messages, "LOCALE_DIR", locale)
    messages.read_catalogue.cache_clear()
    try:
        parsed = messages.read_catalogue("en")
        compiled = messages.catalogue_path("en").with_name("intake.po.json")
        assert compiled.exists()
        messages.read_catalogue.cache_clear()
        assert messages.read_catalogue("en") == parsed  # from the JSON
        po = messages.catalogue_path("en")
        po.write_text(po.read_text(encoding="utf-8").replace(
            'msgid "btn.continue"\nmsgstr "', 'msgid "btn.continue"\nmsgstr "Edited ', 1),
            encoding="utf-8")
        messages.read_catalogue.cache_clear()
        assert messages.read_catalogue("en")["btn.continue"].startswith("Edited ")
    finally:
        messages.read_catalogue.cache_clear()
