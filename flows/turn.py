"""One event's unit of work: who sent it, their active dossier, and the moves every part shares.

The parts of a turn live in modules of their own (consent, answers, commands, documents,
deadlines); `flows.engine` puts them together. Pure: no Telegram, no SQL — the unit of work is a
port.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flows import replies as R
from flows.eligibility import Verdict, evaluate
from flows.events import QUESTION_COMMANDS, Choice, Inbound, Reply, Sender
from flows.flow import COLLECTING, EXPIRED, KNOCKED_OUT, SUBMITTED, Flow, status_of
from flows.messages import Msg, locale_for, normalise_language
from flows.ports import DossierRecord, UnitOfWork
from flows.questions import IDENTITY
from flows.text_cleaning import clean_text
from flows.vacancy import Vacancy

if TYPE_CHECKING:
    from flows.engine import Engine

# A message sent before the deadline but handled after it (a backlog, a restart, a slow
# download) still counts, if handled within this grace period; expiry waits for it too.
DEADLINE_GRACE = timedelta(hours=1)
IDENTITY_IDS = {q.id for q in IDENTITY}
BULK = "_bulk"  # in answers: which matrix items one "rest of the list" tap filled
# Unusable messages whose reply already says what to do instead.
SELF_EXPLAINED = ("forwarded", "edited")


@dataclass
class Turn:
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
        d = self.dossier
        if d is not None and d.awaiting_question and inbound.kind != "text":
            # Only the very next message after /vraag is taken as the question.
            d.awaiting_question = False
            self.save()
        if inbound.kind == "start":
            return self.start(inbound.text)
        if inbound.kind == "command" and inbound.command in QUESTION_COMMANDS:
            return self.question_command(inbound.text)
        if inbound.kind == "command":
            return self.command(inbound.command or "")
        if inbound.kind == "press":
            return self.press(inbound.token or "")
        if inbound.kind == "failed":
            # Show where they are, so nothing they repeat lands on a question they did not see.
            return [self.say(Msg("error.try_again")), *self.prompt()]
        if inbound.kind == "unusable":
            return self.unusable(inbound.text or "media")
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

    def say(self, *parts: Any, choices: tuple[Choice, ...] = (),
            about: Vacancy | None = None) -> Reply:
        """A reply in the candidate's language, said as people say it where the vacancy is:
        `about`, else the vacancy of the active dossier (see flows.messages)."""
        return Reply(self.lang, parts, choices, expects="choice" if choices else "nothing",
                     locale=self.said_in(about))

    def said_in(self, about: Vacancy | None = None) -> str:
        vacancy = about if about is not None else (self.vacancy if self.dossier else None)
        return locale_for(self.lang, vacancy.country if vacancy is not None else None)

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
        if d.state == SUBMITTED and d.decision == "document_asked" and d.awaiting_document:
            doc = next((x for x in self.vacancy.documents if x.id == d.awaiting_document), None)
            if doc is not None:  # the recruiters asked for it: that is what to do now
                return [self.say(*before, Msg("decision.document_pending", {"label": doc.label}),
                                 R.send_prompt(doc))]
        if d.state == SUBMITTED:
            when = (d.submitted_at or self.now).astimezone(self.vacancy.zone)
            return [self.say(*before, Msg("dossier.submitted_on", {
                "title": self.vacancy.title, "when": when.strftime("%d-%m-%Y %H:%M")}))]
        if d.state == EXPIRED:
            return [self.say(*before, self.closed_since(self.vacancy))]
        return [self.say(*before), self.vacancy_list()] if before else [self.vacancy_list()]

    def short_prompt(self) -> list[Reply]:
        """Where they are, without repeating what was just said: while collecting, only what
        to send next (the checklist itself is on /status); elsewhere the usual prompt."""
        d = self.dossier
        if d is not None and d.state == COLLECTING:
            return [R.next_document(self.vacancy, self.verdict(), self.uow.documents(d.id),
                                    d.awaiting_document, self.lang, (), d.id)]
        return self.prompt()

    def before(self, parts: tuple[Any, ...]) -> list[Reply]:
        return [self.say(*parts)] if parts else []

    def unusable(self, what: str) -> list[Reply]:
        """A sticker, a voice message, a location...: what the bot cannot use, what works
        instead where the candidate is now, then that question or checklist itself."""
        replies = self.prompt()
        if what == "edited" and not self.active():  # no answer of theirs to keep
            notice: tuple[Any, ...] = (Msg("unusable.edited_new"),)
        else:
            notice = (Msg(f"unusable.{what}"),)
        if what not in SELF_EXPLAINED:
            notice += (self.instead(replies[-1]),)
        first = replies[0]
        return [replace(first, parts=(*notice, *first.parts)), *replies[1:]]

    def instead(self, asking: Reply) -> Msg:
        """What the candidate can do at this prompt: type, tap a button, or send the file."""
        if asking.expects == "document" and asking.document is not None and self.dossier:
            document = next(d for d in self.vacancy.documents if d.id == asking.document)
            if R.takes_photos(document):
                return Msg("unusable.instead.document")
            return Msg("unusable.instead.file")
        if asking.expects == "text":
            return Msg("unusable.instead.text")
        if asking.choices:
            return Msg("unusable.instead.choice")
        return Msg("unusable.instead.nothing")
