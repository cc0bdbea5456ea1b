"""Documents: what may be uploaded now, checked by content, stored, and the file completed."""

from __future__ import annotations

import mimetypes
from datetime import timedelta
from pathlib import Path
from typing import Any

from flows import replies as R
from flows.eligibility import Verdict
from flows.events import Reply, Upload
from flows.flow import COLLECTING, EXPIRED, SUBMITTED, q_state
from flows.messages import Msg
from flows.ports import DocumentRecord
from flows.questions import next_question
from flows.text_cleaning import clean_text, display_name
from flows.turn import Turn
from flows.vacancy import CriminalRecordRule

ALBUM_WINDOW = timedelta(seconds=30)  # Telegram delivers an album's pages within seconds
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


class Documents(Turn):
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
        requested = self.requested_document()
        if requested is not None:  # asked for by the recruiters: taken after the deadline too
            return self.refuse_kind_or_size(upload, requested)
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
        return self.refuse_kind_or_size(upload, doc)

    def refuse_kind_or_size(self, upload: Upload, doc: Any) -> list[Reply] | None:
        kind = file_type(upload)
        if kind not in doc.types:
            return self.document_prompt((Msg("upload.wrong_type", {
                "label": doc.label, "allowed": ", ".join(doc.types),
                "given": kind or (Path(display_name(upload.file_name)).suffix
                                  or clean_text(upload.media_type or "") or "?")}),))
        if upload.size > doc.max_size_mb * 1024 * 1024:
            # Numbers are said by Babel in the reply's locale: 12,5 MB in Dutch.
            return self.document_prompt((Msg("upload.too_big", {
                "label": doc.label, "max": float(doc.max_size_mb),
                "given": round(upload.size / 1024 / 1024, 1)}),))
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
        requested = self.requested_document()
        if requested is not None:
            return [self.say(*before, R.send_prompt(requested), *R.document_rules(requested))]
        return [R.next_document(self.vacancy, self.verdict(), self.uow.documents(d.id), d.awaiting_document,
                                self.lang, before, d.id)]

    def requested_document(self) -> Any:
        """The document the recruiters asked for on this submitted dossier, if still awaited."""
        d = self.dossier
        if d is None or d.state != SUBMITTED or d.decision != "document_asked":
            return None
        ids = {doc.id for doc in self.vacancy.documents}
        return self.vacancy.document(d.awaiting_document) if d.awaiting_document in ids else None

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
        requested = self.requested_document()
        if requested is not None:
            return self.requested_upload(upload, requested)
        album = self.album_document(upload)
        doc = album or self.awaited_document()
        refusal = self.refuse_content(upload, doc)
        if refusal is not None:
            return refusal
        if d.state != COLLECTING:  # a later page of an album already taken: keep, nothing else
            return self.store_album_page(upload, album)
        stored = self.engine.files.put(upload.path, self.uow.sealer())
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
        return [R.next_document(self.vacancy, verdict, self.uow.documents(d.id),
                                d.awaiting_document, self.lang, (received,), d.id)]

    def requested_upload(self, upload: Upload, doc: Any) -> list[Reply]:
        """The document the recruiters asked for: stored in place of an earlier one, and the
        dossier sent to the recruiters again with it."""
        d = self.dossier
        assert d is not None and d.id is not None and upload.path is not None
        refusal = self.refuse_content(upload, doc)
        if refusal is not None:
            return refusal
        stored = self.engine.files.put(upload.path, self.uow.sealer())
        self.new_files.append(stored.stored_path)
        self.obsolete_files += self.uow.remove_documents(d.id, doc.id)
        self.uow.add_document(DocumentRecord(
            id=None, dossier_id=d.id, kind=doc.id, original_name=display_name(upload.file_name, 255),
            stored_path=stored.stored_path, size=stored.size, sha256=stored.sha256,
            media_type=upload.media_type or mimetypes.guess_type(upload.file_name)[0] or "",
            uploaded_at=self.now, media_group=upload.group))
        self.uow.audit(d.id, "upload", {"document": doc.id, "requested": True})
        d.awaiting_document = None
        self.save()
        self.uow.add_outbox("dossier_submitted", d.id, {"dossier_id": d.id},
                            not_before=self.now + ALBUM_WINDOW if upload.group else None)
        return [self.say(Msg("decision.document_received", {
            "label": doc.label, "name": display_name(upload.file_name)}))]

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
        stored = self.engine.files.put(upload.path, self.uow.sealer())
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
        return [R.submitted(self.vacancy, self.lang, before, d.id)]
