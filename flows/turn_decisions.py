"""A recruiter's decision, applied in the candidate's unit of work (see flows/decisions.py).

Like a recruiter's answer to a question (flows/turn_questions.py): once per event, the decision
is recorded with the dossier (who, when), the candidate's message is queued to their chat in
their language, and the recruiters' chat is told who decided and when — in one transaction.
A withdrawn or erased dossier cannot be decided; a press on a button older than the last
decision does nothing.

Asking for a document opens the submitted dossier for that one document: the candidate's next
upload is taken for it (also after the deadline: the recruiters asked), and the recruiters get
the dossier again with it.
"""

from __future__ import annotations

from typing import Any

from flows import decisions as D
from flows.events import Reply, outgoing
from flows.messages import Msg, locale_for
from flows.ports import DecisionRecord, DossierRecord
from flows.text_cleaning import clean_text
from flows.turn import Turn
from flows.turn_questions import RECRUITERS_LANGUAGE


class Decisions(Turn):
    def decide(self, press: D.Press, decided_by: str, by_name: str,
               event_id: int | None) -> str:
        """"decided", "gone" (withdrawn, erased, not submitted), "stale" (decided since the
        button was made), "invalid" (no such document or reason) or "duplicate"."""
        if event_id is not None and not self.uow.claim_event(event_id):
            return "duplicate"
        d = self.uow.dossier(press.dossier_id) if self.candidate is not None else None
        if d is None or d.vacancy_id not in self.engine.vacancies or d.status != "submitted":
            self.tell_recruiters_decision(Msg("rec.decide.gone", {"id": press.dossier_id}))
            return "gone"
        assert d.id is not None and self.candidate is not None
        if d.decision_version != press.version or d.decision in D.FINAL:
            self.tell_recruiters_decision(Msg("rec.decide.stale", {"id": d.id}))
            return "stale"
        vacancy = self.engine.vacancies[d.vacancy_id]
        earlier = self.uow.decisions(d.id)
        step = D.next_step(vacancy, earlier) if press.kind == D.INVITED else None
        document = None
        if press.kind == D.DOCUMENT_ASKED:
            index = int(press.argument) if press.argument.isdecimal() else -1
            document = vacancy.documents[index] if 0 <= index < len(vacancy.documents) else None
            if document is None:
                self.tell_recruiters_decision(Msg("rec.decide.stale", {"id": d.id}))
                return "invalid"
        reason = press.argument if press.kind == D.DECLINED else None
        if press.kind == D.DECLINED and reason not in D.REASONS:
            self.tell_recruiters_decision(Msg("rec.decide.stale", {"id": d.id}))
            return "invalid"

        self.uow.add_decision(DecisionRecord(
            id=None, dossier_id=d.id, kind=press.kind, decided_by=decided_by,
            decided_at=self.now,
            reason=document.id if document is not None else reason,
            step=step[0] if step is not None else None))
        d.decision = press.kind
        d.decision_version += 1
        if document is not None:
            d.awaiting_document = document.id
            # Their next upload goes to this application, whatever they were looking at.
            self.candidate.active_dossier_id = d.id
            self.uow.save_candidate(self.candidate)
        d.updated_at = self.now
        self.uow.save_dossier(d)
        self.uow.audit(d.id, "decision", {"kind": press.kind, "by": decided_by,
                                          "reason": reason,
                                          "document": document.id if document else None,
                                          "step": step[0] if step is not None else None})

        locale = locale_for(self.candidate.language, vacancy.country)
        chat = self.candidate.chat_id
        if chat:  # a terminal candidate has no chat; the decision is kept all the same
            reply = Reply(self.candidate.language,
                          D.candidate_message(vacancy, press.kind, locale, step=step,
                                              reason=reason, document=document),
                          expects="document" if document is not None else "nothing",
                          document=document.id if document is not None else None,
                          locale=locale)
            self.uow.add_outbox("message", None, {"chat_id": chat,
                                                  "messages": outgoing([reply])}, chat_key=chat)
        about = D.detail(press.kind, step=step, reason=reason, document=document)
        name = clean_text(str(d.answers.get("candidate.name") or "—"))
        line = D.done_line(press.kind, d.id, name, vacancy.title, about,
                           clean_text(by_name) or decided_by, self.now, vacancy)
        # Further decisions from here (none after a decline; a requested document brings the
        # dossier back with its buttons).
        later = (D.decision_choices(d.id, d.decision_version, d.decision)
                 if press.kind in (D.INVITED, D.REVIEWED) else ())
        self.tell_recruiters_decision(line, d, later, vacancy.country)
        return "decided"

    def tell_recruiters_decision(self, msg: Msg, dossier: DossierRecord | None = None,
                                 choices: tuple[Any, ...] = (),
                                 country: str | None = None) -> None:
        reply = Reply(RECRUITERS_LANGUAGE, (msg,), choices,
                      locale=locale_for(RECRUITERS_LANGUAGE, country))
        messages = outgoing([reply])
        if dossier is not None:  # about a dossier: taken back when it is erased
            messages = [{**m, "dossier_id": dossier.id} for m in messages]
        self.uow.add_outbox("message", None, {"chat_id": "recruiters", "messages": messages})
