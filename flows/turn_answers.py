"""Answers: typed text and button presses applied to the question they were asked for."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flows import replies as R
from flows.answers import parse_text, yes_or_no
from flows.eligibility import Status
from flows.events import Reply
from flows.flow import COLLECTING, KNOCKED_OUT
from flows.messages import LANGUAGES, Msg, render
from flows.questions import Question
from flows.turn import BULK, Turn

PRIVACY_LIKE = ("privacy", "declined", "withdrawn")


class Answers(Turn):
    # ------------------------------------------------------------------ answers

    def text(self, text: str) -> list[Reply]:
        d = self.dossier
        if d is None:
            # Not consented (or nothing started): the text is not stored, only answered. A
            # typed "akkoord" cannot say which notice it agrees to (nothing is kept before
            # consent, not even the vacancy chosen): say how to agree, and offer the list.
            if yes_or_no(text):
                return [self.say(Msg("consent.use_button")),
                        self.vacancy_list("vacancies.choose_again")]
            return [self.vacancy_list("welcome")]
        asked = self.question_typed(text)  # type: ignore[attr-defined]
        if asked is not None:
            return asked  # a question for the recruiters, never stored as the answer
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
        told = [R.verdict_short(self.vacancy, verdict, self.lang, d.id, self.now)]
        if not missing:
            return [*told, *self.submit()]
        return [*told, R.checklist(self.vacancy, verdict, documents, d.awaiting_document,
                                   self.now, self.lang, (), d.id, with_deadline=False)]

    def press(self, token: str) -> list[Reply]:
        kind, _, rest = token.partition(":")
        if kind in ("v", "p", "n"):
            key, _, lang = rest.partition(":")
            if lang in LANGUAGES and self.candidate is None:
                self.lang = lang
            vacancy_id = self.engine.by_key.get(key)
            if vacancy_id is None:
                return [self.say(Msg("button.stale")), self.vacancy_list()]
            if kind == "n":  # "Meer over privacy": read only, like the notice itself
                return [R.privacy_details(self.engine.vacancies[vacancy_id], self.lang)]
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
        if kind == "q":
            return self.press_question(rest)  # type: ignore[attr-defined]
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
        if kind in ("w", "i") and self.dossier.state not in PRIVACY_LIKE:
            # "Waarom?" and "Over de vacature": the details behind the short verdict.
            details = R.verdict_details if kind == "w" else R.about
            replies = details(self.vacancy, self.verdict(), self.lang)
            # Telegram drops the pressed message's buttons: the other one comes along here.
            other = R.details_choices(self.dossier.id)[1 if kind == "w" else 0]
            return [*replies[:-1], replace(replies[-1], choices=(other,), expects="choice")]
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
