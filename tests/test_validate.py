"""`main.py validate`: passes on the shipped catalogue, fails precisely on each kind of mistake."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import main

ROOT = Path(__file__).resolve().parents[1]
HARDENBERG = ROOT / "vacancies" / "hardenberg-medewerker-intern-service-punt.yaml"
NIEUWPOORT = ROOT / "vacancies" / "nieuwpoort-systeembeheerder-ict.yaml"


def _data(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _validate(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main.main(["validate", str(folder)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_shipped_catalogue_is_valid(capsys):
    code, out = _validate(ROOT / "vacancies", capsys)
    assert code == 0, out
    assert "hardenberg-medewerker-intern-service-punt" in out
    assert "nieuwpoort-systeembeheerder-ict" in out


def _unknown_key(d):
    d["requirements"][0]["min_levle"] = "mbo-4"


def _wrong_type(d):
    d["requirements"][1]["min_years"] = "five"


def _unknown_level(d):
    d["requirements"][0]["min_level"] = "mbo-5"


def _no_timezone(d):
    del d["deadline"]["timezone"]


def _bad_zone(d):
    d["deadline"]["timezone"] = "Europe/Hardenberg"


def _bad_id(d):
    d["id"] = "hardenberg service punt!"


def _missing_question(d):
    assert d["documents"][2]["id"] == "diploma_valuation"  # after cv and the DBA explanation
    d["documents"][2]["when"]["question"] = "diploma.abroad"


def _impossible_value(d):
    assert d["documents"][2]["id"] == "diploma_valuation"  # after cv and the DBA explanation
    d["documents"][2]["when"]["equals"] = "maybe"


def _overlapping_band(d):
    d["requirements"][4]["criteria"][2]["bands"][1]["to"] = 2.5


def _touching_inclusive_bands(d):
    d["requirements"][4]["criteria"][2]["bands"][0]["to_inclusive"] = True


def _unknown_rule_type(d):
    d["requirements"][2]["type"] = "knockout"


def _untraced_rule(d):
    del d["requirements"][2]["source"]


def _wrong_total(d):
    d["requirements"][4]["max_total"] = 90


def _unknown_document_for_foreign(d):
    d["requirements"][0]["foreign"]["document"] = "nuffic"


SENTENCE = {"why": "maintainer note", "nl": "Wij gaan ervan uit.", "en": "We assume it."}


def _source_and_assumption_without_firmness(d):
    d["requirements"][0]["assumption"] = dict(SENTENCE)  # stated or assumed? it must say


def _assumed_without_sentence(d):
    del d["requirements"][2]["source"]
    d["requirements"][2]["assumption"] = "a maintainer note, nothing for the candidate"


def _assumed_without_english(d):
    del d["requirements"][2]["source"]
    d["requirements"][2]["assumption"] = {"why": "note", "nl": "Wij gaan ervan uit."}


def _foreign_assumed_without_sentence(d):
    d["requirements"][0]["foreign"]["assumption"] = "a maintainer note only"


def _stated_without_source(d):
    del d["requirements"][2]["source"]
    d["requirements"][2] |= {"assumption": dict(SENTENCE), "firmness": "stated"}


def _assumed_without_assumption(d):
    d["requirements"][2]["firmness"] = "assumed"


def _unknown_firmness(d):
    d["requirements"][2]["firmness"] = "probably"


def _unknown_extract_document(d):
    d["requirements"][5]["document"] = "vog"


def _peer_level_as_minimum(d):
    d["requirements"][0]["min_level"] = "havo"  # at mbo-4 level, but not on the firm scale


def _questions_not_stated(d):
    d["questions"] = {"not_stated": True, "source": d["questions"]["source"]}


def _questions_without_timezone(d):
    del d["questions"]["timezone"]


def _questions_untraced(d):
    del d["questions"]["source"]


def _questions_unknown_key(d):
    d["questions"]["answers_on"] = "10 juli"


def _negative_retention(d):
    d["retention"]["months"] = -3


def _untraced_retention(d):
    del d["retention"]["assumption"]


def _no_retention(d):
    del d["retention"]


def _retention_and_reserve(d):
    d["reserve"] = {"months": 24, "source": "Een wervingsreserve wordt aangelegd voor twee jaar."}


CASES = [
    (_unknown_key, "requirements.0.min_levle: unknown key 'min_levle'; allowed keys:", "min_level"),
    (_wrong_type, "requirements.1.min_years:", "'five'"),
    (_unknown_level, "requirements.0.min_level: unknown diploma level 'mbo-5' for NL",
     "allowed: none, mbo-1, mbo-2, mbo-3, mbo-4, hbo, wo"),
    (_no_timezone, "deadline: ", "deadline without time zone"),
    (_bad_zone, "deadline.timezone:", "unknown time zone 'Europe/Hardenberg'"),
    (_bad_id, "id: ", "letters, digits, '_' or '-'"),
    (_missing_question, "documents.2.when.question: no question 'diploma.abroad'",
     "questions are: "),
    (_impossible_value, "documents.2.when: 'diploma.equivalence' never has the value 'maybe'",
     "allowed: True, False"),
    (_overlapping_band, "requirements.4.criteria.2: ", "band 2 ([1, 2.5]) overlaps band 3 ((2, ∞))"),
    (_touching_inclusive_bands, "requirements.4.criteria.2: ", "band 1 ([0, 1]) overlaps band 2"),
    (_unknown_rule_type, "requirements.2: ", "unknown rule type 'knockout'; allowed: criminal_record"),
    (_untraced_rule, "requirements.2: ", "needs a 'source' (quote of the seed) or an 'assumption'"),
    (_wrong_total, "requirements.4: ", "criteria add up to 100 points, max_total says 90"),
    (_unknown_document_for_foreign, "requirements.0.foreign.document:", "no document with id 'nuffic'"),
    (_source_and_assumption_without_firmness, "requirements.0: ",
     "has a 'source' and an 'assumption'; say which decides with 'firmness: stated'"),
    (_assumed_without_sentence, "requirements.2.assumption: ",
     "a candidate reads this assumption; give one plain sentence in 'nl' and 'en'"),
    (_assumed_without_english, "requirements.2.assumption: ",
     "give one plain sentence in 'nl' and 'en'"),
    (_foreign_assumed_without_sentence, "requirements.0.foreign.assumption: ",
     "give one plain sentence in 'nl' and 'en'"),
    (_stated_without_source, "requirements.2: ",
     "'firmness: stated' needs the 'source' quote that states the rule"),
    (_assumed_without_assumption, "requirements.2: ",
     "'firmness: assumed' needs the 'assumption' that is made"),
    (_unknown_firmness, "requirements.2.firmness: ", "'stated' or 'assumed'"),
    (_unknown_extract_document, "requirements.5.document:", "no document with id 'vog'"),
    (_questions_not_stated, "questions: ", "a questions window needs 'until'"),
    (_questions_without_timezone, "questions: ", "deadline without time zone"),
    (_questions_untraced, "questions: ", "needs a 'source' (quote of the seed) or an 'assumption'"),
    (_questions_unknown_key, "questions.answers_on: unknown key 'answers_on'; allowed keys:",
     "answers_published"),
    (_peer_level_as_minimum, "requirements.0.min_level: unknown diploma level 'havo' for NL",
     "allowed: none, mbo-1, mbo-2, mbo-3, mbo-4, hbo, wo"),
    (_negative_retention, "retention.months: ", "greater than or equal to 1 (got -3)"),
    (_untraced_retention, "retention: ", "needs a 'source' (quote of the seed) or an 'assumption'"),
    (_no_retention, "retention: ", "say how long dossiers are kept"),
    (_retention_and_reserve, "retention: ", "either the seed's 'reserve' or a 'retention' period"),
]


@pytest.mark.parametrize(("breaker", "where", "what"), CASES, ids=[c[0].__name__[1:] for c in CASES])
def test_each_mistake_gets_a_precise_message(tmp_path, capsys, breaker, where, what):
    data = _data(HARDENBERG)
    broken = copy.deepcopy(data)
    breaker(broken)
    path = _write(tmp_path, "broken.yaml", broken)
    code, out = _validate(tmp_path, capsys)
    assert code == 1
    line = next((ln for ln in out.splitlines() if str(path) in ln), "")
    assert f"{path}: {where}" in line, out
    assert what in line, out


def test_duplicate_id_names_both_files(tmp_path, capsys):
    data = _data(HARDENBERG)
    first = _write(tmp_path, "a.yaml", data)
    second = _write(tmp_path, "b.yaml", data)
    code, out = _validate(tmp_path, capsys)
    assert code == 1
    assert f"{second}: id: duplicate id 'hardenberg-medewerker-intern-service-punt'" in out
    assert f"already used by {first}" in out


def test_every_problem_of_every_file_is_reported(tmp_path, capsys):
    one = _data(HARDENBERG)
    _unknown_level(one)
    _no_timezone(one)
    two = _data(NIEUWPOORT)
    two["id"] = "bad id"
    _write(tmp_path, "one.yaml", one)
    _write(tmp_path, "two.yaml", two)
    code, out = _validate(tmp_path, capsys)
    assert code == 1
    assert "one.yaml: requirements.0.min_level" in out
    assert "one.yaml: deadline" in out
    assert "two.yaml: id" in out


def test_a_reserve_needs_a_dated_procedure_to_run_from(tmp_path, capsys):
    """The reserve is counted from the end of the procedure: without a date it could not be."""
    data = _data(NIEUWPOORT)
    data["deadline"] = {"not_stated": True, "assumption": "test"}
    for step in data["selection"]:
        step.pop("day", None)
    path = _write(tmp_path, "undated.yaml", data)
    code, out = _validate(tmp_path, capsys)
    assert code == 1
    assert f"{path}: reserve: the reserve runs from the end of the procedure" in out, out


def test_yaml_syntax_error_names_the_line(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    code, out = _validate(tmp_path, capsys)
    assert code == 1
    assert "bad.yaml: line 3" in out or "bad.yaml: line 2" in out
    assert "not valid YAML" in out


def test_empty_or_missing_folder(tmp_path, capsys):
    code, out = _validate(tmp_path, capsys)
    assert code == 1 and "no vacancy files" in out
    code, out = _validate(tmp_path / "nope", capsys)
    assert code == 1 and "no such folder" in out


def test_product_refuses_to_start_on_invalid_catalogue(tmp_path):
    data = _data(HARDENBERG)
    _unknown_level(data)
    _write(tmp_path, "broken.yaml", data)
    env = {"VACANCIES_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    proc = subprocess.run([sys.executable, "main.py", "run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    assert "unknown diploma level 'mbo-5' for NL" in proc.stderr
    assert "Traceback" not in proc.stderr
