"""The candidate's rights over their data: access (/mydata) and erasure (/delete).

/mydata sends a readable summary of every application, then everything stored as a JSON file,
then their documents. /delete asks first, listing what goes; its button names the candidate
and what they were shown, so a stale or forged press erases nothing. The erasure removes every
application, answer, document and question and the candidate row (the store deletes their key
too); the recruiters are told once, and asked to delete their copies. Nothing personal is
written after it in the same turn: only the goodbye, which holds counts, no personal data.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from flows import replies as R
from flows.data_access import Application, document_files, export_file, summary_blocks
from flows.events import Choice, Reply
from flows.messages import Msg
from flows.ports import Erasure, UnitOfWork
from flows.turn import Turn

CANDIDATE_ERASED = "candidate_erased"  # the outbox kind of the recruiters' notice


def queue_erasure_notice(uow: UnitOfWork, erasure: Erasure, asked: int = 0) -> bool:
    """Queue the recruiters' notice of an erasure when their chat holds anything about it (a
    submitted file, a question, the bot's messages); say whether it was queued. Ids and
    vacancies only: the sender renders it and takes the listed messages back."""
    submitted = any(status == "submitted" for _id, _vacancy, status in erasure.dossiers)
    if not (submitted or asked or erasure.recent_messages or erasure.older_messages):
        return False
    uow.add_outbox(CANDIDATE_ERASED, None, {
        "dossiers": [list(d) for d in erasure.dossiers],
        "delete": [list(m) for m in erasure.recent_messages],
        "older": erasure.older_messages})
    return True


class Privacy(Turn):
    # ------------------------------------------------------------------ access

    def my_data(self) -> list[Reply]:
        if self.candidate is None:
            return [self.say(Msg("mydata.nothing"))]
        applications = [
            Application(d, self.engine.vacancies.get(d.vacancy_id),
                        self.engine.flows.get(d.vacancy_id),
                        self.uow.documents(d.id) if d.id is not None else [])
            for d in self.my_dossiers()]  # type: ignore[attr-defined]
        export = self.uow.export_data()
        blocks = summary_blocks(self.candidate, applications, export, self.lang)
        replies = R.packed(self.lang, blocks, locale=self.said_in())
        files = (export_file(export), *document_files(applications))
        replies[-1] = replace(replies[-1], attachments=files)
        return [*replies, *(self.short_prompt() if self.dossier is not None else [])]

    # ------------------------------------------------------------------ erasure

    def erase_request(self) -> list[Reply]:
        """/delete: what goes, and a button to confirm."""
        if self.candidate is None:
            return [self.say(Msg("erase.nothing"))]
        dossiers = self.my_dossiers()  # type: ignore[attr-defined]
        goes: list[Any] = [Msg("erase.goes")]
        goes += [Msg("erase.goes.application", {"title": self.title_of(d),  # type: ignore[attr-defined]
                                                "status": Msg(f"status.{d.status}")})
                 for d in dossiers]
        if dossiers:
            goes.append(Msg("erase.goes.contents"))
        goes.append(Msg("erase.goes.you"))
        parts: list[Any] = [Msg("erase.confirm"), goes]
        if dossiers:
            parts.append(Msg("erase.recruiters"))
        parts.append(Msg("erase.final"))
        return [self.say(*parts, choices=(
            Choice(f"c:erase:{self.erase_token()}", Msg("btn.confirm_erase")),
            Choice("c:no", Msg("btn.cancel"))))]

    def erase_token(self) -> str:
        """The candidate's id and a digest of who they are and of the applications they were
        shown (ids and versions): any change since, or another person, makes the press stale."""
        assert self.candidate is not None
        shown = ",".join(f"{d.id}.{d.version}" for d in sorted(
            self.uow.dossiers(), key=lambda d: d.id or 0))
        seen = f"{self.candidate.id}|{self.candidate.created_at.timestamp():.6f}|{shown}"
        return f"{self.candidate.id}.{hashlib.sha256(seen.encode()).hexdigest()[:12]}"

    def erase_confirmed(self, shown: str) -> list[Reply]:
        if self.candidate is None or shown != self.erase_token():
            return self.stale()  # type: ignore[attr-defined]
        # Whether the recruiters' chat got questions: counted before they are erased.
        asked = sum(self.uow.erase_questions(d.id) for d in self.uow.dossiers()
                    if d.id is not None)
        erasure = self.uow.erase_candidate()
        # From here on nothing of theirs is written: no candidate, no dossier, no audit.
        self.candidate, self.dossier = None, None
        self.obsolete_files += erasure.stored_paths
        told = queue_erasure_notice(self.uow, erasure, asked)
        parts: list[Any] = [Msg("erase.done", {
            "applications": Msg("erase.applications", {"n": len(erasure.dossiers)}),
            "files": Msg("erase.files", {"n": len(erasure.stored_paths)})})]
        if told:
            parts.append(Msg("erase.recruiters_asked"))
        parts.append(Msg("erase.fresh"))
        return [self.say(*parts)]
