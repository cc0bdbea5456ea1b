"""Compose the engine's replies: questions, verdicts, checklists, notices. Keys, not text."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from flows.eligibility import Outcome, Reason, Status, Verdict
from flows.events import Choice, Reply
from flows.flow import Flow
from flows.messages import Msg, Quantity, babel_locale, catalogue, locale_for, render
from flows.ports import DocumentRecord
from flows.questions import Question
from flows.retention import promise
from flows.sections import Place
from flows.vacancy import CriminalRecordRule, Deadline, Document, Vacancy

QUOTE_MAX = 180
# Outcomes of an assumed rule that carry "(onze aanname)": an uncertain line says it already.
ASSUMED_MARKS = (Outcome.MET, Outcome.CONDITION, Outcome.REVIEW, Outcome.INFO)


def locale_of(vacancy: Vacancy, lang: str) -> str:
    """What a reply about this vacancy is said in: Dutch of the Netherlands for a vacancy
    there, Flemish Dutch otherwise (see flows.messages)."""
    return locale_for(lang, vacancy.country)


def vacancy_key(vacancy_id: str) -> str:
    """A short stable key for a vacancy in callback data (ids may be 64 characters long)."""
    return hashlib.sha1(vacancy_id.encode()).hexdigest()[:8]


def no_deadline(vacancy: Vacancy) -> Msg:
    """Said as what it is: the seed gives no date (never "open until filled" as a fact)."""
    return Msg("deadline.none", {"employer": vacancy.ask_whom})


def when_text(vacancy: Vacancy, lang: str) -> Msg:
    if vacancy.closes_at() is None:
        return no_deadline(vacancy)
    return moment_text(vacancy.deadline, locale_of(vacancy, lang))


def moment_text(deadline: Deadline, lang: str) -> Msg:
    """A dated deadline (applications, questions) as the candidate reads it; `lang` may be a
    variant locale (nl_NL), which also picks the date words."""
    closes = deadline.closes_at()
    assert closes is not None and deadline.until is not None and deadline.timezone is not None
    locale = babel_locale(lang)
    if deadline.whole_day:
        return Msg("deadline.whole_day",
                   {"day": format_date(deadline.until, "EEEE d MMMM y", locale=locale)})
    zone = ZoneInfo(deadline.timezone)
    return Msg("deadline.exact", {
        "when": format_datetime(closes, "EEEE d MMMM y, HH:mm", tzinfo=zone, locale=locale),
        # A named zone where the catalogue has a name for it ("Belgische tijd"), else the IANA id.
        "zone": (Msg(f"zone.{deadline.timezone}") if f"zone.{deadline.timezone}" in catalogue(lang)
                 else deadline.timezone),
    })


def time_left_text(left: timedelta | None) -> Msg | None:
    """"nog 2 dagen en 3 uur", "1 day left": the two largest units, a zero one left out; each
    said by Babel with its own plural."""
    if left is None:
        return None
    if left <= timedelta(0):
        return Msg("time.over")
    minutes = int(left.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        units = [Quantity(days, "duration-day"), Quantity(hours, "duration-hour")]
    elif hours:
        units = [Quantity(hours, "duration-hour"), Quantity(mins, "duration-minute")]
    else:
        units = [Quantity(max(mins, 1), "duration-minute")]
    first, *rest_units = units
    if rest_units and rest_units[0].amount:
        return Msg("time.left_two", {"first": first, "second": rest_units[0]})
    return Msg("time.left", {"duration": first})


def deadline_line(vacancy: Vacancy, now: datetime, lang: str) -> Msg:
    closes = vacancy.closes_at()
    if closes is None:
        return no_deadline(vacancy)
    left = closes.astimezone(UTC) - now.astimezone(UTC)
    return Msg("deadline.line", {"when": when_text(vacancy, lang),
                                 "left": time_left_text(left) or ""})


def answer_label(question: Question, value: Any) -> Any:
    if question.kind == "yes_no":
        return Msg("btn.yes" if value else "btn.no")
    if question.kind == "date" and isinstance(value, str):
        return date.fromisoformat(value).strftime("%d-%m-%Y")
    if value == "" and question.optional:
        return Msg("answer.skipped")
    if question.kind == "choice":
        for option in question.options:
            if option.value == value:
                return option.label
    return value


def ask(flow: Flow, question: Question, answers: dict[str, Any], lang: str,
        before: tuple[Any, ...] = (), dossier_id: int | None = None) -> Reply:
    # Button data names the dossier and the question: a press is only ever applied to the
    # application and the question it was shown for.
    at = f"{dossier_id}:{flow.index[question.id]}"
    choices: tuple[Choice, ...] = ()
    if question.kind == "yes_no":
        choices = (Choice(f"a:{at}:1", Msg("btn.yes")), Choice(f"a:{at}:0", Msg("btn.no")))
    elif question.kind == "choice":
        choices = tuple(Choice(f"a:{at}:{i}", o.label) for i, o in enumerate(question.options))
    if question.optional:
        choices += (Choice(f"s:{at}", Msg("btn.skip")),)
    if question.rest_none:
        choices += (Choice(f"r:{at}", Msg("btn.rest_none", {"level": question.options[0].label})),)
    parts: list[Any] = list(before)
    if question.id in answers:
        parts.append(Msg("answer.current", {"value": answer_label(question, answers[question.id])}))
    place = flow.places[question.id]
    parts.append(progress(place))
    parts.append(question.prompt)
    return Reply(lang, tuple(parts), choices,
                 expects="choice" if question.kind in ("yes_no", "choice") else "text",
                 progress=(place.n, place.total), question_id=question.id,
                 locale=locale_of(flow.vacancy, lang))


def progress(place: Place) -> Msg:
    """"Vraag 3 van 8 · Diploma": of a total fixed at the start, never growing."""
    return Msg("progress", {"n": place.n, "total": place.total,
                            "section": Msg(f"section.{place.section}")})


def reason_lines(reasons: tuple[Reason, ...], only: set[Outcome] | None = None,
                 said: set[tuple[str, Any]] | None = None) -> list[Any]:
    """Each reason with the seed's words when they state the rule, and the rule's own
    assumption once, where it applies — never a marker on what the seed states. `said`
    carries what was said already across several calls (one verdict, several groups)."""
    lines: list[Any] = []
    said = set() if said is None else said
    for r in reasons:
        if only is not None and r.outcome not in only:
            continue
        # A condition of a rule the seed does not state must not read as firm as one it does.
        mark = (f"reason.mark.{r.outcome.value}_assumed"
                if r.assumed and r.outcome in ASSUMED_MARKS else f"reason.mark.{r.outcome.value}")
        lines.append(Msg(mark, {"text": r.message}))
        if r.source and (r.rule_id, r.source) not in said:
            said.add((r.rule_id, r.source))  # one rule, one quote: not again for its info line
            quote = " ".join(r.source.split())
            if len(quote) > QUOTE_MAX:
                quote = quote[: QUOTE_MAX - 1].rstrip() + "…"
            lines.append(Msg("reason.source", {"quote": quote}))
        if r.assumption and (r.rule_id, r.assumption) not in said:
            said.add((r.rule_id, r.assumption))
            lines.append(Msg("reason.assumption", {"text": r.assumption}))
    return lines


def verdict_heading(verdict: Verdict) -> str:
    """The verdict's first line: what rests only on our assumptions is not said as firm."""
    conditions = [r for r in verdict.reasons if r.outcome is Outcome.CONDITION]
    if verdict.status is Status.CONDITIONAL and all(r.assumed for r in conditions):
        return "verdict.conditional_assumed"
    met = [r for r in verdict.reasons if r.outcome is Outcome.MET]
    if verdict.status is Status.ELIGIBLE and all(r.assumed for r in met):
        return "verdict.eligible_assumed"  # the seed states no condition of its own
    return f"verdict.{verdict.status.value}"


MESSAGE_MAX = 1000  # a phone screen or two: longer details are split into several messages
OUTSTANDING = (Outcome.FAILED, Outcome.UNCERTAIN, Outcome.CONDITION, Outcome.REVIEW)


def verdict_short(vacancy: Vacancy, verdict: Verdict, lang: str,
                  dossier_id: int | None, now: datetime) -> Reply:
    """The verdict as a phone shows it: the outcome, what is still open and the deadline, in
    one short message; the reasons with their sources and what the vacancy leaves unknown are
    one tap away ("Waarom?", "Over de vacature")."""
    parts: list[Any] = [Msg(verdict_heading(verdict), {"title": vacancy.title,
                                                       "employer": vacancy.employer_ref,
                                                       "ask": vacancy.ask_whom})]
    # What is still open, without the seed's words (behind "Waarom?"); an uncertain line keeps
    # its assumption, for "check with the employer" must say what we assumed.
    open_lines = []
    order = {o: i for i, o in enumerate(OUTSTANDING)}
    for r in sorted(verdict.reasons, key=lambda r: order.get(r.outcome, len(order))):
        # An extract good today but too old before the deadline is time-critical: said too.
        if r.outcome in OUTSTANDING or r.message.key == "reason.record.expires":
            open_lines += [line for line in reason_lines((r,)) if line.key != "reason.source"
                           and (r.outcome is Outcome.UNCERTAIN or line.key != "reason.assumption")]
    if open_lines:
        parts.append(open_lines)
    if verdict.score is not None and verdict.max_score:
        parts.append(Msg("verdict.score", {"score": verdict.score, "max": verdict.max_score}))
    parts.append(deadline_line(vacancy, now, lang))
    return Reply(lang, tuple(parts), details_choices(dossier_id), expects="nothing",
                 meta={"verdict": verdict.status.value}, locale=locale_of(vacancy, lang))


def details_choices(dossier_id: int | None) -> tuple[Choice, ...]:
    return (Choice(f"w:{dossier_id}", Msg("btn.why")), Choice(f"i:{dossier_id}", Msg("btn.about")))


def packed(lang: str, blocks: list[list[Any]], limit: int = MESSAGE_MAX,
           locale: str | None = None) -> list[Reply]:
    """Blocks of parts as few messages as fit `limit` characters each (a block never splits,
    unless it is longer than the limit on its own: then into runs of whole lines, its heading
    staying with the first of them)."""
    messages: list[list[Any]] = []
    size = 0
    said_in = locale or lang
    for block in blocks:
        for piece in _runs(block, limit, said_in):
            length = len(render(piece, said_in)) + 2
            if messages and size + length <= limit:
                messages[-1].append(piece)
                size += length
            else:
                messages.append([piece])
                size = length
    return [Reply(lang, tuple(m), locale=locale) for m in messages]


def _runs(block: list[Any], limit: int, lang: str) -> list[list[Any]]:
    """A block as runs of consecutive lines that each fit `limit` (the block itself if it fits)."""
    runs: list[list[Any]] = [[]]
    for line in block:
        if runs[-1] and len(render([*runs[-1], line], lang)) > limit:
            runs.append([])
        runs[-1].append(line)
    return runs


def verdict_details(vacancy: Vacancy, verdict: Verdict, lang: str) -> list[Reply]:
    """"Waarom?": every reason with the seed's words or our assumption, and the score."""
    _heading, lines, *score = verdict_parts(vacancy, verdict)
    # Keep each reason with its source and assumption lines.
    grouped: list[list[Any]] = []
    for line in lines:
        if line.key not in ("reason.source", "reason.assumption") or not grouped:
            grouped.append([line])
        else:
            grouped[-1].append(line)
    heading = [Msg("why.title", {"title": vacancy.title})]
    return packed(lang, [heading + (grouped[0] if grouped else []), *grouped[1:],
                         *([list(score[0])] if score else [])], locale=locale_of(vacancy, lang))


def about(vacancy: Vacancy, verdict: Verdict, lang: str) -> list[Reply]:
    """"Over de vacature": the facts, what is good to know, what the vacancy text leaves open."""
    blocks = [list(part) for part in info_parts(vacancy, verdict)]
    locale = locale_of(vacancy, lang)
    return packed(lang, blocks, locale=locale) or [Reply(lang, (Msg("about.nothing"),),
                                                         locale=locale)]


def verdict_parts(vacancy: Vacancy, verdict: Verdict) -> list[Any]:
    parts: list[Any] = [Msg(verdict_heading(verdict), {"title": vacancy.title,
                                                       "employer": vacancy.employer_ref,
                                                       "ask": vacancy.ask_whom})]
    # What the candidate must still do comes first; what is fine follows.
    order = (Outcome.FAILED, Outcome.UNCERTAIN, Outcome.CONDITION, Outcome.REVIEW, Outcome.MET,
             Outcome.INFO)
    said: set[tuple[str, Any]] = set()
    parts.append([line for outcome in order
                  for line in reason_lines(verdict.reasons, {outcome}, said)])
    if verdict.score is not None and verdict.max_score:
        note = ([Msg("reason.assumption", {"text": verdict.score_assumption})]
                if verdict.score_assumption else [])
        parts.append([Msg("verdict.score", {"score": verdict.score, "max": verdict.max_score}),
                      *score_lines(verdict), *note])
    return parts


def score_lines(verdict: Verdict) -> list[Msg]:
    """The score explained, one criterion a line: "TOPdesk: 15 van 30"."""
    return [Msg("score.criterion", {"label": label, "points": points, "max": most})
            for _id, label, points, most in verdict.score_parts]


def info_parts(vacancy: Vacancy, verdict: Verdict) -> list[Any]:
    """About the job, good to know, and what the vacancy text leaves open: a message of its own."""
    parts: list[Any] = []
    facts = [Msg(f"fact.{name}", {"text": note.text})
             for name in ("contract", "hours", "salary_scale", "contact")
             if (note := getattr(vacancy, name)) is not None]
    if facts:
        parts.append([Msg("facts.title", {"title": vacancy.title}), *facts])
    if vacancy.notes:
        parts.append([Msg("notes.title"), *(Msg("note.line", {"text": n.text}) for n in vacancy.notes)])
    if verdict.unknowns:
        parts.append([Msg("unknowns.title"), *verdict.unknowns])
    return parts


def knockout(vacancy: Vacancy, verdict: Verdict, lang: str) -> Reply:
    failed_rules = {r.rule_id for r in verdict.failed}
    # The failed rules, with what else the same rules accept (e.g. equivalent diplomas).
    related = tuple(r for r in verdict.reasons if r.rule_id in failed_rules
                    and r.outcome in (Outcome.FAILED, Outcome.INFO))
    parts = [Msg("knockout.intro", {"title": vacancy.title}),
             reason_lines(related), Msg("knockout.options")]
    return Reply(lang, tuple(parts), (
        Choice("m:back", Msg("btn.change_answer")),
        Choice("m:restart", Msg("btn.restart")),
        Choice("m:vacancies", Msg("btn.vacancies")),
    ), expects="choice", meta={"verdict": verdict.status.value}, locale=locale_of(vacancy, lang))


def missing_documents(verdict: Verdict, stored: list[DocumentRecord]) -> list[Document]:
    # A file for a proof that is too old (by its stated issue date) does not count as sent.
    have = {d.kind for d in stored} - set(verdict.stale)
    return [d for d in verdict.documents if d.id not in have]


def takes_photos(document: Document) -> bool:
    """Whether a photo (not only a file) can be this document."""
    return bool({"jpg", "png"} & set(document.types))


def document_rules(document: Document) -> list[Msg]:
    return [Msg("checklist.spec", {"types": ", ".join(document.types),
                                   "max": float(document.max_size_mb)}),
            *(Msg("checklist.rule", {"text": r}) for r in document.rules)]


def send_prompt(document: Document) -> Msg:
    return Msg("checklist.send" if takes_photos(document) else "checklist.send_file",
               {"label": document.label})


def checklist(vacancy: Vacancy, verdict: Verdict, stored: list[DocumentRecord],
              awaiting: str | None, now: datetime, lang: str,
              before: tuple[Any, ...] = (), dossier_id: int | None = None,
              with_deadline: bool = True) -> Reply:
    by_kind = {d.kind: d for d in stored}
    lines: list[Any] = [Msg("checklist.title")]
    for doc in verdict.documents:
        if doc.id in by_kind and doc.id not in verdict.stale:
            lines.append(Msg("checklist.done", {"label": doc.label,
                                                "name": by_kind[doc.id].original_name}))
        else:
            lines.append(Msg("checklist.todo", {"label": doc.label}))
            if doc.id in verdict.stale:
                lines.append(Msg("checklist.fresh", {
                    "day": verdict.stale[doc.id].strftime("%d-%m-%Y")}))
    # Said while the file is open, never in the verdict itself (it may complete at once) nor
    # to recruiters: an unfavourable mention can still be explained until the file is complete.
    hints = [Msg("checklist.explain_hint") for r in verdict.reasons
             if r.message.key == "reason.record.mention_unexplained"]
    # Right after the verdict, which says the deadline, it is not said again.
    deadline = [deadline_line(vacancy, now, lang)] if with_deadline else []
    parts: list[Any] = [*before, lines, *hints, *deadline]
    target = awaited(verdict, stored, awaiting)
    if target is not None:
        # What this file must be, for the one asked now; the others say it when their turn comes.
        parts.append([send_prompt(target), *document_rules(target)])
    return Reply(lang, tuple(parts), document_choices(verdict, stored, target, dossier_id),
                 expects="document", document=target.id if target else None,
                 locale=locale_of(vacancy, lang))


def awaited(verdict: Verdict, stored: list[DocumentRecord], awaiting: str | None) -> Document | None:
    """The document the next upload goes to: the one chosen (also to replace it), else the
    first one missing."""
    chosen = next((d for d in verdict.documents if d.id == awaiting), None)
    if chosen is not None:
        return chosen
    missing = missing_documents(verdict, stored)
    return missing[0] if missing else None


def document_choices(verdict: Verdict, stored: list[DocumentRecord], target: Document | None,
                     dossier_id: int | None) -> tuple[Choice, ...]:
    """A button per other document: upload it next, or replace the one already sent."""
    have = {d.kind for d in stored}
    return tuple(Choice(f"d:{dossier_id}:{d.id}",
                        Msg("btn.replace" if d.id in have else "btn.upload", {"label": d.label}))
                 for d in verdict.documents if d is not target)


def next_document(vacancy: Vacancy, verdict: Verdict, stored: list[DocumentRecord],
                  awaiting: str | None, lang: str, before: tuple[Any, ...] = (),
                  dossier_id: int | None = None) -> Reply:
    """After an upload: short for a phone — what is left and what to send now, with the same
    buttons as the checklist (the full checklist stays one /status away)."""
    missing = missing_documents(verdict, stored)
    target = awaited(verdict, stored, awaiting)
    locale = locale_of(vacancy, lang)
    if target is None:
        return Reply(lang, (*before, Msg("upload.all_done")), locale=locale)
    left = (Msg("checklist.left", {"n": len(missing),
                                   "labels": ", ".join(render(d.label, lang) for d in missing)})
            if missing else Msg("upload.all_done"))
    fresh = ([Msg("checklist.fresh", {"day": verdict.stale[target.id].strftime("%d-%m-%Y")})]
             if target.id in verdict.stale else [])
    parts: list[Any] = [*before, left, [send_prompt(target), *fresh, *document_rules(target)]]
    return Reply(lang, tuple(parts), document_choices(verdict, stored, target, dossier_id),
                 expects="document", document=target.id, locale=locale)


def _period(months: int) -> Quantity:
    """A retention period as people say it: "2 jaar", "18 maanden"."""
    return Quantity(months // 12, "duration-year") if months % 12 == 0 else \
        Quantity(months, "duration-month")


def _day(moment: datetime, vacancy: Vacancy, locale: str) -> str:
    return format_date(moment.astimezone(vacancy.zone).date(), "d MMMM y",
                       locale=babel_locale(locale))


def retention_said(vacancy: Vacancy) -> Msg:
    """How long, in one sentence of the notice: the seed's reserve, the vacancy's own period,
    or ours (flows/retention.py keeps the promise)."""
    said = promise(vacancy)
    if said.reserve_months is not None:
        return Msg("retention.reserve", {"period": _period(said.reserve_months)})
    assert said.period_months is not None
    return Msg("retention.ours" if said.ours else "retention.stated",
               {"period": _period(said.period_months)})


def _retention_dated(vacancy: Vacancy, locale: str) -> Msg:
    """The same promise with its dates, for "Meer over privacy"."""
    said = promise(vacancy)
    end = said.procedure_end
    if said.reserve_ends is not None:
        submitted = Msg("kept.until", {"day": _day(said.reserve_ends, vacancy, locale)})
    else:
        assert said.period_months is not None
        submitted = Msg("kept.after", {"period": _period(said.period_months)})
    if end is None:
        return Msg("privacy.details.kept_all", {"when": submitted})
    other = Msg("kept.selection", {"day": _day(end, vacancy, locale)})
    return Msg("privacy.details.kept", {"submitted": submitted, "other": other})


def _privacy_choices(vacancy: Vacancy, lang: str, more: bool) -> tuple[Choice, ...]:
    key = vacancy_key(vacancy.id)
    return (Choice(f"p:{key}:{lang}", Msg("btn.accept")),
            Choice(f"x:{lang}", Msg("btn.decline")),
            *((Choice(f"n:{key}:{lang}", Msg("btn.privacy_more")),) if more else ()))


def privacy_notice(vacancy: Vacancy, lang: str) -> Reply:
    """What is stored, what for, who sees it, how long, the candidate's commands: short
    enough for a phone; the legal basis, where, the dates and complaints are one button away."""
    return Reply(lang, (
        Msg("privacy.notice", {"title": vacancy.title, "employer": vacancy.employer_ref,
                               "retention": retention_said(vacancy)}),
    ), _privacy_choices(vacancy, lang, more=True), expects="choice",
        meta={"privacy": vacancy.id}, locale=locale_of(vacancy, lang))


def privacy_details(vacancy: Vacancy, lang: str) -> Reply:
    """"Meer over privacy": the rest of the notice, with the same choice under it."""
    locale = locale_of(vacancy, lang)
    records = [rule for rule in vacancy.requirements if isinstance(rule, CriminalRecordRule)
               and (rule.asked == "at_application" or rule.document is not None)]
    parts: list[Any] = [Msg("privacy.details.title", {"title": vacancy.title}),
                        Msg("privacy.details.basis")]
    parts += [Msg("privacy.details.record", {"model": rule.model,
                                             "employer": vacancy.employer_ref})
              for rule in records[:1]]
    parts += [Msg("privacy.details.where"), _retention_dated(vacancy, locale),
              Msg("privacy.details.rights", {"authority": Msg(f"authority.{vacancy.country}")})]
    return Reply(lang, tuple(parts), _privacy_choices(vacancy, lang, more=False),
                 expects="choice", meta={"privacy": vacancy.id}, locale=locale)


def vacancy_list(vacancies: list[Vacancy], now: datetime, lang: str,
                 intro: Msg) -> Reply:
    open_ones = [v for v in vacancies if v.is_open(now)]
    if not open_ones:
        return Reply(lang, (intro, Msg("vacancies.none_open")))
    lines = [Msg("vacancies.item", {"title": v.title, "employer": v.employer,
                                    "deadline": when_text(v, lang)}) for v in open_ones]
    return Reply(lang, (intro, lines), tuple(
        Choice(f"v:{vacancy_key(v.id)}:{lang}", v.title) for v in open_ones
    ), expects="choice")


def submitted(vacancy: Vacancy, lang: str, before: tuple[Any, ...] = (),
              dossier_id: int | None = None) -> Reply:
    locale = locale_of(vacancy, lang)
    steps = []
    for step in vacancy.selection:
        values = {"name": step.name,
                  "day": (format_date(step.day, "d MMMM y", locale=babel_locale(locale))
                          if step.day else ""),
                  "note": step.date_note or ""}
        key = ("step.dated" if step.day else "step.line") + ("_note" if step.date_note else "")
        steps.append(Msg(key, values))
        if step.pass_mark is not None:
            steps.append(Msg("step.pass_mark", {"text": step.pass_mark}))
    values = {"title": vacancy.title, "employer": vacancy.employer_ref}
    # Never "ingediend" when the official application still has to happen elsewhere.
    if vacancy.apply_via:
        confirm = Msg("submitted.forwarded", {**values, "channel": vacancy.apply_via.text,
                                              "deadline": when_text(vacancy, lang)})
    elif not vacancy.call_for_applications:
        confirm = Msg("submitted.no_call", values)
    else:
        confirm = Msg("submitted.confirm", values)
    parts: list[Any] = [*before, confirm]
    parts.append([Msg("submitted.next"), *steps] if steps else Msg("submitted.no_steps"))
    return Reply(lang, tuple(parts), meta={"submitted": vacancy.id, "dossier_id": dossier_id},
                 locale=locale)


def verdict_summary(verdict: Verdict) -> dict[str, Any]:
    """What the dossier row keeps of a verdict: codes and rule ids, no texts."""
    return {
        "status": verdict.status.value,
        "failed": [r.rule_id for r in verdict.failed],
        "conditions": [r.rule_id for r in verdict.reasons if r.outcome is Outcome.CONDITION],
        # Conditions of rules the seed does not state: outstanding, but on our assumption.
        "assumed_conditions": [r.rule_id for r in verdict.reasons
                               if r.outcome is Outcome.CONDITION and r.assumed],
        # Points the employer judges itself (an unfavourable mention).
        "review": [r.rule_id for r in verdict.reasons if r.outcome is Outcome.REVIEW],
        # Assumed rules not met: the recruiter sees the dossier flagged with them.
        "uncertain": [r.rule_id for r in verdict.reasons if r.outcome is Outcome.UNCERTAIN],
        "score": verdict.score,
        "max_score": verdict.max_score,
        "documents": [d.id for d in verdict.documents],
    }

