"""Commands: help, status, back, restart, withdraw and language, with their confirmations.

/status and /withdraw see every application of the candidate, not only the active one:
switching to another vacancy never hides an application (nor its personal data) from them."""

from __future__ import annotations

from typing import Any

from flows import replies as R
from flows.events import COMMAND_ALIASES, Choice, Reply
from flows.flow import KNOCKED_OUT, WITHDRAWN, q_state
from flows.messages import Msg
from flows.ports import DossierRecord
from flows.questions import next_question
from flows.turn import BULK, IDENTITY_IDS, Turn


class Commands(Turn):
    # ------------------------------------------------------------------ commands

    def command(self, name: str) -> list[Reply]:
        name = COMMAND_ALIASES.get(name, name)
        if name == "help":
            return [self.say(Msg("help"), Msg("help.question"), Msg("help.privacy")),
                    *(self.short_prompt() if self.dossier else [])]
        if name == "vacancies":
            return [self.vacancy_list()]
        if name == "language":
            return [self.say(Msg("language.choose"), choices=(
                Choice("l:nl", Msg("language.name.nl")), Choice("l:en", Msg("language.name.en"))))]
        if name == "mydata":
            return self.my_data()  # type: ignore[attr-defined]
        if name == "delete":
            return self.erase_request()  # type: ignore[attr-defined]
        if name == "status":
            return self.status()
        if name == "withdraw":
            return self.withdraw_request()
        if self.dossier is None:
            return self.no_active_dossier()
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
        return [self.say(Msg("command.unknown")), *self.prompt()]

    # ------------------------------------------------------------------ every application

    def my_dossiers(self) -> list[DossierRecord]:
        """Every application of the candidate: the active one first, then the others."""
        if self.candidate is None:
            return []
        active = self.dossier.id if self.dossier is not None else None
        return sorted(self.uow.dossiers(), key=lambda x: (x.id != active, x.id or 0))

    def own_dossier(self, text: str) -> DossierRecord | None:
        """The candidate's own application named in button data (None for a forged id)."""
        if self.candidate is None or not text.isascii() or not text.isdecimal():
            return None
        found = self.uow.dossier(int(text))
        if found is None or found.candidate_id != self.candidate.id:
            return None
        return found

    def title_of(self, dossier: DossierRecord) -> Any:
        vacancy = self.engine.vacancies.get(dossier.vacancy_id)
        return vacancy.title if vacancy is not None else dossier.vacancy_id

    def no_active_dossier(self) -> list[Reply]:
        """No application open right now: those they have (to resume), or the vacancies."""
        dossiers = self.my_dossiers()
        if not dossiers:
            return [self.say(Msg("command.no_dossier")), self.vacancy_list()]
        return self.overview(dossiers, Msg("status.none_active"))

    def overview(self, dossiers: list[DossierRecord], intro: Msg) -> list[Reply]:
        """One line per application — vacancy, status, the question they are at — and a button
        that opens each one still open (as /vacancies does: `v:`); the vacancies too when
        none is."""
        lines: list[Any] = []
        choices: list[Choice] = []
        for x in dossiers:
            status = Msg(f"status.{x.status}")
            flow = self.engine.flows.get(x.vacancy_id)
            question = flow.question_at(x.state) if flow is not None else None
            if question is not None and flow is not None:
                place = flow.places[question.id]
                lines.append(Msg("status.other_at", {"title": self.title_of(x), "status": status,
                                                     "n": place.n, "total": place.total}))
            else:
                lines.append(Msg("status.other", {"title": self.title_of(x), "status": status}))
            if flow is not None and x.status != "withdrawn":
                choices.append(Choice(f"v:{R.vacancy_key(x.vacancy_id)}:{self.lang}",
                                      Msg("btn.open_application", {"title": self.title_of(x)})))
        replies = [self.say(intro, lines, choices=tuple(choices))]
        return replies if choices else [*replies, self.vacancy_list("vacancies.others")]

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
        what, _, shown = rest.partition(":")
        if what == "withdraw":
            return self.withdraw_confirmed(shown)
        if what == "withdraw_which":
            return self.withdraw_chosen(shown)
        if what == "erase":
            return self.erase_confirmed(shown)  # type: ignore[attr-defined]
        d = self.dossier
        if d is None:
            return [self.say(Msg("cancelled")), self.vacancy_list()] if what == "no" else [
                self.vacancy_list()]
        if what == "restart" and shown != f"{d.id}.{d.version}":
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
        return self.prompt((Msg("cancelled"),))

    def stale(self) -> list[Reply]:
        """A button of another application, another person or an older message: nothing."""
        if self.dossier is None:
            return [self.say(Msg("button.stale_other")), self.vacancy_list()]
        return self.prompt((Msg("button.stale_other"),))

    def drop_documents(self, d: DossierRecord) -> list[str]:
        assert d.id is not None
        paths: list[str] = []
        for doc in {x.kind for x in self.uow.documents(d.id)}:
            paths += self.uow.remove_documents(d.id, doc)
        return paths

    # ------------------------------------------------------------------ withdraw

    def withdrawable(self) -> list[DossierRecord]:
        return [x for x in self.my_dossiers() if x.vacancy_id in self.engine.flows
                and self.engine.flows[x.vacancy_id].can("withdraw", x.state)]

    def withdraw_request(self) -> list[Reply]:
        """/withdraw: the confirmation for their one application, or first which one."""
        open_ones = self.withdrawable()
        if not open_ones:
            return [self.say(Msg("command.no_dossier")), self.vacancy_list()]
        if len(open_ones) == 1:
            return [self.withdraw_confirmation(open_ones[0])]
        return [self.say(Msg("withdraw.which"), choices=(
            *(Choice(f"c:withdraw_which:{x.id}", Msg("btn.application", {
                "title": self.title_of(x), "status": Msg(f"status.{x.status}")}))
              for x in open_ones),
            Choice("c:no", Msg("btn.cancel"))))]

    def withdraw_confirmation(self, d: DossierRecord) -> Reply:
        # The button names the application and its version: a press after it changed, or for
        # an application that is not theirs, does nothing.
        vacancy = self.engine.vacancies[d.vacancy_id]
        return self.say(Msg("withdraw.confirm", {"title": vacancy.title}), choices=(
            Choice(f"c:withdraw:{d.id}.{d.version}", Msg("btn.confirm_withdraw")),
            Choice("c:no", Msg("btn.cancel"))), about=vacancy)

    def withdraw_chosen(self, shown: str) -> list[Reply]:
        target = self.own_dossier(shown)
        if target is None or target.id not in {x.id for x in self.withdrawable()}:
            return self.stale()
        return [self.withdraw_confirmation(target)]

    def withdraw_confirmed(self, shown: str) -> list[Reply]:
        dossier_id, _, _version = shown.partition(".")
        target = self.own_dossier(dossier_id)
        if target is None or shown != f"{target.id}.{target.version}":
            # Shown for an application that is not theirs, or before it changed (a
            # re-application, another confirmation already used): never act on what the
            # candidate did not see.
            return self.stale()
        if target.status == "withdrawn":
            return [self.say(Msg("withdraw.already")), self.vacancy_list()]
        if target.vacancy_id not in self.engine.flows:
            return self.stale()
        return self.withdraw(target)

    def withdraw(self, target: DossierRecord) -> list[Reply]:
        """Withdraw `target` (the active application or another of theirs) and erase its
        personal data; the recruiters are asked to delete what their chat holds of it."""
        assert self.candidate is not None and target.id is not None
        active = self.dossier if self.dossier is not None and self.dossier.id != target.id else None
        self.dossier = d = target  # the moves below act on it
        vacancy = self.vacancy
        was_submitted = d.status == "submitted"
        self.move("withdraw", WITHDRAWN)
        # Withdrawing erases the application's personal data; the row keeps only its status.
        d.answers, d.verdict, d.awaiting_document = {}, None, None
        self.obsolete_files += self.drop_documents(d)
        # Questions to the recruiters and their answers go too.
        asked = self.uow.erase_questions(d.id)
        self.save()
        recent, older = self.uow.take_back_messages(d.id)
        if was_submitted or asked or recent or older:
            # The recruiters' chat holds the file or questions: the bot deletes its recent
            # messages there and asks the recruiters to delete the rest.
            self.uow.add_outbox("dossier_withdrawn", d.id, {
                "dossier_id": d.id, "delete": [list(m) for m in recent], "older": older})
        done = self.say(Msg("withdraw.done", {"title": vacancy.title}), about=vacancy)
        if active is not None:
            self.dossier = active  # they go on where they were
            return [done, *self.prompt()]
        self.dossier = None
        if self.candidate.active_dossier_id is not None:
            self.candidate.active_dossier_id = None
            self.uow.save_candidate(self.candidate)
        return [done, self.vacancy_list("vacancies.others")]

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
        """Where the active application is, then every other one (each can be opened)."""
        d = self.dossier
        if d is None:
            return self.no_active_dossier()
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
        others = [x for x in self.my_dossiers() if x.id != d.id]
        listed = self.overview(others, Msg("status.others"))[:1] if others else []
        return [self.say(*parts, choices=choices), *listed, *self.short_prompt()]
