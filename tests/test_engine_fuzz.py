"""Fuzzing the engine: whatever a candidate types or presses, it never raises and never loses data.

1. At every question of every vacancy (a dossier is driven to each question state in turn and
   the store snapshotted there), any text either stores a valid answer for *that* question and
   moves on, or re-asks the same question with the state unchanged; earlier answers never change.
2. Random sequences of events (commands, presses of offered, stale and forged tokens, texts,
   uploads, the clock moving past a deadline) from many starting points never raise and keep
   every dossier in one of its machine's states, with files on disk matching document rows.
"""

from __future__ import annotations

import copy
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.answers import EMAIL
from flows.events import COMMANDS, Inbound, Sender, Upload
from flows.flow import status_of
from flows.messages import render
from flows.replies import vacancy_key
from tests.conversation import PDF, Chat, Clock, check_reply, make_engine
from tests.memory_store import MemoryData
from tests.test_engine import SPECS

_TMP = tempfile.TemporaryDirectory(prefix="engine-fuzz-")
CLOCK = Clock()
ENGINE = make_engine(Path(_TMP.name), CLOCK)
FILES = Path(ENGINE.files.root)
FUZZ = settings(deadline=None, max_examples=150, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# Answers that open every follow-up question (certificate, extract date, mention and the
# choice to explain it, years for every technology) without knocking the candidate out.
OPEN_EVERY_FOLLOW_UP = {"diploma.foreign": "Ja", "language.dutch_education": "Nee",
                        "language.certificate": "Ja", "record.has_extract": "Ja",
                        "record.mention": "Ja", "record.explain": "Ja"}


@dataclass(frozen=True)
class Point:
    """A stored situation to start from: one candidate's rows at a given instant."""

    name: str
    vacancy: str
    user: str
    now: Any
    data: MemoryData
    question: str | None = None  # the question asked there, if any


def _snapshot() -> MemoryData:
    return copy.deepcopy(ENGINE.store.data)  # type: ignore[attr-defined]


def _restore(point: Point) -> None:
    ENGINE.store.data = copy.deepcopy(point.data)  # type: ignore[attr-defined]
    CLOCK.set(point.now)
    for old in FILES.iterdir():
        old.unlink()
    for doc in point.data.documents.values():
        (FILES / doc.stored_path).write_bytes(PDF)


def _drive(name: str) -> list[Point]:
    spec = SPECS[name]
    flow = ENGINE.flows[spec.id]
    script = {**spec.script, **OPEN_EVERY_FOLLOW_UP}
    script.update({q.id: "Operationele kennis" for q in flow.questions
                   if q.id.startswith("matrix.") and q.id.endswith(".level")})
    ENGINE.store.data = MemoryData()  # type: ignore[attr-defined]
    CLOCK.set(spec.open_at)
    user = f"fuzz-{name}"
    chat = Chat(ENGINE, user)
    points = [Point(f"{name}:new", spec.id, user, spec.open_at, _snapshot())]
    chat.start(spec.id).press("Akkoord")
    while (qid := chat.question_id) is not None:
        points.append(Point(f"{name}:{qid}", spec.id, user, spec.open_at, _snapshot(), qid))
        chat.answer(script[qid])
    assert chat.dossier().state == "collecting"
    points.append(Point(f"{name}:collecting", spec.id, user, spec.open_at, _snapshot()))
    reply = chat.last[-1]
    chat.upload(f"{reply.document}.pdf")
    points.append(Point(f"{name}:collecting-1", spec.id, user, spec.open_at, _snapshot()))
    for _ in range(10):
        if chat.last[-1].document is None:
            break
        chat.upload(f"{chat.last[-1].document}.pdf")
    assert chat.dossier().state == "submitted"
    points.append(Point(f"{name}:submitted", spec.id, user, spec.open_at, _snapshot()))
    chat.do("withdraw").press("Ja, trek in en wis")
    points.append(Point(f"{name}:withdrawn", spec.id, user, spec.open_at, _snapshot()))
    return points


POINTS = [p for name in sorted(SPECS) for p in _drive(name)]
QUESTION_POINTS = [p for p in POINTS if p.question is not None]
assert len({p.name for p in POINTS}) == len(POINTS)


def _dossier(point: Point) -> Any:
    data = ENGINE.store.data  # type: ignore[attr-defined]
    found = [d for d in data.dossiers.values() if d.vacancy_id == point.vacancy]
    return found[0] if found else None


def _send(point: Point, inbound: Inbound) -> list:
    replies = ENGINE.handle(Sender("test", point.user, point.user, "nl"), inbound)
    for reply in replies:
        check_reply(reply)
    return replies


# ---------------------------------------------------------------- 1. any text at any question


def _valid(question: Any, value: Any, today: date) -> bool:
    kind = question.kind
    if kind == "choice":
        return value in question.option_values()
    if kind == "yes_no":
        return isinstance(value, bool)
    if kind == "number":
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and question.minimum <= value <= question.maximum)
    if kind == "date":
        day = date.fromisoformat(value)  # stored as an ISO string, as a JSON column keeps it
        return today.year - 20 <= day.year and day <= today
    if kind == "email":
        return isinstance(value, str) and bool(EMAIL.match(value))
    limit = int(question.maximum or 1000)
    if question.optional and value == "":
        return True
    return (isinstance(value, str) and 0 < len(value) <= limit and value == value.strip()
            and any(ch.isalnum() for ch in value))


def check_text_at_question(point: Point, text: str) -> None:
    _restore(point)
    flow = ENGINE.flows[point.vacancy]
    question = flow.by_id[point.question]
    before = _dossier(point)
    replies = _send(point, Inbound.say(text))
    after = _dossier(point)
    for qid, value in before.answers.items():  # never changes or loses an earlier answer
        assert after.answers.get(qid, "<lost>") == value, (qid, text)
    new = set(after.answers) - set(before.answers)
    if not new:
        # Re-asked: same state, same row, and the reply repeats the question's prompt.
        assert (after.state, after.version, after.answers) == (before.state, before.version,
                                                               before.answers), text
        assert replies[-1].question_id == question.id, text
        assert render(question.prompt, replies[-1].said_in) in replies[-1].text()
        return
    assert new == {question.id}, (new, text)
    today = CLOCK.now.astimezone(flow.vacancy.zone).date()
    assert _valid(question, after.answers[question.id], today), (after.answers[question.id], text)
    assert after.state in flow.states and after.state != before.state
    assert after.status == status_of(after.state)
    if after.state.startswith("q:"):
        assert flow.index[after.state[2:]] > flow.index[question.id]


NASTY = [
    "", " ", "\n\t  \n", "😀", "👍👍", "✅", "❌", "...", "ja", "JA!", "nee.", "Yes", "no", "ok",
    "x" * 5000, " a " * 400, "-1", "-0", "0", "0,0", "2,5", "3.75", "60", "60.01", "61", "1e9",
    "99999999999999999999", "NaN", "inf", "-inf", "5 jaar", "10 years", "½", "٣",
    "31-12-2099", "2099-01-01", "29-02-2025", "29-02-2024", "01-01-1900", "1-1-1", "00-00-0000",
    "32-13-2025", "15-03-2025", "15/03/25", "2025-03-15", "15 maart 2025",
    "<script>alert(1)</script>", "{name}", "{0}", "%s", "\x00", "a\u200bb", "\u202eRTL",
    "a@b", "a@b.c", "x@example.org", "<alice@Example.ORG>", "Geen diploma", "master", "MBO-4",
    "1", "2", "7", "99", "Overslaan", "Robert'); DROP TABLE dossiers;--", "Zoë O'Brien-Müller",
]


@pytest.mark.parametrize("point", QUESTION_POINTS, ids=lambda p: p.name)
def test_every_question_survives_nasty_text(point):
    for text in NASTY:
        check_text_at_question(point, text)


TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(NASTY),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: f"{f}".replace(".", ",")),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)).map(
        lambda d: d.strftime("%d-%m-%Y")),
    st.text(min_size=4900, max_size=5100, alphabet="ab 😀"),
    st.text(alphabet=st.characters(categories=("Nd", "No", "Zs")), min_size=1, max_size=3),
)


@FUZZ
@given(point=st.sampled_from(QUESTION_POINTS), text=TEXTS)
def test_random_text_at_random_questions(point, text):
    check_text_at_question(point, text)


# ---------------------------------------------------------------- 2. random event sequences


def _token(parts: tuple[str, str, int, str]) -> str:
    kind, dossier, index, option = parts
    return f"{kind}:{dossier}:{index}:{option}"


# Dossier ids in button data: small numbers hit real dossiers of the store, others do not.
DOSSIERS = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["x", "", "-1", "²"]))


KEYS = [vacancy_key(s.id) for s in SPECS.values()] + ["deadbeef"]
TOKENS = st.one_of(
    st.tuples(st.just("a"), DOSSIERS, st.integers(-1, 60),
              st.sampled_from(["0", "1", "2", "4", "6", "7", "99", "", "x", "-1", "²"])).map(_token),
    st.tuples(DOSSIERS, st.sampled_from(["0", "2", "48", "99", "x", ""])).map(
        lambda t: f"s:{t[0]}:{t[1]}"),
    st.tuples(DOSSIERS, st.sampled_from(["cv", "motivation", "diploma_copy", "record_extract",
                                         "equivalence_statement", "language_certificate",
                                         "record_explanation", "nope", ""])).map(
        lambda t: f"d:{t[0]}:{t[1]}"),
    st.sampled_from(["c:restart", "c:withdraw", "c:no", "c:", "c:restart:2", "c:withdraw:3",
                     "l:en", "l:nl", "l:fr",
                     "x:nl", "x:en", "x:", "zzz", "", ":::", "m:"]),
    st.sampled_from([f"m:{c}" for c in COMMANDS]),
    st.tuples(st.sampled_from(["v", "p"]), st.sampled_from(KEYS),
              st.sampled_from(["nl", "en", "", "de"])).map(lambda t: f"{t[0]}:{t[1]}:{t[2]}"),
    st.text(max_size=30),
)
PLAUSIBLE = st.sampled_from(["Alice Peeters", "alice@example.org", "Ja", "Nee", "1", "3", "5",
                             "6", "15-06-2025", "01-11-2026", "Geen kennis", "Master", "Overslaan"])
UPLOADS = st.tuples(st.sampled_from(["cv.pdf", "cv.docx", "foto.jpg", "scan.png", "virus.exe",
                                     "", "../../x.pdf"]),
                    st.sampled_from([None, "application/pdf", "image/jpeg", "text/plain"]),
                    st.sampled_from([None, 0, 11 * 1024 * 1024, 50 * 1024 * 1024]))
EVENTS = st.one_of(
    st.tuples(st.just("offered"), st.integers(0, 30)),
    st.tuples(st.just("offered"), st.integers(0, 30)),
    st.tuples(st.just("confirm"), st.sampled_from(["withdraw", "restart", "back"])),
    st.tuples(st.just("confirm"), st.sampled_from(["withdraw", "restart"])),
    st.tuples(st.just("command"), st.sampled_from([*COMMANDS, "bogus", ""])),
    st.tuples(st.just("press"), TOKENS),
    st.tuples(st.just("text"), st.one_of(PLAUSIBLE, st.text(max_size=50))),
    st.tuples(st.just("upload"), UPLOADS),
    st.tuples(st.just("start"), st.sampled_from([*(s.id for s in SPECS.values()), None, "bogus"])),
    st.tuples(st.just("clock"), st.sampled_from([timedelta(hours=1), timedelta(days=20),
                                                 timedelta(days=500)])),
)


def check_store(point: Point) -> None:
    data = ENGINE.store.data  # type: ignore[attr-defined]
    for d in data.dossiers.values():
        flow = ENGINE.flows[d.vacancy_id]
        assert d.state in flow.states, d.state
        assert d.status == status_of(d.state), (d.state, d.status)
        assert set(d.answers) <= set(flow.by_id), set(d.answers) - set(flow.by_id)
        if d.status == "withdrawn":
            assert d.answers == {} and d.verdict is None
            assert not [x for x in data.documents.values() if x.dossier_id == d.id]
        if d.status in ("draft", "ineligible"):
            # Uploads are taken only while collecting; documents may remain after /back.
            assert d.state != "collecting"
        if d.status == "submitted":
            assert any(o["kind"] == "dossier_submitted" and o["dossier_id"] == d.id
                       for o in data.outbox)
    for c in data.candidates.values():
        if c.active_dossier_id is not None:
            assert data.dossiers[c.active_dossier_id].candidate_id == c.id
    assert {doc.dossier_id for doc in data.documents.values()} <= set(data.dossiers)
    assert {p.name for p in FILES.iterdir()} == {doc.stored_path for doc in data.documents.values()}


def run_sequence(point: Point, events: list[tuple[str, Any]]) -> None:
    _restore(point)
    offered: list[str] = []
    uploads = Path(_TMP.name) / "outgoing"
    uploads.mkdir(exist_ok=True)
    for kind, arg in events:
        if kind == "confirm":  # a command, then its first button (confirms withdraw/restart)
            replies = _send(point, Inbound.do(arg))
            check_store(point)
            first = [c.token for r in replies for c in r.choices][:1]
            inbound = Inbound.press(first[0] if first else "zzz")
        elif kind == "offered":
            inbound = Inbound.press(offered[arg % len(offered)] if offered else "zzz")
        elif kind == "command":
            inbound = Inbound.do(arg)
        elif kind == "press":
            inbound = Inbound.press(arg)
        elif kind == "text":
            inbound = Inbound.say(arg)
        elif kind == "upload":
            name, media_type, size = arg
            path = uploads / "received"
            path.write_bytes(PDF)
            inbound = Inbound.send_file(Upload(name, media_type, len(PDF) if size is None else size,
                                               path))
        elif kind == "start":
            inbound = Inbound.start(arg)
        else:
            CLOCK.advance(seconds=arg.total_seconds())
            continue
        replies = _send(point, inbound)
        offered = [c.token for r in replies for c in r.choices] or offered
        check_store(point)


STARTS = [p for p in POINTS if p.question is None
          or p.question in ("candidate.name", "diploma.level", "civil_rights", "record.issued_on",
                            "matrix.extra", "customer_contact.years", "score.topdesk")]


@FUZZ
@given(point=st.sampled_from(STARTS), events=st.lists(EVENTS, min_size=1, max_size=25))
def test_random_event_sequences_keep_the_dossier_consistent(point, events):
    run_sequence(point, events)


def test_the_fuzzers_start_at_every_follow_up_question():
    """The follow-ups that only some answers open are fuzzed too: the certificate question,
    the extract's date and mention, and whether to explain a mention."""
    asked = {p.question for p in QUESTION_POINTS}
    assert {"language.certificate", "record.issued_on", "record.mention",
            "record.explain"} <= asked
    explain = [p.vacancy for p in QUESTION_POINTS if p.question == "record.explain"]
    assert sorted(explain) == sorted([SPECS["nieuwpoort"].id, SPECS["school"].id])


def test_the_sequence_fuzzer_reaches_every_lifecycle_state():
    """A sanity check that the starting points cover the machine: every status is present."""
    statuses = set()
    for point in POINTS:
        _restore(point)
        statuses |= {d.status for d in point.data.dossiers.values()}
    assert statuses >= {"draft", "collecting", "submitted", "withdrawn"}
    assert any(re.match(r"\w+:new$", p.name) for p in STARTS)
