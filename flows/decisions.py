"""The recruiters' decisions on a submitted dossier, as texts and buttons. Pure: no Telegram.

A recruiter invites a candidate to the next selection step, declines them (with a reason
category), asks for a document or marks the dossier reviewed. Every decision is confirmed
first, then recorded with the dossier and told to the candidate in their language, from the
vacancy's own texts: the step's name, its day and the seed's note on it ("onder voorbehoud").
Where the seed gives no day, the candidate hears that the recruiters will tell them the date;
no date, time or place is ever made up.

Buttons carry `rd:<dossier>:<version>:<action>:<argument>:<stage>` (under 64 bytes). The
version is the dossier's count of decisions: once one is taken, every older button is stale
and does nothing. Stages: none (the recruiter pressed a decision: choose or confirm), "ok"
(confirmed: apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_date

from flows.events import Choice
from flows.messages import Msg, babel_locale, locale_for
from flows.ports import CandidateRecord, DecisionRecord, DocumentRecord, DossierRecord
from flows.vacancy import Document, SelectionStep, Vacancy

PREFIX = "rd"
INVITED, DECLINED, DOCUMENT_ASKED, REVIEWED = "invited", "declined", "document_asked", "reviewed"
KINDS = (INVITED, DECLINED, DOCUMENT_ASKED, REVIEWED)
ACTIONS = {"inv": INVITED, "dec": DECLINED, "doc": DOCUMENT_ASKED, "rev": REVIEWED}
CODES = {kind: code for code, kind in ACTIONS.items()}
# A decline's reason category, told to the candidate: code -> the key of its texts.
REASONS = {"req": "requirements", "fit": "better_fit", "inc": "incomplete", "oth": "other"}
FINAL = (DECLINED,)  # after it, no button is offered and none is taken
CONFIRM, CANCEL = "ok", "no"


@dataclass(frozen=True)
class Press:
    """A decision button, parsed: `stage` "" (choose or confirm), "ok" (apply) or "no"."""

    dossier_id: int
    version: int
    kind: str
    argument: str = ""
    stage: str = ""

    @property
    def token(self) -> str:
        return token(self.dossier_id, self.version, self.kind, self.argument, self.stage)


def token(dossier_id: int, version: int, kind: str, argument: str = "", stage: str = "") -> str:
    data = f"{PREFIX}:{dossier_id}:{version}:{CODES[kind]}:{argument}:{stage}"
    assert len(data.encode()) <= 64, data  # Telegram's limit for callback data
    return data


def parse(data: str) -> Press | None:
    """A decision button's data, or None when it is not one we make (forged, garbled)."""
    parts = data.split(":")
    if len(parts) != 6 or parts[0] != PREFIX:
        return None
    _, dossier, version, code, argument, stage = parts
    if (not dossier.isdecimal() or not version.isdecimal() or code not in ACTIONS
            or stage not in ("", CONFIRM, CANCEL) or len(argument) > 8):
        return None
    kind = ACTIONS[code]
    if kind == DECLINED and argument and argument not in REASONS:
        return None
    if kind == DOCUMENT_ASKED and argument and not argument.isdecimal():
        return None
    if kind in (INVITED, REVIEWED) and argument:
        return None
    return Press(int(dossier), int(version), kind, argument, stage)


# --------------------------------------------------------------------------- what is offered


def invitation_steps(vacancy: Vacancy) -> list[tuple[int, SelectionStep]]:
    return [(i, step) for i, step in enumerate(vacancy.selection) if step.invitation]


def next_step(vacancy: Vacancy, decisions: list[DecisionRecord]) -> tuple[int, SelectionStep] | None:
    """The selection step an invitation now names: the first the candidate was not invited
    to yet; None when the seed names none (left) to invite to."""
    invited = [d.step for d in decisions if d.kind == INVITED and d.step is not None]
    after = max(invited, default=-1)
    return next(((i, s) for i, s in invitation_steps(vacancy) if i > after), None)


def offered_documents(vacancy: Vacancy, provided: set[str]) -> list[tuple[int, Document]]:
    """The documents a recruiter may ask for: those of the vacancy not provided yet first,
    then those provided (a clearer copy, a newer extract)."""
    indexed = list(enumerate(vacancy.documents))
    return ([(i, d) for i, d in indexed if d.id not in provided]
            + [(i, d) for i, d in indexed if d.id in provided])


def decision_choices(dossier_id: int, version: int, current: str | None) -> tuple[Choice, ...]:
    """The four decisions, as buttons under a notification (none once declined)."""
    if current in FINAL:
        return ()
    return tuple(Choice(token(dossier_id, version, kind), Msg(f"rec.decide.btn_{kind}"))
                 for kind in KINDS)


def reason_choices(press: Press) -> tuple[Choice, ...]:
    return tuple(Choice(token(press.dossier_id, press.version, DECLINED, code),
                        Msg(f"rec.decide.reason_{name}")) for code, name in REASONS.items())


def document_choices(press: Press, offered: list[tuple[int, Document]]) -> tuple[Choice, ...]:
    return tuple(Choice(token(press.dossier_id, press.version, DOCUMENT_ASKED, str(i)),
                        doc.label) for i, doc in offered)


def confirm_choices(press: Press) -> tuple[Choice, ...]:
    return (Choice(token(press.dossier_id, press.version, press.kind, press.argument, CONFIRM),
                   Msg("rec.decide.btn_confirm")),
            Choice(token(press.dossier_id, press.version, press.kind, press.argument, CANCEL),
                   Msg("rec.decide.btn_cancel")))


@dataclass(frozen=True)
class Preview:
    """Where a press on a decision leads before anything happens, for every place a recruiter
    decides (the Telegram buttons, the dashboard): `stage` "gone" (not a submitted dossier),
    "stale" (decided since), "reason" or "document" (a choice still to make, in `choices`), or
    "confirm": `what` would happen and what the candidate would read (`told`, in `locale`)."""

    stage: str
    choices: tuple[Choice, ...] = ()
    what: Msg | None = None
    told: tuple[Any, ...] = ()
    locale: str = ""


def preview(vacancy: Vacancy | None, dossier: DossierRecord, candidate: CandidateRecord,
            documents: list[DocumentRecord], decisions: list[DecisionRecord],
            press: Press) -> Preview:
    """The next step of a press (see `Preview`): the same for every way of deciding."""
    if vacancy is None or dossier.status != "submitted":
        return Preview("gone")
    if dossier.decision_version != press.version or dossier.decision in FINAL:
        return Preview("stale")
    if press.kind == DECLINED and not press.argument:
        return Preview("reason", reason_choices(press))
    if press.kind == DOCUMENT_ASKED and not press.argument:
        offered = offered_documents(vacancy, {doc.kind for doc in documents})
        return Preview("document", document_choices(press, offered))
    document = None
    if press.kind == DOCUMENT_ASKED:
        index = int(press.argument)
        if index >= len(vacancy.documents):
            return Preview("stale")
        document = vacancy.documents[index]
    step = next_step(vacancy, decisions) if press.kind == INVITED else None
    reason = press.argument if press.kind == DECLINED else None
    locale = locale_for(candidate.language, vacancy.country)
    return Preview("confirm", confirm_choices(press),
                   what(press.kind, vacancy, step=step, reason=reason, document=document),
                   candidate_message(vacancy, press.kind, locale, step=step, reason=reason,
                                     document=document), locale)


# --------------------------------------------------------------------------- what is said


def step_day(step: SelectionStep, locale: str) -> str:
    assert step.day is not None
    return format_date(step.day, "d MMMM y", locale=babel_locale(locale))


def invitation(vacancy: Vacancy, found: tuple[int, SelectionStep] | None, locale: str) -> Msg:
    """The invitation to the candidate: the step, its day and the seed's note on it; the
    recruiters will say the date where the seed gives none, and where and when on the day."""
    title = vacancy.title
    if found is None:
        return Msg("decision.invited_no_step", {"title": title})
    step = found[1]
    values: dict[str, Any] = {"title": title, "step": step.name,
                              "note": step.date_note or ""}
    if step.day is not None:
        values["day"] = step_day(step, locale)
        return Msg("decision.invited_dated_note" if step.date_note else "decision.invited_dated",
                   values)
    return Msg("decision.invited_undated_note" if step.date_note else "decision.invited_undated",
               values)


def candidate_message(vacancy: Vacancy, kind: str, locale: str, *,
                      step: tuple[int, SelectionStep] | None = None,
                      reason: str | None = None, document: Document | None = None) -> tuple[Any, ...]:
    """What the candidate is told, paragraph by paragraph (rendered in `locale`)."""
    title = vacancy.title
    if kind == INVITED:
        return (invitation(vacancy, step, locale), Msg("decision.questions"))
    if kind == DECLINED:
        assert reason in REASONS
        return (Msg("decision.declined", {"title": title}),
                Msg("decision.declined_reason", {"reason": Msg(f"decision.reason_{REASONS[reason]}")}),
                Msg("decision.declined_goodbye"))
    if kind == DOCUMENT_ASKED:
        assert document is not None
        return (Msg("decision.document_asked", {"title": title, "label": document.label}),
                Msg("checklist.spec", {"types": ", ".join(document.types),
                                       "max": f"{document.max_size_mb:g}"}))
    return (Msg("decision.reviewed", {"title": title}),)


def what(kind: str, vacancy: Vacancy, *, step: tuple[int, SelectionStep] | None = None,
         reason: str | None = None, document: Document | None = None) -> Msg:
    """The decision in a few words, for the recruiters: "uitnodigen voor Schriftelijke proef"."""
    if kind == INVITED:
        return (Msg("rec.decide.what_invited", {"step": step[1].name}) if step is not None
                else Msg("rec.decide.what_invited_no_step"))
    if kind == DECLINED:
        return Msg("rec.decide.what_declined", {"reason": Msg(
            f"rec.decide.reason_{REASONS[reason or 'oth']}")})
    if kind == DOCUMENT_ASKED:
        assert document is not None
        return Msg("rec.decide.what_document_asked", {"label": document.label})
    return Msg("rec.decide.what_reviewed")


def detail(kind: str, *, step: tuple[int, SelectionStep] | None = None,
           reason: str | None = None, document: Document | None = None) -> Any:
    """What a done line names after the decision: the step, the reason, the document."""
    if kind == INVITED:
        return step[1].name if step is not None else Msg("rec.decide.next_step")
    if kind == DECLINED:
        return Msg(f"rec.decide.reason_{REASONS[reason or 'oth']}")
    if kind == DOCUMENT_ASKED:
        assert document is not None
        return document.label
    return ""


def done_line(kind: str, dossier_id: int, name: str, title: Any, about: Any, by: str,
              at: datetime, vacancy: Vacancy) -> Msg:
    """ "✅ Uitgenodigd door Rita om 10:12 — #12 Lena Peeters, Systeembeheerder: ..." """
    return Msg(f"rec.decide.done_{kind}", {
        "by": by, "time": at.astimezone(vacancy.zone).strftime("%H:%M"), "id": dossier_id,
        "name": name, "title": title, "detail": about})
