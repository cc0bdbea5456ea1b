"""Starting: a deep link or the list, the privacy notice, and consent before anything is stored."""

from __future__ import annotations

from flows import replies as R
from flows.events import Reply
from flows.flow import PRIVACY, q_state
from flows.messages import Msg
from flows.ports import CandidateRecord, DossierRecord
from flows.turn import Turn

PRIVACY_VERSION = "2026-11-29"  # the notice says what, why, who, how long, where (issue 11)


class Consent(Turn):
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
            return [self.say(self.closed_since(vacancy), about=vacancy),
                    self.vacancy_list("vacancies.others")]
        if self.candidate is not None and self.candidate.active_dossier_id is not None:
            # Until they accept, nothing they type belongs to the application they left.
            self.candidate.active_dossier_id = None
            self.uow.save_candidate(self.candidate)
            self.dossier = None
        # Someone started: counted per vacancy and day, without who (the funnel's "started").
        self.uow.count_notice_shown(vacancy.id, self.now.astimezone(vacancy.zone).date())
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
            return [self.say(self.closed_since(vacancy), about=vacancy),
                    self.vacancy_list("vacancies.others")]
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
