"""Questions to the recruiters: /vraag, and questions typed where an answer was expected.

A question reaches a person. The candidate first sees what would be sent — the question, the
vacancy and where they are; their name and answers only if they tick that — and confirms; the
recruiters' notification is queued with that change (rendered when sent, from the stored
question, so an erased question sends nothing). Text that is clearly a question where an
answer was expected is never stored as the answer: the bot offers to pass it on and repeats
what it asked. A seed's deadline for questions is honoured.

A recruiter's reply comes back through `relay_answer`, in the candidate's unit of work: stored
with the dossier, queued to the candidate's chat in their language, and confirmed to the
recruiters — once per event. Withdrawing erases questions and answers (`erase_questions`).
"""

from __future__ import annotations

from typing import Any

from flows import replies as R
from flows.answers import has_letters_or_digits, parse_text
from flows.events import Choice, Reply, outgoing
from flows.flow import status_of
from flows.messages import Msg, render
from flows.ports import AnswerRecord, QuestionRecord
from flows.question_detection import looks_like_question, without_question_mark
from flows.questions import Question
from flows.text_cleaning import clean_text
from flows.turn import Turn

QUESTION_NOTICE = "candidate_question"  # the outbox kind of a question for the recruiters
RECRUITERS_LANGUAGE = "nl"  # what the recruiters' chat reads (as their notifications)
MAX_QUESTION = 1000  # the recruiters' copy then fits one Telegram message with its frame


class Questions(Turn):
    # ------------------------------------------------------------------ asking

    def question_command(self, text: str | None) -> list[Reply]:
        """/vraag [question]: the preview of the question, or "what is your question?"."""
        d = self.dossier
        if d is None or self.candidate is None:
            return self.no_dossier_for_questions()
        closed = self.questions_closed()
        if closed is not None:
            return closed
        question = clean_text(text or "").strip()
        if question:
            return self.draft_question(question, offered=False)
        d.awaiting_question = True
        self.save()
        return [self.say(Msg("question.ask"), choices=(
            Choice(f"q:{d.id}:-:cancel", Msg("btn.question_cancel")),))]

    def question_typed(self, text: str) -> list[Reply] | None:
        """Typed text that is a question for the recruiters (asked for with /vraag, or clearly
        a question where an answer was expected); None when it is the candidate's answer."""
        d = self.dossier
        assert d is not None
        if d.awaiting_question:
            if not has_letters_or_digits(text):
                return [self.say(Msg("question.empty"), Msg("question.ask"), choices=(
                    Choice(f"q:{d.id}:-:cancel", Msg("btn.question_cancel")),))]
            d.awaiting_question = False
            self.save()
            return self.draft_question(text.strip(), offered=False)
        if not looks_like_question(text):
            return None
        question = self.flow.question_at(d.state)
        if question is not None and question.kind != "text":
            # A valid answer is an answer; so is one with a doubtful "?" ("ja?", "5?").
            if self.parse(question, text).ok or self.parse(question,
                                                           without_question_mark(text)).ok:
                return None
        return self.draft_question(text.strip(), offered=True)

    def draft_question(self, text: str, offered: bool) -> list[Reply]:
        """Keep the question as a draft (replacing an older one) and show what would be sent.
        `offered`: recognised in typed text — the question the bot asked is repeated."""
        d = self.dossier
        assert d is not None and d.id is not None
        again: list[Reply] = []
        if offered:
            # The question it asked, again; with no question pending, what it says to any text.
            asking = self.flow.question_at(d.state) is not None
            again = self.prompt(() if asking else (Msg(f"text.in_{d.status}"),))
        closed = self.questions_closed()
        if closed is not None:
            return closed
        if len(text) > MAX_QUESTION:
            return [self.say(Msg("question.too_long", {"max": MAX_QUESTION, "given": len(text)})),
                    *again]
        old = self.uow.draft_question(d.id)
        if old is not None and old.id is not None:
            self.uow.delete_question(old.id)
        question = self.uow.add_question(QuestionRecord(
            id=None, dossier_id=d.id, status="draft", text=text, step=d.state,
            created_at=self.now))
        return [self.question_preview(question, offered), *again]

    def question_preview(self, question: QuestionRecord, offered: bool = False) -> Reply:
        d = self.dossier
        assert d is not None
        at = f"q:{d.id}:{question.id}"
        parts: list[Any] = [
            Msg("question.offer" if offered else "question.preview", {"text": question.text}),
            [Msg("question.context", {"title": self.vacancy.title,
                                      "step": self.step_for_candidate(question.step)}),
             Msg("question.answers_included" if question.include_answers
                 else "question.answers_excluded")],
        ]
        choices = [
            Choice(f"{at}:send", Msg("btn.question_send")),
            Choice(f"{at}:without", Msg("btn.question_answers_on")) if question.include_answers
            else Choice(f"{at}:with", Msg("btn.question_answers_off")),
            Choice(f"{at}:no", Msg("btn.question_no")),
        ]
        if self.answer_in(question) is not None:
            # Typed where an answer was expected and valid as one: it may be just that.
            choices.append(Choice(f"{at}:mine", Msg("btn.question_is_answer")))
        return self.say(*parts, choices=tuple(choices))

    def step_for_candidate(self, state: str) -> Any:
        question = self.flow.question_at(state)
        if question is not None:
            return Msg("question.step_question", {"question": question.prompt})
        return Msg(f"status.{status_of(state)}")

    def answer_in(self, draft: QuestionRecord) -> tuple[Question, Any] | None:
        """The question the draft was typed at and the answer it would make there, when it is
        still being asked and the text is a valid free-text answer."""
        d = self.dossier
        assert d is not None
        question = self.flow.question_at(d.state)
        if question is None or question.kind != "text" or draft.step != d.state:
            return None
        parsed = self.parse(question, draft.text)
        return (question, parsed.value) if parsed.ok else None

    def parse(self, question: Question, text: str) -> Any:
        labels = [render(o.label, self.lang) for o in question.options]
        return parse_text(question, text, self.now.astimezone(self.vacancy.zone).date(), labels)

    # ------------------------------------------------------------------ the buttons

    def press_question(self, rest: str) -> list[Reply]:
        """q:<dossier>:<question>:<send | with | without | no | mine | cancel>"""
        dossier_id, _, rest = rest.partition(":")
        question_id, _, action = rest.partition(":")
        d = self.dossier
        if d is None or dossier_id != str(d.id):
            return [self.say(Msg("button.stale_other")), *self.prompt()]
        if action == "cancel":
            return self.prompt((Msg("question.not_sent"),))
        draft = self.uow.question(int(question_id)) if question_id.isdecimal() else None
        if draft is None or draft.dossier_id != d.id:
            return self.prompt((Msg("question.stale"),))  # replaced by a newer one, or erased
        if draft.status == "asked":
            return self.prompt((Msg("question.already_asked"),))  # a double press
        assert draft.id is not None
        if action == "no":
            self.uow.delete_question(draft.id)
            return self.prompt((Msg("question.not_sent"),))
        if action == "mine":
            found = self.answer_in(draft)
            self.uow.delete_question(draft.id)
            if found is None:
                return self.prompt((Msg("button.stale"),))
            expired = self.expire_if_closed()
            return expired if expired else self.answer(*found)  # type: ignore[attr-defined]
        closed = self.questions_closed()
        if closed is not None:
            self.uow.delete_question(draft.id)
            return closed
        if action in ("with", "without"):
            draft.include_answers = action == "with"
            self.uow.save_question(draft)
            return [self.question_preview(draft)]
        if action == "send":
            return self.ask_recruiters(draft)
        return self.prompt((Msg("button.stale"),))

    def ask_recruiters(self, draft: QuestionRecord) -> list[Reply]:
        d = self.dossier
        assert d is not None and draft.id is not None
        draft.status, draft.asked_at = "asked", self.now
        self.uow.save_question(draft)
        # Ids only: the sender renders it from the stored question, so an erased one is silent.
        self.uow.add_outbox(QUESTION_NOTICE, d.id, {"question_id": draft.id})
        self.uow.audit(d.id, "question_asked", {"question": draft.id,
                                                "answers_included": draft.include_answers})
        told: list[Any] = [Msg("question.sent")]
        window = self.vacancy.questions
        if window is not None and window.official is not None:
            told.append(Msg("question.official", {"where": window.official.text}))
        if window is not None and window.answers_published is not None:
            told.append(Msg("question.published", {"text": window.answers_published.text}))
        return self.prompt(tuple(told))

    # ------------------------------------------------------------------ when not

    def questions_closed(self) -> list[Reply] | None:
        """After the seed's deadline for questions: since when, where the answers are, whom
        to call — and where the candidate is. None while questions are open."""
        vacancy = self.vacancy
        window = vacancy.questions
        if window is None or vacancy.questions_open(self.deadline_now):
            return None
        parts: list[Any] = [Msg("question.closed", {"title": vacancy.title,
                                                    "since": R.moment_text(window, self.lang)})]
        if window.answers_published is not None:
            parts.append(Msg("question.published", {"text": window.answers_published.text}))
        contact = vacancy.contact or vacancy.ask_at
        if contact is not None:
            parts.append(Msg("question.contact", {"text": contact.text}))
        return [self.say(*parts), *self.prompt()]

    def no_dossier_for_questions(self) -> list[Reply]:
        """Nothing to ask about yet: say so, and whom the open vacancies name as contact."""
        contacts = [Msg("question.contact_line", {"title": v.title, "contact": note.text})
                    for v in self.engine.vacancies.values()
                    if v.is_open(self.now) and (note := v.contact or v.ask_at) is not None]
        parts: list[Any] = [Msg("question.no_dossier")]
        if contacts:
            parts.append([Msg("question.contacts"), *contacts])
        return [self.say(*parts), self.vacancy_list()]

    # ------------------------------------------------------------------ the answer

    def relay_answer(self, question_id: int, text: str, answered_by: str | None,
                     event_id: int | None) -> str:
        """A recruiter's reply to the question's message: "relayed", "gone" (the question was
        erased: withdrawn, purged), "empty" (nothing left to send once cleaned) or "duplicate"
        (this event was applied before). A long answer is split into several messages when
        sent, never cut."""
        # The recruiter's event, recorded whoever the candidate is (an id, no personal data).
        if event_id is not None and not self.uow.claim_event(event_id):
            return "duplicate"
        question = self.uow.question(question_id) if self.candidate is not None else None
        dossier = self.uow.dossier(question.dossier_id) if question is not None else None
        if (question is None or dossier is None or question.status != "asked"
                or self.candidate is None):
            self.tell_recruiters(Msg("rec.question.gone"))
            return "gone"
        answer = clean_text(text).strip()
        if not answer:
            self.tell_recruiters(Msg("rec.question.text_only"))
            return "empty"
        assert question.id is not None and dossier.id is not None
        self.uow.add_answer(AnswerRecord(id=None, question_id=question.id, text=answer,
                                         answered_at=self.now, answered_by=answered_by))
        chat = self.candidate.chat_id
        if chat:  # a terminal candidate has no chat to send to; the answer is kept all the same
            reply = Reply(self.candidate.language, (
                Msg("question.answer", {"question": question.text, "answer": answer}),))
            self.uow.add_outbox("message", None, {"chat_id": chat, "messages": outgoing([reply])},
                                chat_key=chat)
        self.tell_recruiters(Msg("rec.question.relayed", {"id": dossier.id}))
        self.uow.audit(dossier.id, "question_answered", {"question": question.id})
        return "relayed"

    def tell_recruiters(self, msg: Msg) -> None:
        reply = Reply(RECRUITERS_LANGUAGE, (msg,))
        self.uow.add_outbox("message", None, {"chat_id": "recruiters",
                                              "messages": outgoing([reply])})
