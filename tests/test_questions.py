"""Questions reach a person (issue 10.5): /vraag, questions typed where an answer was expected,
the seed's deadline for questions, and the recruiters' answer relayed back — at engine level.

Scripts in the style of tests/test_engine.py (tests/conversation.py): the engine with an
in-memory store, a frozen clock, and what the bot said and stored checked after each step. The
recruiters' side of the round trip through Telegram is in tests/test_bot_questions.py.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from flows.dossier_summary import question_notice
from flows.engine import QUESTION_NOTICE
from flows.events import Inbound, Upload
from flows.question_detection import looks_like_question
from tests.conversation import AMSTERDAM, BRUSSELS, Chat, Clock, make_engine
from tests.conversation import shipped_vacancies as vacancies

HARDENBERG = "hardenberg-medewerker-intern-service-punt"
VERA = "vera-projectcoordinator"
HARDENBERG_OPEN = datetime(2026, 7, 1, 12, 0, tzinfo=AMSTERDAM)
VERA_OPEN = datetime(2026, 11, 22, 10, 0, tzinfo=BRUSSELS)
QUESTIONS_CLOSE = datetime(2026, 7, 8, 9, 0, tzinfo=AMSTERDAM)
SALARY = "Wat is het loon eigenlijk?"
OFFER = "Wil je deze vraag aan de recruiters stellen?"
NAME_PROMPT = "Hoe heet je? (voornaam en achternaam)"  # Hardenberg: Dutch of the Netherlands


@pytest.fixture
def clock() -> Clock:
    return Clock(HARDENBERG_OPEN)


@pytest.fixture
def engine(tmp_path: Path, clock: Clock):
    return make_engine(tmp_path, clock)


def applicant(engine, vacancy_id: str = HARDENBERG, user: str = "alice", lang: str = "nl") -> Chat:
    chat = Chat(engine, user, lang=lang)
    chat.start(vacancy_id).press("I agree" if lang == "en" else "Akkoord")
    return chat


def notices(chat: Chat) -> list[dict]:
    return [o for o in chat.data.outbox if o["kind"] == QUESTION_NOTICE]


def stored_questions(chat: Chat) -> list:
    return sorted(chat.data.questions.values(), key=lambda q: q.id)


# ---------------------------------------------------------------- the known symptom


def test_a_question_typed_at_the_name_is_not_stored_as_the_name(engine):
    chat = applicant(engine)
    chat.say(SALARY).expect(OFFER, f"“{SALARY}”", "Vraag 1 van", NAME_PROMPT)
    assert "candidate.name" not in chat.dossier().answers
    assert chat.question_id == "candidate.name"  # the question it was asking, repeated
    # It only ends like a question: never a name, so "it is my answer" is not offered.
    assert chat.labels == ["✅ Ja, stel de vraag", "☐ Mijn antwoorden meesturen", "Nee"]
    chat.press("Nee").expect("Oké, ik stuur niets door.", NAME_PROMPT)
    assert stored_questions(chat) == [] and notices(chat) == []
    chat.say("Alice Peeters").expect("Vraag 2 van")
    assert chat.dossier().answers["candidate.name"] == "Alice Peeters"


@pytest.mark.parametrize(("typed", "said"), [
    ("0470 12 34 56", "Typ je naam in letters"),
    ("alice@example.org", "Dat lijkt een e-mailadres; dat vraag ik hierna."),
    ("Alice Peeters <alice@example.org>", "Dat lijkt een e-mailadres"),
    ("Ik ben Alice en ik wil graag solliciteren voor deze job", "hoogstens 6 woorden"),
])
def test_the_name_question_refuses_what_is_clearly_not_a_name(engine, typed, said):
    chat = applicant(engine)
    chat.say(typed).expect(said, NAME_PROMPT).expect_not(OFFER)
    assert "candidate.name" not in chat.dossier().answers


@pytest.mark.parametrize("name", ["Maria del Carmen van der Berg", "Zoë Dupont-Šimić",
                                  "Jan-Willem de Wit", "O'Neill Siobhan", "Kan Yilmaz"])
def test_real_names_are_still_names(engine, name):
    chat = applicant(engine)
    chat.say(name).expect("Vraag 2 van")
    assert chat.dossier().answers["candidate.name"] == name


def test_a_name_that_only_starts_like_a_question_can_still_be_given(engine):
    chat = applicant(engine)
    chat.say("Hoe Kim Lian").expect(OFFER, NAME_PROMPT)
    assert "Nee, dit is mijn antwoord" in chat.labels
    chat.press("Nee, dit is mijn antwoord").expect("Vraag 2 van")
    assert chat.dossier().answers["candidate.name"] == "Hoe Kim Lian"
    assert stored_questions(chat) == []  # the draft went with the choice


# ---------------------------------------------------------------- other questions


def at(chat: Chat, question_id: str) -> Chat:
    script = {"candidate.name": "Alice Peeters", "candidate.email": "alice@example.org",
              "diploma.level": "hbo", "diploma.foreign": "Nee",
              "customer_contact.years": "6", "multidisciplinary": "Ja"}
    return chat.answer_all(script, stop_at=[question_id])


@pytest.mark.parametrize(("question_id", "typed"), [
    ("multidisciplinary", "Is een stage ook werkervaring?"),           # yes/no expects ja/nee
    ("multidisciplinary", "Wat bedoelen jullie met multidisciplinair"),  # no "?" needed
    ("customer_contact.years", "Telt vrijwilligerswerk mee?"),
    ("diploma.level", "Welke opleidingen tellen als mbo-4?"),
    ("candidate.email", "Waarom hebben jullie mijn e-mailadres nodig?"),
])
def test_a_question_where_an_answer_was_expected_is_offered_not_stored(engine, question_id, typed):
    chat = at(applicant(engine), question_id)
    before = dict(chat.dossier().answers)
    chat.say(typed).expect(OFFER, f"“{typed}”")
    assert chat.question_id == question_id  # asked again
    assert chat.dossier().answers == before
    assert "Nee, dit is mijn antwoord" not in chat.labels  # not a valid answer there


@pytest.mark.parametrize(("question_id", "typed", "said"), [
    ("multidisciplinary", "ja?", "Antwoord met Ja of Nee"),  # doubtful, not a question
    ("customer_contact.years", "5?", "getal"),
])
def test_a_doubtful_answer_is_re_asked_not_offered(engine, question_id, typed, said):
    chat = at(applicant(engine), question_id)
    chat.say(typed).expect(said).expect_not(OFFER)
    assert chat.question_id == question_id


def test_a_valid_answer_with_a_question_mark_is_an_answer(engine):
    chat = at(applicant(engine), "diploma.level")
    chat.say("hbo?").expect_not(OFFER)
    assert chat.dossier().answers["diploma.level"] == "hbo"


def test_a_question_while_documents_are_awaited_is_offered(engine):
    chat = applicant(engine, VERA_VACANCY := VERA)
    chat.answer_all({"candidate.name": "Alice Peeters", "candidate.email": "alice@example.org",
                     "diploma.level": "Master", "diploma.foreign": "Nee",
                     "language.dutch_education": "Ja"})
    assert chat.dossier().status == "collecting", VERA_VACANCY
    chat.say("Moet mijn cv in het Nederlands zijn?").expect(OFFER, "documenten opladen",
                                                            "Documenten voor een volledige")


@pytest.mark.parametrize("text", [
    "Wat is het loon?", "wat is het loon", "Hoeveel uren per week", "Kan ik deeltijds werken",
    "Is er een proefperiode", "What is the salary", "Can I work part-time", "Do you pay travel",
    "Wanneer hoor ik iets?", "¿Qué?",
])
def test_what_reads_as_a_question(text):
    assert looks_like_question(text)


@pytest.mark.parametrize("text", [
    "Alice Peeters", "Hoe Ling", "Kan Yilmaz", "Is", "ja", "5 jaar", "hbo", "Wat", "Ik weet het niet",
    "Kan Ali Demir", "Wie",
])
def test_what_does_not_read_as_a_question(text):
    assert not looks_like_question(text)


# ---------------------------------------------------------------- /vraag


def test_vraag_asks_shows_what_is_sent_and_relays_only_on_confirmation(engine):
    chat = at(applicant(engine), "customer_contact.years")
    chat.do("vraag")  # as the adapter sends /vraag without a text
    chat.send(Inbound.ask_recruiters()).expect("Wat is je vraag aan de recruiters?")
    assert chat.labels == ["Annuleren"]
    chat.say("Kan ik ook deeltijds werken").expect(
        "❓ Dit stuur ik naar de recruiters:", "“Kan ik ook deeltijds werken”",
        "de vacature (Medewerker Intern Service Punt)",
        "waar je bent (bij de vraag “Hoeveel jaar werkervaring",
        "Je naam en je antwoorden gaan niet mee, tenzij je dat hieronder aanvinkt.")
    assert chat.question_id is None  # no question re-asked under the preview
    assert "customer_contact.years" not in chat.dossier().answers
    assert notices(chat) == []  # nothing goes before the candidate confirms
    chat.press("Mijn antwoorden meesturen").expect("☑ Ook je naam, e-mailadres en antwoorden gaan mee.")
    assert "☑ Mijn antwoorden meesturen" in chat.labels
    chat.press("☑ Mijn antwoorden meesturen").expect("Je naam en je antwoorden gaan niet mee")
    chat.press("Mijn antwoorden meesturen")
    send = chat.token("Ja, stel de vraag")
    chat.press_token(send)
    chat.expect("✅ Je vraag is doorgegeven aan de recruiters. Hun antwoord komt hier, in deze chat.",
                "Let op: dit is geen officiële vraag. Officieel stel je inhoudelijke vragen bij"
                " Flextender", "De vragen en antwoorden worden gepubliceerd op vrijdag 10 juli 2026")
    assert chat.question_id == "customer_contact.years"  # where they were
    [question] = stored_questions(chat)
    assert (question.status, question.include_answers, question.step) == (
        "asked", True, "q:customer_contact.years")
    # The notification carries ids only: rendered when sent, from what is stored then.
    assert notices(chat) == [{"kind": QUESTION_NOTICE, "dossier_id": chat.dossier().id,
                              "payload": {"question_id": question.id}}]
    assert [a["event"] for a in chat.data.audit][-1] == "question_asked"
    assert "Kan ik" not in str(chat.data.audit)

    chat.press_token(send).expect("Die vraag is al doorgegeven")  # a double press
    assert len(notices(chat)) == 1


def test_vraag_with_the_question_after_it_goes_straight_to_the_preview(engine):
    chat = applicant(engine)
    chat.send(Inbound.ask_recruiters("  Is er een proefperiode? ")).expect(
        "“Is er een proefperiode?”", "bij de vraag “Hoe heet je?")
    chat.press("Ja, stel de vraag")
    [question] = stored_questions(chat)
    assert (question.text, question.include_answers) == ("Is er een proefperiode?", False)


def test_only_the_message_right_after_vraag_is_the_question(engine):
    chat = applicant(engine)
    chat.send(Inbound.ask_recruiters()).do("status")
    chat.say("Alice Peeters").expect("Vraag 2 van")
    assert chat.dossier().answers["candidate.name"] == "Alice Peeters"
    assert not chat.dossier().awaiting_question
    chat.send(Inbound.ask_recruiters()).press("Annuleren").expect("Oké, ik stuur niets door.",
                                                                   "Op welk e-mailadres")
    chat.say("alice@example.org").expect("Vraag 3 van")


def test_an_empty_question_is_asked_again(engine):
    chat = applicant(engine)
    chat.send(Inbound.ask_recruiters()).say("👍").expect("Ik zie geen vraag",
                                                        "Wat is je vraag aan de recruiters?")
    chat.say("Wanneer begint de job?").expect("❓ Dit stuur ik naar de recruiters:")


def test_in_english(engine):
    chat = applicant(engine, lang="en")
    chat.say("What is the salary?").expect("That looks like a question. Do you want to ask the"
                                           " recruiters this question?", "What is your name?")
    chat.press("Yes, ask it").expect("Your question has been passed on to the recruiters.")
    chat.send(Inbound("command", command="question")).expect("What is your question for the recruiters?")


def test_without_a_dossier_the_candidate_is_told_and_given_the_contact(engine):
    chat = Chat(engine, "bob")
    chat.send(Inbound.ask_recruiters("Wat is het loon?")).expect(
        "zodra je met een sollicitatie begonnen bent",
        "Je kan ook rechtstreeks contact opnemen:",
        "• Medewerker Intern Service Punt: Flextender, 035-7510777 (vragen over de procedure)",
        "Open vacatures:")
    assert chat.data.candidates == {} and chat.data.questions == {}  # nothing stored
    chat.start(HARDENBERG)  # the privacy notice: still nothing stored
    chat.send(Inbound.ask_recruiters()).expect("zodra je met een sollicitatie begonnen bent")
    assert chat.data.candidates == {}


# ---------------------------------------------------------------- the deadline for questions


def test_hardenbergs_deadline_for_questions_is_honoured(engine, clock):
    clock.set(datetime(2026, 7, 8, 8, 59, tzinfo=AMSTERDAM))
    chat = applicant(engine)
    chat.say(SALARY).expect(OFFER)  # a minute before: still offered
    clock.set(QUESTIONS_CLOSE)
    chat.press("Ja, stel de vraag")
    closed = ("Vragen over Medewerker Intern Service Punt konden gesteld worden tot woensdag"
              " 8 juli 2026, 09:00 (Nederlandse tijd). Die termijn is voorbij")
    published = ("De vragen en antwoorden worden gepubliceerd op vrijdag 10 juli 2026 op de"
                 " website van Flextender; je kan ze inzien door in te loggen met je"
                 " Flextender-account.")
    chat.expect(closed, published, "Contact: Flextender, 035-7510777 (vragen over de procedure)",
                NAME_PROMPT)
    assert stored_questions(chat) == [] and notices(chat) == []

    chat.send(Inbound.ask_recruiters()).expect(closed, published, NAME_PROMPT)
    assert not chat.dossier().awaiting_question
    chat.say(SALARY).expect(closed).expect_not(OFFER)
    assert "candidate.name" not in chat.dossier().answers  # and still not the name
    chat.say("Alice Peeters").expect("Vraag 2 van")  # the application itself runs on


def test_a_question_is_judged_by_when_it_was_typed_and_confirmed(engine, clock):
    chat = applicant(engine)
    clock.set(datetime(2026, 7, 8, 9, 30, tzinfo=AMSTERDAM))
    # Typed at 08:59 and handled at 09:30 (a backlog): judged by when it was typed.
    chat.send(Inbound.say(SALARY).numbered(None, datetime(2026, 7, 8, 8, 59, tzinfo=AMSTERDAM)))
    chat.expect(OFFER)
    # The confirmation came after the deadline (a press has no send time): not relayed.
    chat.press("Ja, stel de vraag").expect("konden gesteld worden tot")
    assert notices(chat) == [] and stored_questions(chat) == []


def test_a_replaced_draft_sends_nothing(engine):
    chat = applicant(engine)
    chat.say(SALARY)
    old = chat.token("Ja, stel de vraag")
    chat.say("Is er een proefperiode?")
    chat.press_token(old).expect("Die knop hoort bij een oudere vraag; er is niets verstuurd.")
    assert notices(chat) == []
    [draft] = stored_questions(chat)
    assert draft.text == "Is er een proefperiode?"


def test_vacancies_without_a_deadline_for_questions_take_them_while_the_file_is_open(engine, clock):
    clock.set(VERA_OPEN)
    chat = applicant(engine, VERA)
    chat.say(SALARY).press("Ja, stel de vraag").expect("✅ Je vraag is doorgegeven").expect_not(
        "officiële vraag", "gepubliceerd")


# ---------------------------------------------------------------- what the recruiters get


def test_the_recruiters_copy_carries_answers_only_when_ticked(engine):
    chat = at(applicant(engine), "customer_contact.years")
    chat.send(Inbound.ask_recruiters("Telt vrijwilligerswerk mee?")).press("Ja, stel de vraag")
    [question] = stored_questions(chat)
    vacancy = vacancies()[HARDENBERG]
    text = question_notice(vacancy, chat.dossier(), question)
    assert text.startswith(f"❓ Vraag van kandidaat #{chat.dossier().id} — Medewerker Intern"
                           " Service Punt · stap: vraag “Jaren werkervaring in een dienstverlenende")
    assert "“Telt vrijwilligerswerk mee?”" in text
    assert "Naam en antwoorden: niet meegestuurd" in text
    assert "Alice" not in text and "alice@example.org" not in text and "hbo" not in text
    assert "Antwoord door op dit bericht te reageren (reply)" in text

    question.include_answers = True
    shared = question_notice(vacancy, chat.dossier(), question)
    assert "Kandidaat: Alice Peeters <alice@example.org>" in shared
    assert "• Hoogste diploma → hbo (bachelor)" in shared


def test_a_question_asked_while_collecting_names_the_step(engine, clock):
    clock.set(VERA_OPEN)
    chat = applicant(engine, VERA)
    chat.answer_all({"candidate.name": "Alice Peeters", "candidate.email": "alice@example.org",
                     "diploma.level": "Master", "diploma.foreign": "Nee",
                     "language.dutch_education": "Ja"})
    chat.send(Inbound.ask_recruiters("Mag de motivatie in het Engels?")).press("Ja, stel de vraag")
    [question] = stored_questions(chat)
    text = question_notice(vacancies()[VERA], chat.dossier(), question)
    assert "· stap: documenten nog niet volledig" in text


# ---------------------------------------------------------------- the answer comes back


def asked(engine, lang: str = "nl") -> tuple[Chat, int]:
    chat = applicant(engine, lang=lang)
    chat.send(Inbound.ask_recruiters(SALARY)).press("Yes, ask it" if lang == "en"
                                                    else "Ja, stel de vraag")
    [question] = stored_questions(chat)
    return chat, question.id


def messages_to(chat: Chat, chat_key: str) -> list[str]:
    return [m["text"] for o in chat.data.outbox if o["kind"] == "message"
            and o.get("chat_key", "recruiters") == chat_key for m in o["payload"]["messages"]]


def test_the_recruiters_answer_reaches_the_candidate_and_is_kept_with_the_dossier(engine):
    chat, question_id = asked(engine)
    relay = engine.relay_answer
    assert relay("test", "alice", question_id, "Schaal 9; het uurtarief noem je zelf.", "999",
                 event_id=501) == "relayed"
    assert relay("test", "alice", question_id, "Schaal 9; het uurtarief noem je zelf.", "999",
                 event_id=501) == "duplicate"  # the same update again
    assert relay("test", "alice", question_id, "Aanvulling: reiskosten niet.", "998",
                 event_id=502) == "relayed"  # a second reply is forwarded too
    assert messages_to(chat, "alice") == [
        f"💬 Antwoord van de recruiters op je vraag “{SALARY}”:\n\nSchaal 9; het uurtarief noem"
        " je zelf.",
        f"💬 Antwoord van de recruiters op je vraag “{SALARY}”:\n\nAanvulling: reiskosten niet."]
    assert messages_to(chat, "recruiters") == [
        f"✅ Doorgestuurd naar kandidaat #{chat.dossier().id}."] * 2
    answers = sorted(chat.data.answers.values(), key=lambda a: a.id)
    assert [(a.question_id, a.text, a.answered_by) for a in answers] == [
        (question_id, "Schaal 9; het uurtarief noem je zelf.", "999"),
        (question_id, "Aanvulling: reiskosten niet.", "998")]
    assert [a["event"] for a in chat.data.audit].count("question_answered") == 2


def test_the_answer_comes_in_the_candidates_language(engine):
    chat, question_id = asked(engine, lang="en")
    engine.relay_answer("test", "alice", question_id, "Scale 9.", "999", event_id=7)
    assert messages_to(chat, "alice") == [
        f"💬 The recruiters' answer to your question “{SALARY}”:\n\nScale 9."]
    assert messages_to(chat, "recruiters") == [
        f"✅ Doorgestuurd naar kandidaat #{chat.dossier().id}."]  # the recruiters read Dutch


def test_withdrawal_erases_questions_and_answers_and_later_replies_go_nowhere(engine):
    chat, question_id = asked(engine)
    engine.relay_answer("test", "alice", question_id, "Schaal 9.", "999", event_id=1)
    dossier_id = chat.dossier().id
    chat.do("withdraw").press("Ja, trek in en wis").expect("is ingetrokken")
    assert chat.data.questions == {} and chat.data.answers == {}
    # The recruiters' chat holds the question: they are asked to delete it.
    assert chat.data.outbox[-1] == {"kind": "dossier_withdrawn", "dossier_id": dossier_id,
                                    "payload": {"dossier_id": dossier_id, "delete": [],
                                                "older": 0}}
    assert engine.relay_answer("test", "alice", question_id, "Nog iets.", "999",
                               event_id=2) == "gone"
    assert messages_to(chat, "recruiters")[-1].startswith("⚠️ Niet doorgestuurd: die vraag"
                                                          " bestaat niet meer")
    assert len(messages_to(chat, "alice")) == 1  # only the first answer ever went out


def test_an_unconfirmed_draft_is_no_question(engine):
    chat = applicant(engine)
    chat.say(SALARY)
    [draft] = stored_questions(chat)
    assert engine.relay_answer("test", "alice", draft.id, "?", "999", event_id=3) == "gone"
    assert not messages_to(chat, "alice")


def test_another_candidates_question_is_never_answered_to_this_one(engine):
    _alice, question_id = asked(engine)
    bob = applicant(engine, user="bob")
    assert engine.relay_answer("test", "bob", question_id, "Schaal 9.", "999", event_id=9) == "gone"
    assert messages_to(bob, "bob") == [] and bob.data.answers == {}


def test_a_stale_question_button_of_another_application_changes_nothing(engine, clock):
    chat = applicant(engine)
    chat.say(SALARY)
    token = next(t for t in chat.tokens if t.endswith(":send"))
    clock.set(VERA_OPEN.replace(year=2026, month=7, day=2))
    chat.start(VERA).press("Akkoord")
    chat.press_token(token).expect("Die knop hoort bij een ander of ouder bericht")
    assert notices(chat) == []


def test_an_answer_with_nothing_left_once_cleaned_is_not_sent(engine):
    chat, question_id = asked(engine)
    assert engine.relay_answer("test", "alice", question_id, "\u202e\x1b[2J \u200b",
                               "999", event_id=11) == "empty"
    assert messages_to(chat, "alice") == [] and chat.data.answers == {}
    assert messages_to(chat, "recruiters") == [
        "⚠️ Niet doorgestuurd: alleen tekst kan ik doorsturen. Typ je antwoord als reply op de"
        " vraag."]


def test_a_long_answer_is_kept_whole(engine):
    chat, question_id = asked(engine)
    long_answer = "Dat hangt ervan af. " * 300  # 6,000 characters: more than one message
    engine.relay_answer("test", "alice", question_id, long_answer, "999", event_id=12)
    [stored] = chat.data.answers.values()
    assert stored.text == long_answer.strip()
    [sent] = messages_to(chat, "alice")
    assert sent.endswith(long_answer.strip())  # split into messages when sent, never cut


def test_a_refused_file_after_vraag_ends_the_wait_for_the_question(engine):
    chat = applicant(engine)
    chat.send(Inbound.ask_recruiters())
    assert chat.dossier().awaiting_question
    refusal = engine.check_upload(chat.sender, Upload("virus.exe", "application/x-msdownload", 10),
                                  event_id=77, durable=True)
    assert refusal
    assert not chat.dossier().awaiting_question
    chat.say("Alice Peeters").expect("Vraag 2 van")
