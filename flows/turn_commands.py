"""Commands: help, status, back, restart, withdraw and language, with their confirmations."""

from __future__ import annotations

from typing import Any

from flows import replies as R
from flows.events import Choice, Reply
from flows.flow import KNOCKED_OUT, WITHDRAWN, q_state
from flows.messages import Msg
from flows.ports import DossierRecord
from flows.questions import next_question
from flows.turn import BULK, IDENTITY_IDS, Turn


class Commands(Turn):
    # ------------------------------------------------------------------ commands

    def command(self, name: str) -> list[Reply]:
        if name == "help":
            return [self.say(Msg("help"), Msg("help.question")),
                    *(self.short_prompt() if self.dossier else [])]
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
        # Questions to the recruiters and their answers go too.
        asked = self.uow.erase_questions(d.id)
        self.save()
        if was_submitted or asked:
            # The recruiters' chat holds the file or questions: they are asked to delete them.
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
            place = self.flow.places[question.id]
            parts.append(Msg("status.question", {"n": place.n, "total": place.total,
                                                 "section": Msg(f"section.{place.section}")}))
        if d.status in ("draft", "collecting"):
            missing = R.missing_documents(verdict, self.uow.documents(d.id))
            if missing and d.status == "collecting":
                parts.append([Msg("status.missing_docs"),
                              *(Msg("checklist.todo", {"label": m.label}) for m in missing)])
            parts.append(R.deadline_line(self.vacancy, self.now, self.lang))
        # The verdict's reasons and the vacancy's details stay one tap away, not re-sent.
        choices = R.details_choices(d.id) if d.status not in ("draft", "withdrawn") else ()
        return [self.say(*parts, choices=choices), *self.short_prompt()]
