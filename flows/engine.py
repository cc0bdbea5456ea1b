"""The conversation engine: `handle(sender, inbound) -> list[Reply]`, transport-agnostic.

One call is one unit of work: the candidate's rows are read and locked, the event applied
through the vacancy's flow machine, everything written and committed — and only then are the
replies returned, so nothing the bot acknowledges can be lost. Nothing is stored for someone
who has not accepted the privacy notice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flows import replies as R
from flows.decisions import Press
from flows.events import Inbound, Reply, Sender, Upload, outgoing
from flows.flow import Flow
from flows.ports import DossierStore, FileStore, UnitOfWork
from flows.turn_answers import Answers
from flows.turn_commands import Commands
from flows.turn_consent import PRIVACY_VERSION, Consent
from flows.turn_deadlines import Deadlines, reminder_at
from flows.turn_decisions import Decisions
from flows.turn_documents import ALBUM_WINDOW, Documents, file_type
from flows.turn_privacy import Privacy
from flows.turn_questions import QUESTION_NOTICE, Questions
from flows.vacancy import Vacancy

__all__ = ["ALBUM_WINDOW", "PRIVACY_VERSION", "QUESTION_NOTICE", "Engine", "file_type",
           "queue_replies", "reminder_at"]


class Engine:
    def __init__(self, vacancies: dict[str, Vacancy], store: DossierStore, files: FileStore,
                 clock: Callable[[], datetime]) -> None:
        self.vacancies = vacancies
        self.flows = {vid: Flow(v) for vid, v in vacancies.items()}
        self.by_key = {R.vacancy_key(vid): vid for vid in vacancies}
        self.store = store
        self.files = files
        self.clock = clock

    def handle(self, sender: Sender, inbound: Inbound, durable: bool = False) -> list[Reply]:
        """Apply one event and return the replies. `durable`: the replies are also written to
        the outbox, to `sender.chat_id`, in the same transaction as the change they answer —
        so a crash after the commit neither loses nor repeats them."""
        now = self.clock()
        turn: _Turn | None = None
        try:
            with self.store.unit_of_work(sender.channel, sender.external_id) as uow:
                turn = _Turn(self, uow, sender, now, inbound.sent_at)
                known = turn.candidate is not None
                if known and not turn.claim(inbound.event_id):
                    return []  # re-delivered after a crash: applied and answered already
                result = turn.dispatch(inbound)
                if not known:
                    turn.claim(inbound.event_id)  # the consent itself is not applied twice
                if durable:
                    queue_replies(uow, sender, result)
        except BaseException:
            # The transaction rolled back: files stored during it belong to nothing.
            if turn is not None:
                for path in turn.new_files:
                    self.files.delete(path)
            raise
        for path in turn.obsolete_files:
            self.files.delete(path)
        return result

    def sweep(self, sender: Sender, dossier_id: int, reminder_days: tuple[int, ...],
              durable: bool = False) -> list[Reply]:
        """Expire an unfinished dossier whose vacancy closed, or remind its candidate once.

        Called for every unfinished dossier by the bot's periodic job (and at start-up, so a
        reminder that fell due while the process was down still goes out, once). `durable`:
        the message is queued in the outbox with the change that records it was sent.
        """
        with self.store.unit_of_work(sender.channel, sender.external_id) as uow:
            turn = _Turn(self, uow, sender, self.clock())
            dossier = uow.dossier(dossier_id)
            if (dossier is None or dossier.status not in ("draft", "collecting")
                    or dossier.vacancy_id not in self.vacancies):
                return []
            turn.dossier = dossier
            turn.lang = dossier.language
            replies = turn.sweep(reminder_days)
            if durable:
                queue_replies(uow, sender, replies)
            return replies

    def relay_answer(self, channel: str, external_id: str, question_id: int, text: str,
                     answered_by: str | None = None, event_id: int | None = None) -> str:
        """A recruiter's answer to the candidate's question `question_id`, in the candidate's
        unit of work: stored with the dossier, queued to their chat in their language and
        confirmed to the recruiters, in one transaction, once per `event_id`. Returns
        "relayed", "gone" (the question was erased meanwhile) or "duplicate"."""
        with self.store.unit_of_work(channel, external_id) as uow:
            turn = _Turn(self, uow, Sender(channel, external_id), self.clock())
            return turn.relay_answer(question_id, text, answered_by, event_id)

    def decide(self, channel: str, external_id: str, press: Press, decided_by: str,
               by_name: str, event_id: int | None = None) -> str:
        """A recruiter's confirmed decision on the candidate's dossier `press.dossier_id`, in
        the candidate's unit of work: recorded (who, when), the candidate told in their
        language and the recruiters' chat told who decided — in one transaction, once per
        `event_id`. Returns "decided", "gone", "stale", "invalid" or "duplicate"."""
        with self.store.unit_of_work(channel, external_id) as uow:
            turn = _Turn(self, uow, Sender(channel, external_id), self.clock())
            return turn.decide(press, decided_by, by_name, event_id)

    def check_upload(self, sender: Sender, upload: Upload, sent_at: datetime | None = None,
                     event_id: int | None = None, durable: bool = False) -> list[Reply]:
        """Before downloading: replies that refuse this file, or [] when it is acceptable.
        A refusal with `durable` is queued and the event recorded as applied, at once."""
        with self.store.unit_of_work(sender.channel, sender.external_id) as uow:
            turn = _Turn(self, uow, sender, self.clock(), sent_at)
            refusal = turn.refuse_upload(upload) or []
            if refusal and durable:
                if not turn.claim(event_id):
                    return []  # refused and answered before a crash: `handle` will see that
                if turn.dossier is not None and turn.dossier.awaiting_question:
                    turn.dossier.awaiting_question = False  # a file is no question
                    turn.save()
                queue_replies(uow, sender, refusal)
            return refusal


def queue_replies(uow: UnitOfWork, sender: Sender, replies: list[Reply]) -> None:
    """Put the replies in the outbox, addressed to the sender's chat, in this transaction."""
    if replies:
        chat = sender.chat_id or sender.external_id
        uow.add_outbox("message", None, {"chat_id": chat, "messages": outgoing(replies)},
                       chat_key=chat)


class _Turn(Consent, Answers, Commands, Documents, Deadlines, Questions, Privacy, Decisions):
    """One event, with every part of a turn."""
