"""Issue 11, the engine's side: every application reachable from /status and /withdraw,
access (/mydata) and erasure (/delete).

Driven like a chat (tests/conversation.py) on the in-memory store; the last tests run the same
conversation on the SQL store (SQLite and PostgreSQL), whose access and erasure live in
storage/.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.terminal_chat import render_reply, to_inbound
from flows.engine import Engine
from flows.events import Inbound, Reply, outgoing
from flows.messages import Msg
from flows.ports import DossierRecord
from storage.database import make_engine, migrate
from storage.dossier_repository import SqlDossierStore
from storage.file_store import LocalFileStore
from tests.conversation import TODAY, Chat, Clock, shipped_vacancies
from tests.conversation import make_engine as memory_engine
from tests.memory_store import RecruiterMessage
from tests.test_engine import IDENTITY, SCHOOL, SPECS, VERA, applicant, nieuwpoort_matrix, upload_all

STALE = "Die knop hoort bij een ander of ouder bericht; er is niets veranderd."
QUESTION = "Is deeltijds werken mogelijk?"


@pytest.fixture
def clock() -> Clock:
    return Clock(TODAY)


@pytest.fixture
def engine(tmp_path: Path, clock: Clock) -> Engine:
    return memory_engine(tmp_path, clock)


def vera_started(engine: Engine, user: str = "alice", lang: str = "nl") -> Chat:
    """Name and e-mail given for VERA: a draft with personal data in it."""
    chat = Chat(engine, user, lang=lang, script_lang="nl" if lang != "nl" else None)
    chat.start(VERA).press("I agree" if lang == "en" else "Akkoord")
    if user == "alice":
        chat.say(IDENTITY["candidate.name"]).say(IDENTITY["candidate.email"])
    else:
        chat.say(f"{user.title()} Maes").say(f"{user}@example.org")
    return chat


def dossier_of(chat: Chat, vacancy_id: str) -> DossierRecord:
    """This chat's candidate's application for the vacancy, as stored."""
    me = chat.candidate()
    return next(d for d in chat.data.dossiers.values()
                if d.vacancy_id == vacancy_id and d.candidate_id == me.id)


def ask_recruiters(chat: Chat, text: str = QUESTION) -> int:
    chat.send(Inbound.ask_recruiters(text)).press("Ja, stel de vraag")
    return max(chat.data.questions)


# ---------------------------------------------------------------- every application reachable


def test_opening_another_vacancy_keeps_the_first_application_in_status_and_withdraw(engine):
    """The case of the issue: after VERA's first questions, another vacancy is opened from
    /vacancies; VERA's draft (name, e-mail) stays visible and can be withdrawn."""
    chat = vera_started(engine)
    chat.do("vacancies").press("ICT-coördinator").expect("🔒 Privacy — ICT-coördinator")
    assert chat.candidate().active_dossier_id is None  # until they accept the school's notice

    chat.do("status").expect_not("nog geen sollicitatie")
    chat.expect("Je bent nu niet met een sollicitatie bezig.",
                "• Projectcoördinator: vragen beantwoorden, vraag 3 van")
    assert chat.labels == ["Projectcoördinator openen"]

    chat.do("withdraw").expect_not("nog geen sollicitatie")
    chat.expect("Je kandidatuur voor Projectcoördinator intrekken?")
    chat.press("Ja, trek in en wis").expect("Je kandidatuur voor Projectcoördinator is ingetrokken")
    vera = dossier_of(chat, VERA)
    assert (vera.status, vera.answers) == ("withdrawn", {})


def test_status_lists_every_application_and_a_button_opens_the_other(engine):
    chat = vera_started(engine)
    chat.start(SCHOOL).press("Akkoord").say("Alice Peeters")
    chat.do("status")
    # The active one first, as before: where they are and the deadline...
    chat.expect("📋 ICT-coördinator: vragen beantwoorden", "Je bent bij vraag 2 van",
                "Je andere sollicitaties:\n\n• Projectcoördinator: vragen beantwoorden, vraag 3 van")
    assert chat.text.index("ICT-coördinator") < chat.text.index("Projectcoördinator")
    # ... and still the question to answer last.
    assert chat.question_id == "candidate.email"

    chat.press("Projectcoördinator openen").expect("Welkom terug", "Projectcoördinator")
    chat.expect_question("diploma.level")
    assert chat.candidate().active_dossier_id == dossier_of(chat, VERA).id
    chat.do("status").expect("📋 Projectcoördinator", "• ICT-coördinator: vragen beantwoorden")


def test_status_in_english_and_a_withdrawn_application_has_no_button(engine):
    chat = vera_started(engine, lang="en")
    chat.do("withdraw").press("Yes, withdraw and erase")
    chat.start(SCHOOL).press("I agree")
    chat.do("status").expect("Your other applications:", "• Project coordinator: withdrawn")
    assert not [label for label in chat.labels if label.startswith("Open")]


def test_with_no_application_at_all_status_and_withdraw_say_so_and_list_vacancies(engine):
    chat = Chat(engine, "nobody")
    for command in ("status", "withdraw"):
        chat.do(command).expect("Je bent nog geen sollicitatie begonnen.", "Open vacatures:")
    assert chat.data.candidates == {}


# ---------------------------------------------------------------- withdraw: which one


def test_withdraw_asks_which_application_then_withdraws_the_one_chosen(engine):
    chat = vera_started(engine)
    chat.start(SCHOOL).press("Akkoord").say("Alice Peeters")
    chat.do("withdraw").expect("Welke sollicitatie wil je intrekken?")
    assert chat.labels == ["ICT-coördinator (vragen beantwoorden)",
                           "Projectcoördinator (vragen beantwoorden)", "Nee, ga verder"]
    chat.press("Projectcoördinator").expect("Je kandidatuur voor Projectcoördinator intrekken?")
    chat.press("Ja, trek in en wis").expect("Je kandidatuur voor Projectcoördinator is ingetrokken")
    # They stay where they were, in the school's application.
    chat.expect_question("candidate.email")
    school, vera = dossier_of(chat, SCHOOL), dossier_of(chat, VERA)
    assert (vera.status, vera.answers) == ("withdrawn", {})
    assert school.status == "draft" and school.answers == {"candidate.name": "Alice Peeters"}
    assert chat.candidate().active_dossier_id == school.id
    assert chat.data.outbox == []  # the recruiters never saw a draft

    # One left: no question which, the confirmation at once.
    chat.do("withdraw").expect("Je kandidatuur voor ICT-coördinator intrekken?")
    chat.press("Nee, ga verder").expect("Oké, er is niets veranderd.")


def test_withdrawing_takes_back_the_recruiters_messages_about_it(engine):
    chat = vera_started(engine)
    vera = dossier_of(chat, VERA)
    assert vera.id is not None
    chat.data.recruiter_messages += [RecruiterMessage(vera.id, -100, 7),
                                     RecruiterMessage(vera.id, -100, 8),
                                     RecruiterMessage(vera.id, -100, 3, recent=False)]
    chat.do("withdraw").press("Ja, trek in en wis")
    [notice] = chat.data.outbox
    assert notice == {"kind": "dossier_withdrawn", "dossier_id": vera.id,
                      "payload": {"dossier_id": vera.id, "delete": [[-100, 7], [-100, 8]],
                                  "older": 1}}
    assert chat.data.recruiter_messages == []


def test_a_submitted_application_withdrawn_tells_the_recruiters_with_nothing_to_take_back(engine):
    spec = SPECS["vera"]
    chat = vera_started(engine)
    chat.answer_all(spec.script)
    upload_all(chat)
    chat.do("withdraw").press("Ja, trek in en wis")
    notice = chat.data.outbox[-1]
    assert notice["kind"] == "dossier_withdrawn"
    assert notice["payload"] == {"dossier_id": notice["dossier_id"], "delete": [], "older": 0}


def test_a_forged_or_stale_withdraw_press_changes_nothing(engine):
    alice = vera_started(engine)
    bob = vera_started(engine, user="bob")
    theirs = dossier_of(bob, VERA)
    # Bob's dossier from Alice's chat: neither the choice nor the confirmation applies.
    for token in (f"c:withdraw:{theirs.id}.{theirs.version}", f"c:withdraw_which:{theirs.id}",
                  "c:withdraw:x.1", "c:withdraw:", "c:withdraw_which:²", "c:withdraw_which:"):
        alice.press_token(token).expect(STALE)
    assert bob.dossier().status == "draft" and bob.dossier().answers

    # Alice's own confirmation, after the application changed: shown before, not applied.
    master = alice.token("Master")
    alice.do("withdraw")
    confirm = alice.token("Ja, trek in en wis")
    alice.press_token(master)
    alice.press_token(confirm).expect(STALE)
    assert alice.dossier().status == "draft"
    alice.do("withdraw").press("Ja, trek in en wis")
    alice.press_token(confirm).expect(STALE)  # a second press of an older one


def test_the_confirmation_names_its_application_even_after_switching(engine):
    """A confirmation for VERA, pressed while the school's application is the active one,
    withdraws VERA — the one it named — and the candidate stays in the school's."""
    chat = vera_started(engine)
    chat.do("withdraw")
    confirm_vera = chat.token("Ja, trek in en wis")
    chat.start(SCHOOL).press("Akkoord").say("Alice Peeters")
    chat.press_token(confirm_vera).expect("Je kandidatuur voor Projectcoördinator is ingetrokken")
    chat.expect_question("candidate.email")
    assert dossier_of(chat, VERA).status == "withdrawn"
    assert dossier_of(chat, SCHOOL).answers == {"candidate.name": "Alice Peeters"}


# ---------------------------------------------------------------- /mydata


def full_history(engine: Engine, clock: Clock) -> Chat:
    """VERA submitted with its documents and a question answered by the recruiters; a
    criminal-record extract whose file was deleted after delivery; the school as a draft."""
    spec = SPECS["vera"]
    chat = vera_started(engine)
    chat.answer_all(spec.script)
    question_id = ask_recruiters(chat)
    assert engine.relay_answer("test", "alice", question_id, "Ja, 4/5 kan.") == "relayed"
    upload_all(chat)
    assert chat.dossier().status == "submitted"
    chat.start(SCHOOL).press("Akkoord").say("Alice Peeters").say("alice@example.org")
    chat.press("Ja").say("02-11-2026").press("Nee")
    upload_all(chat)
    extract = next(d for d in chat.data.documents.values() if d.kind == "record_extract")
    engine.files.delete(extract.stored_path)
    chat.data.documents[extract.id] = replace(extract, stored_path="",
                                              file_deleted_at=clock.now)
    return chat


def attachments(chat: Chat) -> list[dict]:
    return [a for r in chat.last for a in outgoing([r])[1:]]


def test_mydata_summarises_every_application_then_sends_the_json_and_the_documents(engine, clock):
    chat = full_history(engine, clock)
    chat.do("mydata")
    chat.expect(
        "📂 Dit bewaren we over je", "taal: Nederlands",
        "📋 Projectcoördinator: ingediend", "Ingediend op 22-11-2026",
        "• Hoe heet je? (voornaam en naam) → Alice Peeters",
        "alice@example.org", "• Wat is je hoogste behaalde diploma? → Master",
        "Je documenten:", "• cv: cv.pdf (22-11-2026)",
        "Je vragen aan de recruiters:", f"“{QUESTION}”", "↩️ 22-11-2026: Ja, 4/5 kan.",
        "📋 ICT-coördinator: ingediend",
        "record_extract.pdf (22-11-2026) — het bestand is gewist nadat de recruiters het kregen",
        "Hieronder alles in één machineleesbaar bestand (JSON), en je 5 documenten.")
    assert all(len(r.text()) <= 1000 for r in chat.last)

    files = attachments(chat)
    export, *documents = files
    assert export["file_name"] == "mijn-gegevens.json"
    data = json.loads(base64.b64decode(export["file_data"]).decode("utf-8"))
    with engine.store.unit_of_work("test", "alice") as uow:
        assert data == json.loads(json.dumps(uow.export_data()))
    assert {"candidate", "applications", "messages"} <= set(data)
    assert sorted(d["vacancy_id"] for d in data["applications"]) == [SCHOOL, VERA]
    assert [len(d["documents"]) for d in data["applications"]] == [3, 3]
    assert all(d["audit"] for d in data["applications"])
    [question] = [q for d in data["applications"] for q in d["questions"]]
    assert (question["text"], question["answers"][0]["text"]) == (QUESTION, "Ja, 4/5 kan.")
    assert "Alice Peeters" in base64.b64decode(export["file_data"]).decode("utf-8")
    # Every stored document, not the one whose file was deleted after delivery.
    kept = {d.id for d in chat.data.documents.values() if d.file_deleted_at is None}
    assert len(kept) == 5
    assert {a["document_id"] for a in documents} == kept
    assert "cv — Projectcoördinator" in [a["caption"] for a in documents]
    # The files come with the summary's last message; then where they are, as after /help.
    assert chat.last[-2].attachments and not chat.last[-1].attachments
    chat.expect("Je dossier voor ICT-coördinator is volledig en doorgestuurd op")


def test_a_long_summary_is_split_for_a_phone_and_the_matrix_is_a_line_per_technology(
        engine, clock):
    spec = SPECS["nieuwpoort"]
    chat = applicant(engine, clock, spec)
    chat.answer_all({**spec.script, **nieuwpoort_matrix()})
    chat.do("mydata")
    summary = [r for r in chat.last if r.question_id is None and r.expects == "nothing"]
    assert len(summary) >= 2 and all(len(r.text()) <= 1000 for r in summary)
    chat.expect("• Windows OS (10/11, Server 2022): Operationele kennis, 4 jaar",
                "Ansible en Proxmox")
    assert summary[0].text().startswith("📂 Dit bewaren we over je\nSinds 01-07-2025 · taal:"
                                        " Nederlands\n\n📋 Systeembeheerder ICT")
    assert summary[-1].attachments and not any(r.attachments for r in summary[:-1])


def test_mydata_in_english_and_the_terminal_chat_names_the_file(engine):
    chat = vera_started(engine, lang="en")
    chat.do("mydata").expect("📂 What we store about you", "📋 Project coordinator:",
                             "Below: all of it in one machine-readable file (JSON).")
    assert attachments(chat)[0]["file_name"] == "my-data.json"
    shown = "\n".join(render_reply(r) for r in chat.last)
    assert "[file: my-data.json]" in shown
    chat.expect_question("diploma.level")  # then the question they are at


def test_mydata_works_without_an_active_application(engine):
    chat = vera_started(engine)
    chat.start(SCHOOL)  # the school's notice: no active application until accepted
    chat.send(Inbound.do("mijngegevens")).expect("📋 Projectcoördinator: vragen beantwoorden")
    assert [a["file_name"] for a in attachments(chat)] == ["mijn-gegevens.json"]


def test_mydata_for_someone_with_nothing_stored(engine):
    chat = Chat(engine, "nobody")
    chat.do("mydata").expect("Er is niets over je bewaard.")
    assert attachments(chat) == [] and chat.data.candidates == {}


def test_attachments_follow_their_reply_as_messages_of_their_own():
    reply = Reply("nl", ("Hier:",), attachments=(
        {"file_data": "e30=", "file_name": Msg("mydata.file_name"), "caption": "JSON"},
        {"document_id": 4, "caption": Msg("mydata.document_caption", {"label": "cv",
                                                                      "title": "T"})}))
    assert outgoing([reply, Reply("nl", ("Verder.",))]) == [
        {"text": "Hier:", "choices": []},
        {"file_data": "e30=", "file_name": "mijn-gegevens.json", "caption": "JSON"},
        {"document_id": 4, "caption": "cv — T"},
        {"text": "Verder.", "choices": []}]
    assert render_reply(reply).splitlines()[-2:] == ["[bestand: mijn-gegevens.json]",
                                                     "[bestand: cv — T]"]


# ---------------------------------------------------------------- /delete


def test_delete_asks_first_and_cancelling_changes_nothing(engine):
    chat = vera_started(engine)
    chat.start(SCHOOL).press("Akkoord")
    chat.send(Inbound.do("wissen")).expect(
        "🗑 Alles wissen wat we over je bewaren?",
        "• je sollicitatie voor Projectcoördinator (vragen beantwoorden)",
        "• je sollicitatie voor ICT-coördinator (vragen beantwoorden)",
        "al je antwoorden, documenten en vragen aan de recruiters",
        "Dit kan niet ongedaan worden gemaakt.")
    assert chat.labels == ["Ja, wis alles", "Nee, ga verder"]
    before = (len(chat.data.candidates), len(chat.data.dossiers))
    chat.press("Nee, ga verder").expect("Oké, er is niets veranderd.")
    assert (len(chat.data.candidates), len(chat.data.dossiers)) == before == (1, 2)


def test_delete_erases_everything_tells_the_recruiters_once_and_starts_afresh(engine, clock):
    chat = full_history(engine, clock)
    other = vera_started(engine, user="bob")  # someone else: untouched
    bob = other.candidate()
    vera, school = dossier_of(chat, VERA), dossier_of(chat, SCHOOL)
    assert vera.id is not None
    chat.data.recruiter_messages += [RecruiterMessage(vera.id, -100, 11),
                                     RecruiterMessage(vera.id, -100, 12, recent=False)]
    assert chat.files_on_disk()
    stored_before = {d.stored_path for d in chat.data.documents.values() if d.stored_path}

    chat.do("delete").press("Ja, wis alles")
    chat.expect("🗑 Alles is gewist: 2 sollicitaties en 5 bestanden.",
                "De recruiters krijgen bericht",
                "Stuur je later nog iets, dan begin je helemaal opnieuw")
    data = chat.data
    assert chat.candidate() is None
    assert [d.candidate_id for d in data.dossiers.values()] == [bob.id]
    assert not stored_before & chat.files_on_disk()
    assert not any(q for q in data.questions.values()) and data.answers == {}
    notices = [o for o in data.outbox if o["kind"] == "candidate_erased"]
    assert notices == [{"kind": "candidate_erased", "dossier_id": None, "payload": {
        "dossiers": [[vera.id, VERA, "submitted"], [school.id, SCHOOL, "submitted"]],
        "delete": [[-100, 11]], "older": 1}}]
    # Nothing of Alice anywhere in the store any more.
    assert "alice@example.org" not in repr(data.__dict__)
    assert "Ja, 4/5 kan." not in repr(data.__dict__) and QUESTION not in repr(data.__dict__)

    # A new message is a new person: the list, then the notice before anything is stored.
    chat.say("hallo").expect("Kies een vacature")
    chat.start(VERA).expect("🔒 Privacy — Projectcoördinator")
    assert chat.candidate() is None
    chat.press("Akkoord").expect("Hoe heet je?")
    assert chat.dossier().answers == {}


def test_deleting_drafts_only_tells_nobody(engine):
    chat = vera_started(engine)
    chat.do("delete").press("Ja, wis alles").expect("🗑 Alles is gewist: 1 sollicitatie en 0 bestanden.")
    chat.expect_not("De recruiters krijgen bericht")
    assert chat.data.outbox == [] and chat.data.audit == [] and chat.data.dossiers == {}


def test_a_forged_or_stale_delete_press_erases_nothing(engine):
    alice = vera_started(engine)
    master = alice.token("Master")
    alice.do("delete")
    confirm = alice.token("Ja, wis alles")
    bob = vera_started(engine, user="bob")
    bob.press_token(confirm).expect(STALE)  # Alice's button pressed by Bob
    for token in ("c:erase:", "c:erase:1", "c:erase:x.y"):
        alice.press_token(token).expect(STALE)
    Chat(engine, "nobody").press_token(confirm).expect(STALE)
    # Alice changed her application after she was asked: the old button is stale.
    alice.press_token(master)
    alice.press_token(confirm).expect(STALE)
    assert alice.candidate() is not None and bob.candidate() is not None
    assert len(alice.data.dossiers) == 2
    # Asked again, it works; the same button a second time finds nobody to erase.
    alice.do("delete").press("Ja, wis alles").expect("Alles is gewist")
    alice.press_token(alice.history[-2][1][0].choices[0].token).expect(STALE)
    assert alice.candidate() is None and bob.candidate() is not None


def test_the_terminal_chat_takes_the_commands_by_either_name():
    for typed, command in (("/mydata", "mydata"), ("/mijngegevens", "mijngegevens"),
                           ("/delete", "delete"), ("/wissen", "wissen")):
        assert to_inbound(typed, []) == Inbound.do(command)


def test_delete_for_someone_with_nothing_stored(engine):
    chat = Chat(engine, "nobody")
    chat.do("delete").expect("Er is niets over je bewaard, dus ook niets te wissen.")
    assert chat.labels == []


def test_the_goodbye_queued_after_an_erasure_holds_no_personal_data(engine):
    chat = vera_started(engine)
    chat.do("delete")
    confirm = Inbound.press(chat.token("Ja, wis alles"))
    engine.handle(chat.sender, confirm, durable=True)
    [goodbye] = chat.data.outbox
    text = json.dumps(goodbye)
    assert "Alles is gewist" in text
    assert "Alice" not in text and "alice@example.org" not in text
    assert chat.data.candidates == {} and chat.data.audit == []


# ---------------------------------------------------------------- the SQL store (storage/)


@pytest.fixture
def sql_engine(migrated_database_url: str, tmp_path: Path) -> Engine:
    now = datetime(2026, 11, 22, 9, tzinfo=UTC)
    db = make_engine(migrated_database_url)
    migrate(db)
    return Engine(shipped_vacancies(), SqlDossierStore(db, clock=lambda: now),
                  LocalFileStore(tmp_path / "files"), lambda: now)


def test_mydata_and_delete_on_the_sql_store(sql_engine: Engine, tmp_path: Path):
    chat = Chat(sql_engine, "alice")
    chat.tmp = tmp_path / "outgoing"
    chat.start(VERA).press("Akkoord").say("Alice Peeters").say("alice@example.org")
    chat.answer_all(SPECS["vera"].script)
    chat.upload("mijn-cv.pdf")
    chat.start(SCHOOL).press("Akkoord").say("Alice Peeters")

    chat.do("status").expect("• Projectcoördinator: documenten opladen")
    chat.do("mydata").expect("📋 ICT-coördinator", "📋 Projectcoördinator",
                             "• cv: mijn-cv.pdf", "Alice Peeters")
    export, document = attachments(chat)
    data = json.loads(base64.b64decode(export["file_data"]))
    assert "alice@example.org" in json.dumps(data, ensure_ascii=False)
    assert isinstance(document["document_id"], int)

    chat.do("delete").press("Ja, wis alles").expect("Alles is gewist: 2 sollicitaties en 1 bestand.")
    with sql_engine.store.unit_of_work("test", "alice") as uow:
        assert uow.candidate() is None and uow.dossiers() == []
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    chat.start(VERA).expect("🔒 Privacy")
