"""Simulated conversations (`main.py simulate`): every shipped script passes, and the runner
reports failures and bad scripts precisely.

Each script in conversations/ runs through the real runner: the real python-telegram-bot
Application, the real engine and a fresh SQLite database, with the fake Bot API and a frozen
clock. A failing script shows its whole transcript, so the test output reads like the chat.
"""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

import flows.vacancy_loader
import main
from bot.simulation import Result, ScriptError, load_script, run_script, script_paths
from tests.conversation import shipped_vacancies
from tests.db_fixtures import migrated_sqlite

ROOT = Path(__file__).resolve().parents[1]
CONVERSATIONS = ROOT / "conversations"
VACANCIES = ROOT / "vacancies"
SCRIPTS = script_paths([str(CONVERSATIONS)])

HEADER = """\
name: {name}
now: 2026-11-22T10:00+01:00
actors:
  lena: {{user_id: 5001, name: Lena, language: nl}}
steps:
  - as: lena
    send: /start vera-projectcoordinator
    expect:
      - says: Privacy
"""
FAILING_EXPECTATION = "Dit zegt de bot nooit"


@pytest.fixture(autouse=True)
def _shared_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """What every run repeats and these tests do not test, done once per session: the runner's
    new SQLite file starts as a copy of a migrated one (its `migrate()` then finds the schema
    current; migrations are tested in test_storage), and the shipped vacancy folder is parsed
    once (a script naming another folder still has it loaded)."""
    real_build_engine, real_load_catalogue = main.build_engine, flows.vacancy_loader.load_catalogue

    def build_engine(settings, vacancies, clock):
        url = settings.database_url
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            migrated_sqlite(Path(url.removeprefix("sqlite:///")))
        return real_build_engine(settings, vacancies, clock)

    def load_catalogue(folder: Path):
        if Path(folder).resolve() == VACANCIES.resolve():
            return shipped_vacancies()
        return real_load_catalogue(folder)

    monkeypatch.setattr(main, "build_engine", build_engine)
    monkeypatch.setattr(flows.vacancy_loader, "load_catalogue", load_catalogue)


def _run(path: Path) -> Result:
    return asyncio.run(run_script(load_script(path), path, VACANCIES))


def _report(result: Result) -> str:
    failed = [f"  ✗ {c.what}: {c.detail}" for c in result.checks if not c.ok]
    return "\n".join([f"{result.path.name} failed ({result.name})", *failed,
                      *([f"  error: {result.error}"] if result.error else []),
                      "--- transcript ---", *result.transcript])


# ------------------------------------------------------------------ the shipped scripts


def test_there_are_scripts():
    assert len(SCRIPTS) >= 30, [p.name for p in SCRIPTS]


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_conversation(path: Path):
    result = _run(path)
    assert result.ok, _report(result)
    assert result.checks, f"{path.name} checks nothing"


def test_every_vacancy_has_a_complete_application():
    """Each shipped vacancy has a script that gets a candidate to the recruiters."""
    vacancy_ids = {yaml.safe_load(p.read_text(encoding="utf-8"))["id"]
                   for p in VACANCIES.glob("*.yaml")}
    covered: set[str] = set()
    for path in SCRIPTS:
        text = path.read_text(encoding="utf-8")
        if "recruiter_notification:" in text:
            covered |= set(re.findall(r"/start ([a-z0-9-]+)", text))
    assert vacancy_ids <= covered, f"no happy-path script for {sorted(vacancy_ids - covered)}"


# ------------------------------------------------------------------ the command line


def _script(folder: Path, stem: str, body: str = "", name: str | None = None) -> Path:
    path = folder / f"{stem}.yaml"
    path.write_text(HEADER.format(name=name or stem) + body, encoding="utf-8")
    return path


def _failing(folder: Path) -> Path:
    return _script(folder, "faalt", f"""\
  - as: lena
    press: Akkoord
    expect:
      - says: {FAILING_EXPECTATION}
""", name="Een script dat faalt")


def _simulate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main.main(["simulate", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_passing_script_exits_0(tmp_path, capsys):
    code, out, _err = _simulate([str(_script(tmp_path, "slaagt"))], capsys)
    assert code == 0, out
    assert "=== ✓ slaagt" in out
    assert "1 passed, 0 failed" in out


def test_cli_failing_script_exits_1_and_shows_the_difference(tmp_path, capsys):
    code, out, _err = _simulate([str(_failing(tmp_path))], capsys)
    assert code == 1, out
    assert "=== ✗ Een script dat faalt" in out
    assert f"✗ says “{FAILING_EXPECTATION}”" in out
    # The difference: what the bot said instead, right under the failed expectation.
    said = out.split(f"✗ says “{FAILING_EXPECTATION}”", 1)[1].splitlines()[1]
    assert "bot said:" in said and "Vraag 1 van" in said
    assert "0 passed, 1 failed" in out


def test_cli_junit_report(tmp_path, capsys):
    passing = _script(tmp_path, "a-slaagt", name="Slaagt")
    failing = _failing(tmp_path)
    report = tmp_path / "report.xml"
    code, out, _err = _simulate([str(passing), str(failing), "--junit", str(report)], capsys)
    assert code == 1, out
    suite = ET.parse(report).getroot()
    assert suite.tag == "testsuite"
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {case.get("classname"): case for case in suite.iter("testcase")}
    assert set(cases) == {"a-slaagt", "faalt"}
    assert cases["a-slaagt"].get("name") == "Slaagt"
    assert cases["a-slaagt"].find("failure") is None
    failure = cases["faalt"].find("failure")
    assert failure is not None
    assert FAILING_EXPECTATION in failure.get("message", "")
    assert "bot said:" in (failure.text or "")
    assert "Privacy" in (cases["faalt"].findtext("system-out") or "")
    for case in cases.values():
        assert float(case.get("time", "-1")) >= 0


def test_cli_no_scripts_exits_2(tmp_path, capsys):
    code, _out, err = _simulate([str(tmp_path)], capsys)
    assert code == 2
    assert "no scripts found" in err


# ------------------------------------------------------------------ bad scripts

BAD_SCRIPTS = {
    # case: (extra step, the step path, what is wrong)
    "unknown-key": ("  - {as: lena, sned: hallo}\n",
                    "steps.1.sned", "Extra inputs are not permitted"),
    "unknown-actor": ("  - {as: bart, send: hallo}\n",
                      "steps.1", "unknown actor 'bart'; actors are: lena"),
    "unknown-actor-in-expect": ("  - {as: lena, send: hallo, expect: [{dossier: {actor: bart}}]}\n",
                                "steps.1", "unknown actor 'bart'"),
    "two-actions": ("  - {as: lena, send: hallo, press: Ja}\n",
                    "steps.1", "one action per step; got send, press"),
    "moment-without-offset": ('  - {as: lena, send: hallo, now: "2026-11-23T10:00"}\n',
                              "steps.1.now", "a moment needs an offset"),
    "wait-without-offset": ("  - {as: lena, wait_until: 2026-11-23T10:00:00}\n",
                            "steps.1.wait_until", "a moment needs an offset"),
    "invalid-regex": ('  - {as: lena, send: hallo, expect: [{matches: "Vraag (1"}]}\n',
                      "steps.1.expect.0.matches", "not a valid regular expression"),
    "upload-without-source": ("  - {as: lena, upload: {name: cv.pdf}}\n",
                              "steps.1.upload", "give either 'path' or 'generate'"),
    "two-keys-in-expectation": ("  - {as: lena, send: hallo, expect: [{says: a, not_says: b}]}\n",
                                "steps.1.expect.0", "exactly one key"),
    # "nothing_sent: false" would check nothing at all: only `true` is accepted.
    "nothing-sent-false": ("  - {as: lena, send: hallo, expect: [{nothing_sent: false}]}\n",
                           "steps.1.expect.0.nothing_sent", "Input should be True"),
    "no-notification-false": ("  - {as: lena, send: hallo, "
                              "expect: [{no_recruiter_notification: false}]}\n",
                              "steps.1.expect.0.no_recruiter_notification", "Input should be True"),
    "unknown-media": ("  - {as: lena, media: hologram}\n",
                      "steps.1.media", "Input should be 'sticker', 'animation'"),
    "edit-without-actor": ("  - {edit: hallo}\n", "steps.1", "'edit' needs 'as: <actor>'"),
    "group-and-media": ("  - {as: lena, media: voice, in_group: hallo}\n",
                        "steps.1", "one action per step; got media, in_group"),
}


@pytest.mark.parametrize("case", BAD_SCRIPTS)
def test_bad_script_is_refused_precisely(tmp_path, case):
    step, where, what = BAD_SCRIPTS[case]
    path = _script(tmp_path, case, step)
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    message = str(caught.value)
    assert str(path) in message
    assert re.search(rf"(^|: ){re.escape(where)}(:|$)", message, re.MULTILINE), message
    assert what in message


def test_cli_bad_scripts_exit_2_naming_each_file(tmp_path, capsys):
    for case, (step, _where, _what) in BAD_SCRIPTS.items():
        _script(tmp_path, case, step)
    (tmp_path / "not-yaml.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    _script(tmp_path, "zz-valid")  # valid, but nothing runs while another script is bad
    code, out, err = _simulate([str(tmp_path)], capsys)
    assert code == 2
    assert "These scripts are not valid" in err
    for case, (_step, where, what) in BAD_SCRIPTS.items():
        line = next((ln for ln in err.splitlines() if f"{case}.yaml" in ln), "")
        assert where in line and what in line, f"{case}: {line!r}\n{err}"
    assert "not-yaml.yaml: cannot read" in err
    assert "zz-valid" not in err
    assert "===" not in out


# ------------------------------------------------------------------ the runner's behaviour


def _run_body(folder: Path, stem: str, body: str, actors: str = "") -> Result:
    path = _script(folder, stem, body)
    if actors:
        text = path.read_text(encoding="utf-8").replace("actors:\n", f"actors:\n{actors}", 1)
        path.write_text(text, encoding="utf-8")
    return _run(path)


TO_DIPLOMA = """\
  - {as: lena, press: Akkoord}
  - {as: lena, send: Lena Peeters}
  - as: lena
    send: lena@example.be
    expect:
      - buttons: [Geen diploma, Lager secundair onderwijs, Secundair onderwijs, Master]
"""


@pytest.mark.parametrize("press, level", [
    ("Secundair onderwijs", "secundair"),  # exact, though "Lager secundair onderwijs" contains it
    ("secundair", "secundair"),            # the only label starting with it (two contain it)
    ("lager", "lager_secundair"),
    ("Mast", "master"),
])
def test_press_takes_the_exact_label_then_the_only_one_starting_or_containing_it(
        tmp_path, press, level):
    result = _run_body(tmp_path, "press", TO_DIPLOMA + f"""\
  - as: lena
    press: {press}
    expect:
      - dossier: {{answers: {{diploma.level: {level}}}}}
""")
    assert result.ok, _report(result)


@pytest.mark.parametrize("press", ["onderwijs", "o"])
def test_press_of_an_ambiguous_label_is_reported_as_not_found(tmp_path, press):
    result = _run_body(tmp_path, "ambiguous", TO_DIPLOMA + f"""\
  - as: lena
    press: {press}
  - as: lena
    expect:
      - dossier: {{state: "q:diploma.level"}}
""")
    assert not result.ok and result.error is None
    failed = [c for c in result.checks if not c.ok]
    assert [c.what for c in failed] == [f"press [{press}]"]
    assert "no such button" in failed[0].detail and "Secundair onderwijs" in failed[0].detail
    assert result.checks[-1].ok  # nothing was pressed: still at the diploma question


def test_an_expect_only_step_with_an_actor_checks_without_acting(tmp_path):
    result = _run_body(tmp_path, "expect-only", """\
  - {as: lena, press: Akkoord}
  - as: lena
    expect:
      - nothing_sent: true
      - dossier: {state: "q:candidate.name", status: draft}
  - as: lena
    expect:
      - dossier: {state: "q:candidate.email"}
""")
    assert result.error is None, _report(result)
    assert [c.ok for c in result.checks[-3:]] == [True, True, False]
    assert "expected 'q:candidate.email', got 'q:candidate.name'" in result.checks[-1].detail


def test_says_sees_a_sent_document_by_its_name_and_caption(tmp_path):
    result = _run_body(tmp_path, "document", """\
  - {as: lena, press: Akkoord}
  - as: rita
    send: /export vera-projectcoordinator
    expect:
      - says: "📎 vera-projectcoordinator.csv Export Projectcoördinator: 1 dossier"
      - not_says: alleen voor recruiters
""", actors="  rita: {user_id: 4001, name: Rita, language: nl, recruiter: true}\n")
    assert result.ok, _report(result)


def test_an_edit_with_nothing_typed_before_is_a_failed_check_not_a_crash(tmp_path):
    result = _run_body(tmp_path, "edit-nothing", """\
  - {as: rita, edit: hallo}
  - {as: lena, media: sticker, expect: [{says: "Leuk! Maar daarmee kan ik niet verder."}]}
""", actors="  rita: {user_id: 4001, name: Rita, language: nl}\n")
    assert result.error is None, _report(result)
    failed = [c for c in result.checks if not c.ok]
    assert [(c.what, c.detail) for c in failed] == [("edit to “hallo”", "rita sent no text to edit")]
    assert result.checks[-1].ok  # the script went on


def test_a_group_step_checks_what_the_bot_said_in_the_group(tmp_path):
    result = _run_body(tmp_path, "group", """\
  - as: lena
    in_group: /start vera-projectcoordinator
    expect:
      - says: Ik help je graag verder in een privégesprek
      - buttons: [Naar het privégesprek]
      - link: https://t.me/intake_test_bot?start=elders
  - as: lena
    media: poll
    expect: [{not_says: privégesprek}, {says: Met een peiling kan ik niets doen.}]
""")
    assert result.error is None, _report(result)
    assert [c.ok for c in result.checks] == [True, True, True, False, True, True]
    assert result.checks[3].detail == ("links offered: "
                                       "['https://t.me/intake_test_bot?start=vera-projectcoordinator']")
    transcript = "\n".join(result.transcript)
    assert "lena ▸ (in group) /start vera-projectcoordinator" in transcript
    assert "bot → group ▸ Hallo!" in transcript
    assert ("[💬 Naar het privégesprek → "
            "https://t.me/intake_test_bot?start=vera-projectcoordinator]") in transcript


def test_a_crash_names_the_step_as_load_errors_do(tmp_path, capsys):
    path = _script(tmp_path, "crash", """\
  - as: lena
    upload: {path: does-not-exist.pdf}
  - as: lena
    press: Akkoord
""")
    result = _run(path)
    assert result.error is not None
    assert result.error.startswith("steps.1: FileNotFoundError"), result.error
    assert result.transcript[-1] == f"  ✗ crashed: {result.error}"
    assert "Akkoord" not in "\n".join(result.transcript[-2:])  # it stopped there
    code, out, _err = _simulate([str(path)], capsys)
    assert code == 1 and "steps.1: FileNotFoundError" in out


def test_a_simulation_runs_without_the_rate_limiter(tmp_path, monkeypatch):
    from bot import telegram_app

    built: list[telegram_app.BotParts] = []
    real = telegram_app.build_application

    def spy(*args, **kwargs):
        built.append(real(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(telegram_app, "build_application", spy)
    result = _run(_script(tmp_path, "fast"))
    assert result.ok, _report(result)
    assert len(built) == 1
    assert built[0].app.bot.rate_limiter is None


def test_a_reply_without_a_question_to_reply_to_fails_precisely(tmp_path, capsys):
    script = tmp_path / "antwoord.yaml"
    script.write_text("""\
name: Een antwoord zonder vraag
now: 2026-11-22T10:00+01:00
actors:
  rita: {user_id: 4001, recruiter: true}
steps:
  - as: rita
    reply: Ja, twee maanden.
""", encoding="utf-8")
    code, out, _err = _simulate([str(script)], capsys)
    assert code == 1, out
    assert "rita → recruiters ▸ ↩️ Ja, twee maanden." in out
    assert "✗ reply to a question" in out
    assert "no candidate's question in the recruiters' chat to reply to" in out
