"""End to end: the real `python main.py run` process against a fake Bot API over HTTP.

A candidate completes an application with uploads and the recruiters receive the notification
with the documents. Then the process is SIGKILLed in the middle of another conversation and
started again: nothing the bot had acknowledged is lost and nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.process_harness import PDF, RECRUITERS, VACANCY, Harness, running_harness, texts, wait_for


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, users=(111, 222)) as h:
        yield h


def test_full_application_then_sigkill_and_restart_loses_and_repeats_nothing(harness: Harness):
    h = harness
    h.start()
    assert set(h.tg.commands) == {"", "nl", "en"}  # the command menu was set at start-up

    # 1. A whole application with uploads, through the real process.
    h.send(111, f"/start {VACANCY}", "We bewaren niets tot je hieronder akkoord gaat")
    h.press(111, "Akkoord", "Hoe heet je?")
    h.send(111, "Lena Peeters", "e-mailadres")
    h.send(111, "lena@example.be", "hoogste behaalde diploma")
    h.press(111, "Master", "buitenland")
    h.press(111, "Nee", "Nederlandstalige opleiding")
    h.press(111, "Ja", "Stuur nu je cv")
    assert "Volgens je antwoorden voldoe je aan" in texts(h.tg.messages_to(111))
    h.upload(111, "cv-lena.pdf", "Stuur nu je motivatiebrief")
    h.upload(111, "motivatie-lena.pdf", "Stuur nu je kopie van je diploma")
    h.upload(111, "diploma-lena.pdf", "is volledig en doorgestuurd")
    wait_for(lambda: len(h.tg.messages_to(RECRUITERS)) >= 4, "the recruiter notification")
    recruiters = h.tg.messages_to(RECRUITERS)
    assert "Lena Peeters" in (recruiters[0].text or "")
    assert sorted(m.document["file_name"] for m in recruiters if m.document) == [
        "cv-lena.pdf", "diploma-lena.pdf", "motivatie-lena.pdf"]
    assert all(m.document["data"] == PDF for m in recruiters if m.document)

    # 2. Another candidate; the process dies right after an acknowledged answer.
    h.send(222, f"/start {VACANCY}", "Privacy")
    h.press(222, "Akkoord", "Hoe heet je?")
    h.send(222, "Bram Wouters", "e-mailadres")
    h.send(222, "bram@example.be", "Wat is je hoogste behaalde diploma?")  # acknowledged
    # Killed once the reply is recorded as sent. (A kill in the millisecond between Telegram
    # accepting a message and that record repeats that one message: Telegram cannot be asked
    # whether it arrived. The failpoint tests kill at the other moments.)
    wait_for(h.settled, "the reply to be recorded as sent")
    h.kill()
    sent_before_restart = len(h.tg.sent)

    h.start()
    h.wait_polls(1)  # a whole long poll with nothing to deliver: start-up is over
    # Nothing is replayed at start-up: no message goes out until someone writes.
    assert len(h.tg.sent) == sent_before_restart
    h.press(222, "Master", "buitenland")  # continues exactly where it was
    h.press(222, "Nee", "Nederlandstalige opleiding")
    h.press(222, "Ja", "Stuur nu je cv")
    h.upload(222, "cv-bram.pdf", "Stuur nu je motivatiebrief")
    h.upload(222, "motivatie-bram.pdf", "Stuur nu je kopie van je diploma")
    h.upload(222, "diploma-bram.pdf", "is volledig en doorgestuurd")
    wait_for(lambda: len(h.tg.messages_to(RECRUITERS)) >= 8, "the second notification")
    summaries = [m.text for m in h.tg.messages_to(RECRUITERS) if m.text]
    assert len(summaries) == 2  # one per dossier: nothing sent twice
    assert "Bram Wouters <bram@example.be>" in summaries[1]  # the answers from before the kill
    documents = [m.document["file_name"] for m in h.tg.messages_to(RECRUITERS) if m.document]
    assert len(documents) == len(set(documents)) == 6
    questions = [m.text for m in h.tg.messages_to(222) if m.text and "Vraag" in m.text]
    assert len(questions) == len(set(questions))  # no question asked twice
