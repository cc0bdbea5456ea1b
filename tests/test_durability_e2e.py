"""Durability, end to end: the real `python main.py run` process (polling) against the fake Bot
API over HTTP, killed at the moments that matter.

- SIGKILL right after an update is stored (failpoint `received`) or right after an answer and
  its replies commit (failpoint `committed`): after a restart the answer is applied once and the
  next question arrives once — exactly what a candidate sees without the crash.
- An update python-telegram-bot cannot parse is quarantined (visible in the database, its
  sender asked to resend, no content in the log), the bot carries on without spinning, and a
  restart does not handle it again.
- A second process polling the same token: the one that loses says so once, calmly, and every
  candidate is still answered once.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.db_fixtures import TemporaryPostgres, opened
from tests.process_harness import VACANCY, Harness, running_harness, texts, wait_for

PRIVACY = "We bewaren niets tot je hieronder akkoord gaat"
DIPLOMA = "Wat is je hoogste behaalde diploma?"
UNREADABLE = "Dat bericht kon ik niet lezen"
CONFLICT_LOGGED = "another instance is polling"
MAX_POLL = 2.0  # the fake's long poll: a clean stop waits for at most one


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, users=(111, 222), max_poll_seconds=MAX_POLL) as h:
        yield h


def transcript(h: Harness, user: int) -> list[tuple[str, list[str]]]:
    return [(m.text or "", m.labels()) for m in h.tg.messages_to(user)]


def dossier(h: Harness, user: int) -> tuple[int, dict[str, Any]]:
    """(version, answers) of the user's one dossier, read from the bot's database."""
    rows = h.query("SELECT d.version, d.answers FROM dossier d JOIN candidate c "
                   "ON c.id = d.candidate_id WHERE c.external_id = :user", user=str(user))
    assert len(rows) == 1, rows
    version, answers = rows[0]
    answers = json.loads(answers) if isinstance(answers, str) else answers
    return version, opened(h.db, answers)  # sealed with the candidate's key


def inbox_rows(h: Harness, update_id: int) -> list[str]:
    return [r.status for r in h.query("SELECT status FROM inbox WHERE update_id = :u",
                                      u=update_id)]


def to_email_question(h: Harness, user: int, name: str) -> None:
    h.send(user, f"/start {VACANCY}", PRIVACY)
    h.press(user, "Akkoord", "Hoe heet je?")
    h.send(user, name, "e-mailadres")


@pytest.mark.parametrize("moment", ["received", "committed"])
def test_sigkill_between_receipt_and_reply_applies_the_answer_once(harness: Harness,
                                                                   moment: str):
    h = harness
    h.start()
    # The reference: what a candidate sees when nothing crashes.
    to_email_question(h, 222, "Bram Wouters")
    version_222, _ = dossier(h, 222)
    seen = len(h.tg.messages_to(222))
    h.send(222, "bram@example.be", DIPLOMA)
    h.press(222, "Master", "buitenland")
    h.wait_settled()
    expected = transcript(h, 222)[seen:]
    expected_versions = dossier(h, 222)[0] - version_222

    # The candidate whose answer meets the crash.
    to_email_question(h, 111, "Lena Peeters")
    h.wait_settled()
    version_111, answers = dossier(h, 111)
    assert "lena@example.be" not in json.dumps(answers)
    seen = len(h.tg.messages_to(111))
    h.kill()

    dying = h.start(INTAKE_FAILPOINTS=moment)
    answer = h.post(lambda: h.tg.text_update(111, "lena@example.be"))
    assert dying.wait() == -9, dying.log_text()  # it killed itself at the failpoint
    update_id = answer["update_id"]
    assert len(h.tg.messages_to(111)) == seen  # nothing sent before the death
    if moment == "received":
        assert inbox_rows(h, update_id) == ["pending"]  # stored, not marked handled
        assert dossier(h, 111)[0] == version_111  # not applied
        assert answer in h.tg.updates  # never confirmed: Telegram will deliver it again
    else:
        version, answers = dossier(h, 111)
        assert version > version_111 and "lena@example.be" in json.dumps(answers)  # applied
        # ... and its inbox row marked done in that same commit: it is never handled again.
        assert inbox_rows(h, update_id) == ["done"]
        unsent = h.query("SELECT count(*) FROM outbox WHERE chat_key = '111' "
                         "AND sent_at IS NULL")[0][0]
        assert unsent > 0  # the reply waits in the outbox

    h.start()  # (re-delivered, the update is recognised: the inbox holds it once)
    wait_for(lambda: DIPLOMA in texts(h.tg.messages_to(111)[seen:]), "the next question")
    h.press(111, "Master", "buitenland")
    h.wait_settled()

    assert transcript(h, 111)[seen:] == expected  # exactly what a candidate sees without crash
    assert sum(DIPLOMA in (m.text or "") for m in h.tg.messages_to(111)) == 1
    version, answers = dossier(h, 111)
    assert version - version_111 == expected_versions  # each answer applied once
    assert "lena@example.be" in json.dumps(answers)
    assert inbox_rows(h, update_id) == ["done"]


def test_unparseable_update_is_quarantined_and_the_bot_carries_on(harness: Harness):
    h = harness
    h.tg.add_user(333, first_name="Zoë Poisonberg")
    h.start()
    polls = h.server.polls
    # A forwarded story as a future Bot API might shape it (Bot API 7.1 already reshaped Story
    # once, from {} to {chat, id}): python-telegram-bot 22.8 cannot build a Story without
    # `chat`, so Update.de_json raises.
    sender = {"id": 333, "is_bot": False, "first_name": "Zoë", "last_name": "Poisonberg",
              "language_code": "nl"}
    poison = h.server.push_update({"message": {
        "message_id": 90001, "date": 1767225600, "from": sender,
        "chat": {"id": 333, "type": "private", "first_name": "Zoë", "last_name": "Poisonberg"},
        "story": {"id": 7, "poster": {"id": 333, "type": "user", "name": "Zoë Poisonberg"}},
    }})
    h.send(111, f"/start {VACANCY}", PRIVACY)  # the next update is answered
    wait_for(lambda: UNREADABLE in texts(h.tg.messages_to(333)), "the sender asked to resend")
    h.wait_settled()
    assert inbox_rows(h, poison["update_id"]) == ["quarantined"]
    assert f"update {poison['update_id']} quarantined" in h.process.log_text()

    h.stop()  # a clean restart, and Telegram delivers the update again
    h.start()
    h.server.redeliver(poison)
    h.send(333, f"/start {VACANCY}", PRIVACY)  # the sender is not stuck behind it
    h.wait_settled()
    assert inbox_rows(h, poison["update_id"]) == ["quarantined"]  # stored once, not handled
    assert texts(h.tg.messages_to(333)).count(UNREADABLE) == 1
    assert len(h.tg.messages_to(111)) == 1 and PRIVACY in texts(h.tg.messages_to(111))
    assert h.server.polls - polls < 50  # waited for updates: no getUpdates storm
    for log in h.logs():
        assert "Poisonberg" not in log and "Zoë" not in log  # personal data stays out


@pytest.fixture
def postgres_url(postgres: TemporaryPostgres) -> str:
    if postgres.error is not None:
        pytest.skip(postgres.skip_reason)
    return postgres.fresh_url()


def test_second_poller_on_the_same_token_backs_off_once(tmp_path: Path, postgres_url: str):
    users = (111, 222, 333, 444)
    with running_harness(tmp_path, users=users, database_url=postgres_url,
                         max_poll_seconds=MAX_POLL) as h:
        polls = h.server.polls
        first = h.start()
        second = h.start(wait_polling=False)  # its getUpdates ends the first one's: 409
        wait_for(lambda: h.server.conflicts >= 1, "Telegram to end the older getUpdates",
                 seconds=60)
        # Usually the first process loses; the second, if its request arrived just as the
        # first one's long poll ended and the first one's next request followed.
        wait_for(lambda: any(CONFLICT_LOGGED in log for log in h.logs()), "the loser to say so")
        loser, winner = (first, second) if CONFLICT_LOGGED in first.log_text() else (second,
                                                                                      first)

        for user in users:  # all at once: both processes' workers take them
            h.post(lambda u=user: h.tg.text_update(u, f"/start {VACANCY}"))
        for user in users:
            wait_for(lambda u=user: PRIVACY in texts(h.tg.messages_to(u)), f"{user} answered")
        for user in users:
            h.press(user, "Akkoord", "Hoe heet je?")
        h.wait_settled()
        h.wait_polls(2)  # a few seconds more of both running side by side

        assert first.running and second.running  # the loser keeps serving the database
        assert loser.log_text().count(CONFLICT_LOGGED) == 1  # said once, not per attempt
        assert CONFLICT_LOGGED not in winner.log_text()
        assert h.server.conflicts == 1  # the loser did not come back to fight
        assert h.server.polls - polls < 30  # no getUpdates storm
        for user in users:
            sent = [m.text or "" for m in h.tg.messages_to(user)]
            assert sum(PRIVACY in t for t in sent) == 1, sent
            assert sum("Hoe heet je?" in t for t in sent) == 1, sent


def test_sigterm_during_a_long_poll_stops_promptly(tmp_path: Path):
    with running_harness(tmp_path, users=(111,), max_poll_seconds=25) as h:  # as Telegram
        process = h.start()
        h.send(111, f"/start {VACANCY}", PRIVACY)
        h.wait_settled()  # and the next getUpdates is waiting
        process.popen.send_signal(signal.SIGTERM)
        try:
            returncode = process.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("SIGTERM took more than 5 s: the long poll was waited out") \
                from None
        assert returncode == 0
