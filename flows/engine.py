"""The conversation engine: `handle(sender, inbound) -> list[Reply]`, transport-agnostic.

One call is one unit of work: the candidate's rows are read and locked, the event applied
through the vacancy's flow machine, everything written and committed — and only then are the
replies returned, so nothing the bot acknowledges can be lost. Nothing is stored for someone
who has not accepted the privacy notice.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows import replies as R
from flows.answers import parse_text
from flows.eligibility import Status, Verdict, evaluate
from flows.events import Choice, Inbound, Reply, Sender, Upload, outgoing
from flows.flow import (
    COLLECTING,
    EXPIRED,
    KNOCKED_OUT,
    PRIVACY,
    SUBMITTED,
    WITHDRAWN,
    Flow,
    q_state,
    status_of,
)
from flows.messages import LANGUAGES, Msg, normalise_language, render
from flows.ports import (
    CandidateRecord,
    DocumentRecord,
    DossierRecord,
    DossierStore,
    FileStore,
    UnitOfWork,
)
from flows.questions import IDENTITY, Question, next_question
from flows.text_cleaning import clean_text, display_name
from flows.vacancy import CriminalRecordRule, Vacancy

log = logging.getLogger(__name__)

PRIVACY_VERSION = "2026-11-22"
REMINDER_EARLIEST_HOUR = 9
REMINDER_IDLE = timedelta(hours=1)  # no reminder to someone who is answering right now
# A message sent before the deadline but handled after it (a backlog, a restart, a slow
# download) still counts, if handled within this grace period; expiry waits for it too.
DEADLINE_GRACE = timedelta(hours=1)
ALBUM_WINDOW = timedelta(seconds=30)  # Telegram delivers an album's pages within seconds
IDENTITY_IDS = {q.id for q in IDENTITY}
BULK = "_bulk"  # in answers: which matrix items one "rest of the list" tap filled
MEDIA_TYPES = {
    "pdf": {"application/pdf"},
    "jpg": {"image/jpeg"},
    "png": {"image/png"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    "doc": {"application/msword"},
    "odt": {"application/vnd.oasis.opendocument.text"},
}


def file_type(upload: Upload) -> str | None:
    """The document type by the file's extension, else by its media type (photos have none)."""
    suffix = Path(upload.file_name).suffix.lower().lstrip(".")
    if suffix == "jpeg":
        suffix = "jpg"
    if suffix in MEDIA_TYPES:
        return suffix
    for kind, types in MEDIA_TYPES.items():
        if upload.media_type in types:
            return kind
    return None


def reminder_at(vacancy: Vacancy, days_before: int) -> datetime:
    """When the reminder `days_before` the deadline is due: that moment, but not before 09:00
    local time (a whole-day deadline closes at midnight; nobody wants a message then)."""
    closes = vacancy.closes_at()
    assert closes is not None
    due = (closes - timedelta(days=days_before)).astimezone(vacancy.zone)
    if due.hour < REMINDER_EARLIEST_HOUR:
        due = due.replace(hour=REMINDER_EARLIEST_HOUR, minute=0, second=0, microsecond=0)
    return min(due, closes).astimezone(UTC)


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
                queue_replies(uow, sender, refusal)
            return refusal


def queue_replies(uow: UnitOfWork, sender: Sender, replies: list[Reply]) -> None:
    """Put the replies in the outbox, addressed to the sender's chat, in this transaction."""
    if replies:
        chat = sender.chat_id or sender.external_id
        uow.add_outbox("message", None, {"chat_id": chat, "messages": outgoing(replies)},
                       chat_key=chat)


@dataclass
class _Turn:
    """Everything about one event: the candidate, their dossier, the replies."""

    engine: Engine
    uow: UnitOfWork
    sender: Sender
    now: datetime
    sent_at: datetime | None = None
    new_files: list[str] = field(default_factory=list)
    obsolete_files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.candidate = self.uow.candidate()
        self.lang = (self.candidate.language if self.candidate
                     else normalise_language(self.sender.language_code))
        self.dossier: DossierRecord | None = None
        if self.candidate and self.candidate.active_dossier_id:
            self.dossier = self.uow.dossier(self.candidate.active_dossier_id)
            if self.dossier is not None and self.dossier.vacancy_id not in self.engine.vacancies:
                # Its vacancy file was retired: that application can no longer move.
                self.candidate.active_dossier_id = None
                self.uow.save_candidate(self.candidate)
                self.dossier = None
        # The deadline is judged by when the candidate sent the message.
        sent = self.sent_at
        self.deadline_now = (sent if sent is not None and timedelta(0) <= self.now - sent
                             <= DEADLINE_GRACE else self.now)

    def is_open(self, vacancy: Vacancy) -> bool:
        return vacancy.is_open(self.deadline_now)

    def claim(self, event_id: int | None) -> bool:
        """Claim the event in this transaction: applied and remembered, or neither. Only for
        known candidates — nothing is stored for someone who has not accepted the notice."""
        if event_id is None or self.candidate is None:
            return True
        return self.uow.claim_event(event_id)

    # ------------------------------------------------------------------ dispatch

    def dispatch(self, inbound: Inbound) -> list[Reply]:
        if inbound.kind == "start":
            return self.start(inbound.text)
        if inbound.kind == "command":
            return self.command(inbound.command or "")
        if inbound.kind == "press":
            return self.press(inbound.token or "")
        if inbound.kind == "failed":
            # Show where they are, so nothing they repeat lands on a question they did not see.
            return [self.say(Msg("error.try_again")), *self.prompt()]
        if inbound.kind == "unusable":
            return self.prompt((Msg(f"unusable.{inbound.text}"),))
        expired = self.expire_if_closed()
        if expired:
            return expired
        if inbound.kind == "text":
            # Control characters, escape sequences and bidi overrides never reach storage,
            # a recruiter's summary or a terminal.
            return self.text(clean_text(inbound.text or ""))
        if inbound.kind == "upload" and inbound.upload:
            return self.upload(inbound.upload)
        return [self.say(Msg("error.unknown_event"))]

    # ------------------------------------------------------------------ helpers

    def say(self, *parts: Any, choices: tuple[Choice, ...] = ()) -> Reply:
        return Reply(self.lang, parts, choices, expects="choice" if choices else "nothing")

    @property
    def vacancy(self) -> Vacancy:
        assert self.dossier is not None
        return self.engine.vacancies[self.dossier.vacancy_id]

    @property
    def flow(self) -> Flow:
        assert self.dossier is not None
        return self.engine.flows[self.dossier.vacancy_id]

    def verdict(self) -> Verdict:
        assert self.dossier is not None
        return evaluate(self.vacancy, self.dossier.answers, self.now)

    def move(self, trigger: str, target: str, event: str | None = None) -> None:
        d = self.dossier
        assert d is not None
        before = d.state
        d.state = self.flow.fire(trigger, d.state, target)
        d.status = status_of(d.state)
        d.updated_at = self.now
        self.uow.audit(d.id, event or trigger, {"from": before, "to": d.state})

    def save(self, verdict: Verdict | None = None) -> None:
        assert self.dossier is not None
        if verdict is not None:
            self.dossier.verdict = R.verdict_summary(verdict)
        self.dossier.updated_at = self.now
        self.uow.save_dossier(self.dossier)

    def vacancy_list(self, intro: str = "vacancies.intro") -> Reply:
        return R.vacancy_list(list(self.engine.vacancies.values()), self.now, self.lang, Msg(intro))

    def active(self) -> bool:
        return self.dossier is not None and self.dossier.status in ("draft", "collecting")

    # ------------------------------------------------------------------ closed vacancies

    def closed_since(self, vacancy: Vacancy) -> Msg:
        return Msg("vacancy.closed", {"title": vacancy.title,
                                      "since": R.when_text(vacancy, self.lang)})

    def expire_if_closed(self) -> list[Reply] | None:
        """A closed vacancy takes no new answers or documents: the dossier expires, once."""
        d = self.dossier
        if d is None or self.is_open(self.vacancy):
            return None
        if d.status in ("draft", "collecting"):
            self.move("expire", EXPIRED)
            self.save()
            return [self.say(self.closed_since(self.vacancy), Msg("dossier.expired")),
                    self.vacancy_list("vacancies.others")]
        if d.status in ("expired", "ineligible"):
            return [self.say(self.closed_since(self.vacancy)), self.vacancy_list("vacancies.others")]
        return None

    def sweep(self, reminder_days: tuple[int, ...]) -> list[Reply]:
        d = self.dossier
        assert d is not None
        vacancy = self.vacancy
        if not vacancy.is_open(self.now - DEADLINE_GRACE):  # after the backlog had its chance
            self.move("expire", EXPIRED)
            self.save()
            return [self.say(self.closed_since(vacancy), Msg("dossier.expired"))]
        if not vacancy.is_open(self.now):
            return []  # closed, within the grace hour: no reminder, no expiry yet
        closes = vacancy.closes_at()
        if closes is None:
            return []
        due = [n for n in reminder_days if self.now.astimezone(UTC) >= reminder_at(vacancy, n)]
        fresh = [f"{n}d" for n in due if f"{n}d" not in d.reminders_sent]
        if not fresh or self.now - d.updated_at < REMINDER_IDLE:
            return []  # nothing due, or they are busy with it right now
        # After downtime several may be due at once: send one, mark them all.
        d.reminders_sent = [*d.reminders_sent, *fresh]
        self.save()
        self.uow.audit(d.id, "reminder", {"sent": fresh})
        reminder = Msg("reminder", {"title": vacancy.title,
                                    "deadline": R.deadline_line(vacancy, self.now, self.lang)})
        # No question re-asked out of the blue: a button brings them back to where they were.
        return [self.say(reminder, choices=(
            Choice(f"v:{R.vacancy_key(vacancy.id)}:{self.lang}", Msg("btn.continue")),))]

    # ------------------------------------------------------------------ start & vacancies

    def start(self, payload: str | None) -> list[Reply]:
        payload = (payload or "").strip()
        if payload:
            return self.choose_vacancy(payload.strip())
        if self.active():
            expired = self.expire_if_closed()
            if expired:
                return expired
            return [self.say(Msg("welcome.back", {"title": self.vacancy.title})), *self.prompt()]
        return [self.vacancy_list("welcome")]

    def choose_vacancy(self, vacancy_id: str) -> list[Reply]:
        vacancy = self.engine.vacancies.get(vacancy_id)
        if vacancy is None:
            return [self.say(Msg("vacancy.unknown", {"id": vacancy_id[:64]})),
                    self.vacancy_list("vacancies.others")]
        existing = self.uow.dossier_for(vacancy.id) if self.candidate else None
        if existing is not None and existing.status != "withdrawn":
            self.activate(existing)
            expired = self.expire_if_closed()
            if expired:
                return expired
            return [self.say(Msg("welcome.back", {"title": vacancy.title})), *self.prompt()]
        if not self.is_open(vacancy):
            return [self.say(self.closed_since(vacancy)), self.vacancy_list("vacancies.others")]
        if self.candidate is not None and self.candidate.active_dossier_id is not None:
            # Until they accept, nothing they type belongs to the application they left.
            self.candidate.active_dossier_id = None
            self.uow.save_candidate(self.candidate)
            self.dossier = None
        return [R.privacy_notice(vacancy, self.lang)]

    def activate(self, dossier: DossierRecord) -> None:
        assert self.candidate is not None
        self.dossier = dossier
        if self.candidate.active_dossier_id != dossier.id:
            self.candidate.active_dossier_id = dossier.id
            self.uow.save_candidate(self.candidate)

    def accept_privacy(self, vacancy_id: str) -> list[Reply]:
        vacancy = self.engine.vacancies[vacancy_id]
        if not self.is_open(vacancy):
            return [self.say(self.closed_since(vacancy)), self.vacancy_list("vacancies.others")]
        if self.candidate is None:
            self.candidate = self.uow.add_candidate(CandidateRecord(
                id=None, channel=self.sender.channel, external_id=self.sender.external_id,
                chat_id=self.sender.chat_id, language=self.lang, created_at=self.now))
        existing = self.uow.dossier_for(vacancy_id)
        flow = self.engine.flows[vacancy_id]
        first = q_state(flow.questions[0])
        if existing is None:
            assert self.candidate.id is not None
            dossier = self.uow.add_dossier(DossierRecord(
                id=None, candidate_id=self.candidate.id, vacancy_id=vacancy_id, state=PRIVACY,
                status="draft", answers={}, language=self.lang, consented_at=self.now,
                privacy_version=PRIVACY_VERSION, created_at=self.now, updated_at=self.now))
            self.activate(dossier)
            self.move("accept", first)
        elif existing.status == "withdrawn":
            self.activate(existing)
            existing.consented_at = self.now
            existing.privacy_version = PRIVACY_VERSION
            self.move("restart", first, "reapply")
        else:
            self.activate(existing)
            return self.prompt()
        self.save()
        return [self.say(Msg("privacy.thanks")), *self.prompt()]

    # ------------------------------------------------------------------ prompts

    def prompt(self, before: tuple[Any, ...] = ()) -> list[Reply]:
        """What the candidate should see now, wherever they are."""
        d = self.dossier
        if d is None:
            return [self.vacancy_list()]
        question = self.flow.question_at(d.state)
        if question is not None:
            return [R.ask(self.flow, question, d.answers, self.lang, before, d.id)]
        verdict = self.verdict()
        if d.state == KNOCKED_OUT:
            return [*self.before(before), R.knockout(self.vacancy, verdict, self.lang)]
        if d.state == COLLECTING:
            return [R.checklist(self.vacancy, verdict, self.uow.documents(d.id), d.awaiting_document,
                                self.now, self.lang, before, d.id)]
        if d.state == SUBMITTED:
            when = (d.submitted_at or self.now).astimezone(self.vacancy.zone)
            return [self.say(*before, Msg("dossier.submitted_on", {
                "title": self.vacancy.title, "when": when.strftime("%d-%m-%Y %H:%M")}))]
        if d.state == EXPIRED:
            return [self.say(*before, self.closed_since(self.vacancy))]
        return [self.say(*before), self.vacancy_list()] if before else [self.vacancy_list()]

    def before(self, parts: tuple[Any, ...]) -> list[Reply]:
        return [self.say(*parts)] if parts else []

    # ------------------------------------------------------------------ answers

    def text(self, text: str) -> list[Reply]:
        d = self.dossier
        if d is None:
            # Not consented (or nothing started): the text is not stored, only answered.
            return [self.vacancy_list("welcome")]
        question = self.flow.question_at(d.state)
        if question is None:
            return self.prompt((Msg(f"text.in_{d.status}"),))
        if question.optional and text.strip().lower() in {
                render(Msg("btn.skip"), lang).lower() for lang in LANGUAGES}:
            return self.answer(question, "")
        labels = [render(o.label, self.lang) for o in question.options]
        parsed = parse_text(question, text, self.now.astimezone(self.vacancy.zone).date(), labels)
        if not parsed.ok:
            return [R.ask(self.flow, question, d.answers, self.lang, (parsed.problem,), d.id)]
        return self.answer(question, parsed.value)

    def answer(self, question: Question, value: Any) -> list[Reply]:
        d = self.dossier
        assert d is not None
        d.answers = {**d.answers, question.id: value}
        verdict = self.verdict()
        knocked = verdict.status is Status.NOT_ELIGIBLE
        target = self.engine.flows[d.vacancy_id].forward_target(d.answers, knocked)
        self.move("answer", target, f"answer:{question.id}")
        if target not in (COLLECTING, KNOCKED_OUT):
            # Still answering: a document some answer no longer asks for waits until the
            # answers are complete (a re-asked follow-up may ask for it again).
            self.save(verdict)
            return self.prompt()
        required = {doc.id for doc in verdict.documents}
        documents = self.uow.documents(d.id)
        for kind in {doc.kind for doc in documents} - required:
            self.obsolete_files += self.uow.remove_documents(d.id, kind)  # no longer asked
        documents = [doc for doc in documents if doc.kind in required]
        missing = R.missing_documents(verdict, documents)
        if target == COLLECTING:
            d.awaiting_document = missing[0].id if missing else None
        if target == KNOCKED_OUT:
            # "Change my answer" must lead back to this very question.
            d.verdict = {**R.verdict_summary(verdict), "knocked_by": question.id}
            self.save()
            return [R.knockout(self.vacancy, verdict, self.lang)]
        self.save(verdict)
        told = [self.say(*R.verdict_parts(self.vacancy, verdict))]
        info = R.info_parts(self.vacancy, verdict)
        if info:
            told.append(self.say(*info))
        if not missing:
            return [*told, *self.submit()]
        return [*told, *self.prompt()]

    def press(self, token: str) -> list[Reply]:
        kind, _, rest = token.partition(":")
        if kind in ("v", "p"):
            key, _, lang = rest.partition(":")
            if lang in LANGUAGES and self.candidate is None:
                self.lang = lang
            vacancy_id = self.engine.by_key.get(key)
            if vacancy_id is None:
                return [self.say(Msg("button.stale")), self.vacancy_list()]
            return self.choose_vacancy(vacancy_id) if kind == "v" else self.accept_privacy(vacancy_id)
        if kind == "x":
            if rest in LANGUAGES and self.candidate is None:
                self.lang = rest
            key = "privacy.declined" if self.candidate is None else "privacy.declined_known"
            return [self.say(Msg(key)), self.vacancy_list("vacancies.others")]
        if kind == "l" and rest in LANGUAGES:
            return self.set_language(rest)
        if kind == "m":
            return self.command(rest)
        if kind == "c":
            return self.confirmed(rest)
        expired = self.expire_if_closed()
        if expired:
            return expired
        dossier_id, _, rest = rest.partition(":")
        if self.dossier is None or dossier_id != str(self.dossier.id):
            # A button of another application (or none): never applied to the current one.
            return [self.say(Msg("button.stale_other")), *self.prompt()]
        if kind in ("a", "s", "r"):
            return self.press_answer(kind, rest)
        if kind == "d":
            return self.choose_document(rest)
        return [self.say(Msg("button.stale")), *self.prompt()]

    def press_answer(self, kind: str, rest: str) -> list[Reply]:
        d = self.dossier
        index_text, _, option_text = rest.partition(":")
        question = self.flow.question_at(d.state) if d else None
        try:
            index = int(index_text)
        except ValueError:
            index = -1
        # A button of an older message, or the second of a double press: change nothing.
        if question is None or self.flow.index.get(question.id) != index:
            return self.prompt((Msg("button.stale"),)) if d else [self.vacancy_list()]
        if kind == "s":
            if not question.optional:
                return self.prompt((Msg("button.stale"),))
            return self.answer(question, "")
        if kind == "r":
            if not question.rest_none:
                return self.prompt((Msg("button.stale"),))
            return self.rest_none(question)
        values = question.option_values() or ()
        if question.kind == "yes_no" and option_text in ("0", "1"):
            value: Any = option_text == "1"
        elif (question.kind == "choice" and option_text.isascii() and option_text.isdecimal()
              and int(option_text) < len(values)):
            value = values[int(option_text)]
        else:
            return self.prompt((Msg("button.stale"),))  # a forged or corrupt token
        return self.answer(question, value)

    def rest_none(self, question: Question) -> list[Reply]:
        """The lowest level for this and every unanswered item of the same matrix: 19 taps
        become one for someone who knows only a few of the technologies."""
        d = self.dossier
        assert d is not None
        lowest = question.options[0].value
        rest = {q.id: lowest for q in self.flow.questions
                if q.rule_id == question.rule_id and q.rest_none and q.id not in d.answers}
        # Remembered so that /back undoes the shortcut in one step, not eighteen.
        d.answers = {**d.answers, **rest,
                     BULK: {"from": question.id, "filled": sorted(set(rest) - {question.id})}}
        return self.answer(question, lowest)

    # ------------------------------------------------------------------ commands

    def command(self, name: str) -> list[Reply]:
        if name == "help":
            return [self.say(Msg("help")), *(self.prompt() if self.dossier else [])]
        if name == "vacancies":
            return [self.vacancy_list()]
        if name == "language":
            return [self.say(Msg("language.choose"), choices=(
                Choice("l:nl", Msg("language.name.nl")), Choice("l:en", Msg("language.name.en"))))]
        if self.dossier is None:
            return [self.say(Msg("command.no_dossier")), self.vacancy_list()]
        if name == "status":
            return self.status()
        expired = self.expire_if_closed() if name in ("back", "restart") else None
        if expired:
            return expired
        if name == "back":
            return self.back()
        if name == "restart":
            if not self.engine.flows[self.dossier.vacancy_id].can("restart", self.dossier.state):
                return self.prompt((Msg("restart.not_now"),))
            return [self.say(Msg("restart.confirm"), choices=(
                Choice(f"c:restart:{self.dossier.id}.{self.dossier.version}",
                       Msg("btn.confirm_restart")),
                Choice("c:no", Msg("btn.cancel"))))]
        if name == "withdraw":
            if self.dossier.status == "withdrawn":
                return [self.say(Msg("withdraw.already")), self.vacancy_list()]
            return [self.say(Msg("withdraw.confirm", {"title": self.vacancy.title}), choices=(
                Choice(f"c:withdraw:{self.dossier.id}.{self.dossier.version}",
                       Msg("btn.confirm_withdraw")),
                Choice("c:no", Msg("btn.cancel"))))]
        return [self.say(Msg("command.unknown")), *self.prompt()]

    def back(self) -> list[Reply]:
        d = self.dossier
        assert d is not None
        if d.status in ("submitted", "withdrawn", "expired"):
            return self.prompt((Msg(f"back.{d.status}"),))
        target = self.flow.back_target(d.state, d.answers)
        bulk = d.answers.get(BULK)
        if isinstance(bulk, dict) and target and target[2:] in {bulk["from"], *bulk["filled"]}:
            d.answers = {k: v for k, v in d.answers.items()
                         if k != BULK and k not in set(bulk["filled"])}
            target = q_state(self.flow.by_id[bulk["from"]])
        knocked_by = (d.verdict or {}).get("knocked_by")
        if d.state == KNOCKED_OUT and knocked_by in self.flow.by_id:
            target = q_state(self.flow.by_id[knocked_by])
        if target is None:
            return self.prompt((Msg("back.first"),))
        self.move("back", target)
        self.save()
        return self.prompt()

    def confirmed(self, rest: str) -> list[Reply]:
        d = self.dossier
        if d is None:
            return [self.vacancy_list()]
        what, _, shown = rest.partition(":")
        if what in ("restart", "withdraw") and shown != f"{d.id}.{d.version}":
            # Shown for another application, or before it changed (a re-application, another
            # confirmation already used): never act on what the candidate did not see.
            return self.prompt((Msg("button.stale_other"),))
        if what == "restart":
            if not self.flow.can("restart", d.state) or not self.is_open(self.vacancy):
                return self.prompt((Msg("restart.not_now"),))
            # Keep who they are; forget the eligibility answers and uploaded documents.
            d.answers = {k: v for k, v in d.answers.items() if k in IDENTITY_IDS}
            self.obsolete_files += self.drop_documents(d)
            nxt = next_question(self.flow.questions, d.answers)
            assert nxt is not None
            self.move("restart", q_state(nxt))
            d.awaiting_document = None
            self.save(self.verdict())
            return self.prompt((Msg("restart.done"),))
        if what == "withdraw":
            return self.withdraw()
        return self.prompt((Msg("cancelled"),))

    def drop_documents(self, d: DossierRecord) -> list[str]:
        assert d.id is not None
        paths: list[str] = []
        for doc in {x.kind for x in self.uow.documents(d.id)}:
            paths += self.uow.remove_documents(d.id, doc)
        return paths

    def withdraw(self) -> list[Reply]:
        d = self.dossier
        assert d is not None and self.candidate is not None
        if d.status == "withdrawn":
            return [self.say(Msg("withdraw.already")), self.vacancy_list()]
        was_submitted = d.status == "submitted"
        self.move("withdraw", WITHDRAWN)
        # Withdrawing erases the application's personal data; the row keeps only its status.
        d.answers, d.verdict, d.awaiting_document = {}, None, None
        self.obsolete_files += self.drop_documents(d)
        self.save()
        if was_submitted:
            self.uow.add_outbox("dossier_withdrawn", d.id, {"dossier_id": d.id})
        self.candidate.active_dossier_id = None
        self.uow.save_candidate(self.candidate)
        return [self.say(Msg("withdraw.done", {"title": self.vacancy.title})),
                self.vacancy_list("vacancies.others")]

    def set_language(self, lang: str) -> list[Reply]:
        self.lang = lang
        if self.candidate is not None:
            self.candidate.language = lang
            self.uow.save_candidate(self.candidate)
        if self.dossier is not None:
            self.dossier.language = lang
            self.save()
            return self.prompt((Msg("language.set"),))
        return [self.say(Msg("language.set")), self.vacancy_list("welcome")]

    def status(self) -> list[Reply]:
        d = self.dossier
        assert d is not None
        verdict = self.verdict()
        parts: list[Any] = [Msg("status.title", {"title": self.vacancy.title,
                                                 "status": Msg(f"status.{d.status}")})]
        question = self.flow.question_at(d.state)
        if question is not None:
            n, total = R._position(self.flow, question, d.answers)
            parts.append(Msg("status.question", {"n": n, "total": total}))
        if d.status in ("draft", "collecting"):
            missing = R.missing_documents(verdict, self.uow.documents(d.id))
            if missing and d.status == "collecting":
                parts.append([Msg("status.missing_docs"),
                              *(Msg("checklist.todo", {"label": m.label}) for m in missing)])
            parts.append(R.deadline_line(self.vacancy, self.now, self.lang))
        return [self.say(*parts), *self.prompt()]

    # ------------------------------------------------------------------ documents

    def choose_document(self, doc_id: str) -> list[Reply]:
        d = self.dossier
        if d is None or d.state != COLLECTING:
            return [self.say(Msg("button.stale")), *self.prompt()]
        if doc_id not in {doc.id for doc in self.verdict().documents}:
            return self.prompt((Msg("button.stale"),))
        d.awaiting_document = doc_id
        self.save()
        doc = self.vacancy.document(doc_id)
        return [self.say(R.send_prompt(doc),
                         Msg("checklist.spec", {"types": ", ".join(doc.types),
                                                "max": f"{doc.max_size_mb:g}"}))]

    def refuse_upload(self, upload: Upload) -> list[Reply] | None:
        """Why this file cannot be taken now (wrong moment, type or size), or None."""
        d = self.dossier
        if d is None:
            return [self.say(Msg("upload.no_dossier")), self.vacancy_list()]
        if d.state == EXPIRED:
            return self.prompt()  # says the vacancy closed, and since when
        if d.state == SUBMITTED and self.late_album_page(upload):
            return None
        if d.status == "draft" and self.album_document(upload) is not None:
            return None  # the next page of an extract whose date is being asked
        if d.state != COLLECTING:
            key = "upload.answer_first" if d.status == "draft" else f"upload.not_now_{d.status}"
            return self.prompt((Msg(key),))
        if not self.is_open(self.vacancy):
            return [self.say(self.closed_since(self.vacancy))]
        doc = self.album_document(upload) or self.awaited_document()
        if doc is None:
            return self.prompt((Msg("upload.all_done"),))
        kind = file_type(upload)
        if kind not in doc.types:
            return self.document_prompt((Msg("upload.wrong_type", {
                "label": doc.label, "allowed": ", ".join(doc.types),
                "given": kind or (Path(display_name(upload.file_name)).suffix
                                  or clean_text(upload.media_type or "") or "?")}),))
        if upload.size > doc.max_size_mb * 1024 * 1024:
            size = f"{upload.size / 1024 / 1024:.1f}"
            return self.document_prompt((Msg("upload.too_big", {
                "label": doc.label, "max": f"{doc.max_size_mb:g}",
                "given": size.replace(".", ",") if self.lang == "nl" else size}),))
        return None

    def refuse_content(self, upload: Upload, doc: Any) -> list[Reply] | None:
        """The bytes decide, not the name: an executable, an empty or broken file, or one whose
        content is not what its name or media type says, is refused."""
        assert upload.path is not None
        check = self.engine.files.inspect(upload.path, upload.file_name, upload.media_type)
        allowed = ", ".join(doc.types)
        if check.problem is not None:
            return self.document_prompt((Msg(f"upload.{check.problem}", {
                "label": doc.label, "allowed": allowed}),))
        if check.kind not in doc.types:
            return self.document_prompt((Msg("upload.wrong_type", {
                "label": doc.label, "allowed": allowed, "given": check.kind}),))
        return None

    def document_prompt(self, before: tuple[Any, ...]) -> list[Reply]:
        """The short 'send this next' reply, with what went wrong first."""
        d = self.dossier
        assert d is not None and d.id is not None
        return [R.next_document(self.verdict(), self.uow.documents(d.id), d.awaiting_document,
                                self.lang, before, d.id)]

    def late_album_page(self, upload: Upload) -> bool:
        """A page of the album whose first page completed (and submitted) the dossier."""
        d = self.dossier
        return (d is not None and d.submitted_at is not None and upload.group is not None
                and self.now - d.submitted_at <= ALBUM_WINDOW
                and self.album_document(upload) is not None)

    def album_document(self, upload: Upload) -> Any:
        """The document an earlier page of the same album went to, if any."""
        d = self.dossier
        if upload.group is None or d is None or d.id is None:
            return None
        for stored in self.uow.documents(d.id):
            if stored.media_group == upload.group:
                return self.vacancy.document(stored.kind)
        return None

    def awaited_document(self) -> Any:
        d = self.dossier
        assert d is not None and d.id is not None
        return R.awaited(self.verdict(), self.uow.documents(d.id), d.awaiting_document)

    def upload(self, upload: Upload) -> list[Reply]:
        refusal = self.refuse_upload(upload)
        if refusal is not None:
            return refusal
        d = self.dossier
        assert d is not None and d.id is not None and upload.path is not None
        album = self.album_document(upload)
        doc = album or self.awaited_document()
        refusal = self.refuse_content(upload, doc)
        if refusal is not None:
            return refusal
        if d.state != COLLECTING:  # a later page of an album already taken: keep, nothing else
            return self.store_album_page(upload, album)
        stored = self.engine.files.put(upload.path)
        self.new_files.append(stored.stored_path)
        # Another page of the same album is added; anything else replaces the document.
        replaced = [] if album else self.uow.remove_documents(d.id, doc.id)
        self.obsolete_files += replaced
        self.uow.add_document(DocumentRecord(
            id=None, dossier_id=d.id, kind=doc.id, original_name=display_name(upload.file_name, 255),
            stored_path=stored.stored_path, size=stored.size, sha256=stored.sha256,
            media_type=upload.media_type or mimetypes.guess_type(upload.file_name)[0] or "",
            uploaded_at=self.now, media_group=upload.group))
        self.uow.audit(d.id, "upload", {"document": doc.id, "replaced": bool(replaced)})
        verdict = self.verdict()
        missing = R.missing_documents(verdict, self.uow.documents(d.id))
        received = Msg("upload.replaced" if replaced else "upload.received",
                       {"label": doc.label, "name": display_name(upload.file_name)})
        dated = self.ask_extract_date(doc.id, verdict, received)
        if dated is not None:
            return dated
        if not missing:
            return self.submit((received,), album=upload.group is not None)
        d.awaiting_document = missing[0].id
        self.save(verdict)
        return [R.next_document(verdict, self.uow.documents(d.id),
                                d.awaiting_document, self.lang, (received,), d.id)]

    def ask_extract_date(self, doc_id: str, verdict: Verdict, received: Msg) -> list[Reply] | None:
        """An extract sent where the answers cannot cover it — "I have none", or a date that
        makes it too old — is a new one: ask its date instead of completing on the old answer."""
        d = self.dossier
        assert d is not None
        rule = next((r for r in self.vacancy.requirements
                     if isinstance(r, CriminalRecordRule) and r.document == doc_id), None)
        if rule is None or rule.asked != "at_application":
            return None
        if d.answers.get(f"{rule.id}.has_extract") is not False and doc_id not in verdict.stale:
            return None
        # A new extract: its date and whether it shows a mention are asked again (an
        # explanation already sent stays, and with it its document, if the mention does).
        again = {f"{rule.id}.issued_on", f"{rule.id}.mention"}
        if d.answers.get(f"{rule.id}.explain") is False:
            again.add(f"{rule.id}.explain")  # offered again, should the new one show a mention
        d.answers = {k: v for k, v in d.answers.items() if k not in again}
        d.answers[f"{rule.id}.has_extract"] = True
        question = next_question(self.flow.questions, d.answers)
        assert question is not None  # the issue date, at the latest
        self.move("back", q_state(question), "extract_date")
        self.save()
        return [R.ask(self.flow, question, d.answers, self.lang,
                      (received, Msg("upload.extract_new")), d.id)]

    def store_album_page(self, upload: Upload, doc: Any) -> list[Reply]:
        d = self.dossier
        assert d is not None and d.id is not None and upload.path is not None
        stored = self.engine.files.put(upload.path)
        self.new_files.append(stored.stored_path)
        self.uow.add_document(DocumentRecord(
            id=None, dossier_id=d.id, kind=doc.id, original_name=display_name(upload.file_name, 255),
            stored_path=stored.stored_path, size=stored.size, sha256=stored.sha256,
            media_type=upload.media_type or "", uploaded_at=self.now, media_group=upload.group))
        self.uow.audit(d.id, "upload", {"document": doc.id, "album_page": True})
        return [self.say(Msg("upload.received", {"label": doc.label,
                                                 "name": display_name(upload.file_name)}))]

    def submit(self, before: tuple[Any, ...] = (), album: bool = False) -> list[Reply]:
        d = self.dossier
        assert d is not None
        self.move("submit", SUBMITTED)
        d.submitted_at = self.now
        d.awaiting_document = None
        self.save(self.verdict())
        # Completed by an album page: notify a little later, so the other pages go along.
        self.uow.add_outbox("dossier_submitted", d.id, {"dossier_id": d.id},
                            not_before=self.now + ALBUM_WINDOW if album else None)
        return [R.submitted(self.vacancy, self.lang, before)]
