"""The vacancy file format: YAML data validated into frozen pydantic models.

A vacancy declares *what* it requires using a small set of generic rule types; `eligibility.py`
knows *how* to judge them and `questions.py` which questions each needs. Every rule, date and
document carries its provenance: a `source` quote from the seed document, an `assumption`
where the seed is silent, or both (a quote plus how we read it).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

# Ordered diploma scales per country: index = rank. Labels live in the message catalogues.
# The levels a candidate chooses from, lowest first (the order of the buttons).
DIPLOMA_SCALES: dict[str, tuple[str, ...]] = {
    # graduaat (HBO5) sits between secondary education and a bachelor.
    "BE": ("none", "lager_secundair", "secundair", "graduaat", "bachelor", "master"),
    "NL": ("none", "mbo-1", "mbo-2", "mbo-3", "mbo-4", "havo", "vwo", "hbo", "wo"),
}
# Diplomas with no firm place on the scale, counted as the level they stand next to; where
# exactly that level is required, whether they count is our guess (uncertain), never a firm
# yes or no. havo and vwo: general secondary education at about mbo-4 level (NLQF 4 and 4+),
# but not an mbo "opleiding". graduaat (HBO5): short-cycle higher education, not a bachelor;
# whether it is "hoger onderwijs van één cyclus of daarmee gelijkgesteld" is the employer's call.
DIPLOMA_PEERS: dict[str, dict[str, str]] = {
    "BE": {"graduaat": "bachelor"},
    "NL": {"havo": "mbo-4", "vwo": "mbo-4"},
}


def diploma_rank(country: str, level: str) -> int:
    """The place of `level` on its country's scale, a peer counted as the level it stands for."""
    scale = DIPLOMA_SCALES[country]
    return scale.index(DIPLOMA_PEERS.get(country, {}).get(level, level))

VACANCY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_text(value: Any) -> Any:
    # A plain string is Dutch only; a mapping may add English.
    return {"nl": value} if isinstance(value, str) else value


class Text(Frozen):
    """A candidate-facing text that belongs to one vacancy (a question, a label)."""

    nl: str = Field(min_length=1)
    en: str | None = None

    def get(self, lang: str) -> str:
        return (self.en if lang == "en" else None) or self.nl


LocalText = Annotated[Text, BeforeValidator(_as_text)]


class Assumption(Frozen):
    """What we assume where the seed is silent: `why` for maintainers, and — wherever a
    candidate may meet it — one plain sentence in Dutch and English."""

    why: str | None = Field(default=None, description="maintainer note: why we assume this")
    nl: str | None = Field(default=None, min_length=1)
    en: str | None = Field(default=None, min_length=1)

    @property
    def says(self) -> Text | None:
        """The sentence a candidate reads, if there is one."""
        return Text(nl=self.nl, en=self.en) if self.nl else None


def _as_assumption(value: Any) -> Any:
    # A plain string is a maintainer note only: nothing a candidate reads.
    return {"why": value} if isinstance(value, str) else value


class Provenance(Frozen):
    """Where a rule comes from: a quote of the seed, an assumption, or both.

    `firmness` says which decides: `stated` (the quote contains the rule; an assumption then
    only fills in a detail, such as which extract model) or `assumed` (the seed is silent; a
    quote only gives context). Without it, a rule with a quote and no assumption is stated and
    one with an assumption is assumed.
    """

    source: str | None = Field(default=None, description="short quote of the seed sentence")
    assumption: Annotated[Assumption | None, BeforeValidator(_as_assumption)] = Field(
        default=None, description="what we assume where the seed is silent")
    firmness: Literal["stated", "assumed"] | None = None

    @model_validator(mode="after")
    def _traced(self) -> Provenance:
        if not (self.source or self.assumption):
            raise ValueError("needs a 'source' (quote of the seed) or an 'assumption'")
        if self.firmness == "stated" and not self.source:
            raise ValueError("'firmness: stated' needs the 'source' quote that states the rule")
        if self.firmness == "assumed" and not self.assumption:
            raise ValueError("'firmness: assumed' needs the 'assumption' that is made")
        return self

    @property
    def stated(self) -> bool:
        """Whether the seed itself states this rule (only then may it exclude anyone)."""
        if self.firmness is not None:
            return self.firmness == "stated"
        return self.assumption is None


# ---------------------------------------------------------------- dates and steps


class Deadline(Provenance):
    """Applications close at `until` in `timezone`; a bare date means the whole day."""

    until: date | datetime | None = None
    timezone: str | None = None
    # The seed gives no closing date: said as that ("vraag het na"), never as "open until filled".
    not_stated: bool = False

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(
                    f"unknown time zone {value!r}; use an IANA name such as Europe/Brussels"
                ) from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Deadline:
        if self.not_stated:
            if self.until is not None:
                raise ValueError("give either 'until' or 'not_stated: true', not both")
            return self
        if self.until is None:
            raise ValueError("give 'until' (local date or date-time) or 'not_stated: true'")
        if isinstance(self.until, datetime) and self.until.tzinfo is not None:
            raise ValueError(
                "write 'until' as a local date-time without offset and name the 'timezone'"
            )
        if self.timezone is None:
            raise ValueError(
                "deadline without time zone: add 'timezone' (Europe/Brussels, Europe/Amsterdam)"
            )
        return self

    @property
    def whole_day(self) -> bool:
        return self.until is not None and not isinstance(self.until, datetime)

    def closes_at(self) -> datetime | None:
        """The first instant at which applications are no longer accepted (aware)."""
        if self.until is None or self.timezone is None:
            return None
        zone = ZoneInfo(self.timezone)
        if isinstance(self.until, datetime):
            return self.until.replace(tzinfo=zone)
        # "uiterlijk 1 augustus" = the whole day: closed from local midnight after it.
        return datetime.combine(self.until + timedelta(days=1), time(0, 0), tzinfo=zone)


class SelectionStep(Provenance):
    name: LocalText
    day: date | None = None
    date_note: LocalText | None = Field(default=None, description="e.g. 'onder voorbehoud'")
    weight: int | None = Field(default=None, ge=0, le=100)
    pass_mark: LocalText | None = None
    # A step the candidate is invited to (a test, an interview), not one the recruiters do on
    # paper: what the recruiters' "invite" names, in order (flows/decisions.py).
    invitation: bool = False


class Reserve(Provenance):
    """The seed's recruitment reserve: how long after the procedure it runs. A submitted
    application is kept as long (flows/retention.py)."""

    months: int = Field(ge=0, le=120)


class Retention(Provenance):
    """How long a dossier is kept where the seed gives no recruitment reserve: `months` after
    the application. Quoted (`source`) when the vacancy text names the period; otherwise an
    `assumption` — the employer's setting or ours — and the privacy notice says it is ours,
    never the vacancy's."""

    months: int = Field(ge=1, le=120)


class Note(Provenance):
    """Something the candidate should know that is not a rule (or what the seed leaves open)."""

    text: LocalText


class QuestionWindow(Deadline):
    """Until when candidates may put questions (a seed's own deadline for questions), and where
    the answers are published. After `until` the bot relays no more questions: it says since
    when, and points to `answers_published` and the vacancy's contact."""

    answers_published: Note | None = Field(
        default=None, description="where and when the questions and answers are published")
    # Where the seed says questions are officially put (a platform): said when a question is
    # relayed, so nobody takes the recruiters' answer here for the official one.
    official: Note | None = None

    @model_validator(mode="after")
    def _dated(self) -> QuestionWindow:
        if self.not_stated:
            raise ValueError("a questions window needs 'until'; leave 'questions' out when the "
                             "seed gives no deadline for questions")
        return self


# ---------------------------------------------------------------- requirements


RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class ForeignDiploma(Provenance):
    """What a diploma obtained abroad needs (usually an equivalence statement)."""

    document: str = Field(description="id of the document that proves equivalence")


class DiplomaRule(Provenance):
    type: Literal["diploma"]
    id: RuleId = "diploma"
    min_level: str
    accepted_equivalents: tuple[LocalText, ...] = ()
    foreign: ForeignDiploma | None = None

    @field_validator("min_level")
    @classmethod
    def _on_scale(cls, value: str, info: ValidationInfo) -> str:
        # The vacancy's country picks the scale; the loader passes it as validation context.
        country = (info.context or {}).get("country")
        scales = [DIPLOMA_SCALES[country]] if country in DIPLOMA_SCALES else DIPLOMA_SCALES.values()
        firm = [[lv for lv in scale if not any(lv in p for p in DIPLOMA_PEERS.values())]
                for scale in scales]
        if not any(value in scale for scale in firm):
            allowed = " | ".join(", ".join(s) for s in firm)
            raise ValueError(
                f"unknown diploma level {value!r} for {country or 'BE/NL'}; allowed: {allowed}"
            )
        return value


class LanguageRule(Provenance):
    """Belgian local government: knowledge of Dutch under the language laws (18 July 1966)."""

    type: Literal["language"]
    id: RuleId = "language"
    language: Literal["nl"] = "nl"
    certificate_document: str = Field(description="document id of the language certificate")
    without_proof: Literal["excluded", "conditional"] = "conditional"


class CriminalRecordRule(Provenance):
    type: Literal["criminal_record"]
    id: RuleId = "record"
    model: LocalText
    asked: Literal["at_application", "later"] = "at_application"
    max_age_days: int | None = Field(default=None, ge=1, le=3650)
    max_age_months: int | None = Field(default=None, ge=1, le=120)
    unfavourable_mention: Literal["excluded", "explanation_allowed"] = "explanation_allowed"
    # The document that carries the extract: a file sent while the stated answers cannot cover
    # it (no extract, or one too old) is asked its date, and a too-old one never completes a file.
    document: str | None = None

    @model_validator(mode="after")
    def _one_age(self) -> CriminalRecordRule:
        if self.max_age_days and self.max_age_months:
            raise ValueError("give max_age_days or max_age_months, not both")
        return self


class ExperienceRule(Provenance):
    type: Literal["experience"]
    id: RuleId = "experience"
    min_years: float = Field(ge=0, le=50)
    counts: LocalText = Field(description="what experience counts, shown in the question")


class YesNoRule(Provenance):
    """A knock-out: the candidate must answer `required` to qualify."""

    type: Literal["yes_no"]
    id: RuleId
    question: LocalText
    required: bool = True
    on_fail: Literal["excluded", "conditional"] = "excluded"


class Band(Frozen):
    """Points for an answer in [from, to] with explicit inclusivity of each end."""

    from_: float = Field(default=0, alias="from", ge=0)
    to: float | None = None
    from_inclusive: bool = True
    to_inclusive: bool = False
    points: int = Field(ge=0)
    source: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.to is not None and self.to < self.from_:
            raise ValueError(f"band 'to' ({self.to}) is below 'from' ({self.from_})")
        return self

    def contains(self, value: float) -> bool:
        low_ok = value >= self.from_ if self.from_inclusive else value > self.from_
        if self.to is None:
            return low_ok
        high_ok = value <= self.to if self.to_inclusive else value < self.to
        return low_ok and high_ok


def _bands_overlap(a: Band, b: Band) -> bool:
    # Two intervals overlap unless one ends before the other starts (inclusivity decides ties).
    def ends_before(x: Band, y: Band) -> bool:
        if x.to is None:
            return False
        if x.to < y.from_:
            return True
        return x.to == y.from_ and not (x.to_inclusive and y.from_inclusive)

    return not (ends_before(a, b) or ends_before(b, a))


class Criterion(Provenance):
    id: RuleId
    question: LocalText
    label: LocalText | None = Field(default=None, description="short name shown with its points")
    answer: Literal["yes_no", "years"]
    points: int | None = Field(default=None, ge=0, description="for yes_no: points for 'yes'")
    bands: tuple[Band, ...] = ()

    @model_validator(mode="after")
    def _shape(self) -> Criterion:
        if self.answer == "yes_no":
            if self.points is None or self.bands:
                raise ValueError("a yes_no criterion gives 'points' and no 'bands'")
        else:
            if not self.bands or self.points is not None:
                raise ValueError("a years criterion gives 'bands' and no 'points'")
            for i, a in enumerate(self.bands):
                for j in range(i + 1, len(self.bands)):
                    if _bands_overlap(a, self.bands[j]):
                        raise ValueError(
                            f"band {i + 1} ({_band_text(a)}) overlaps band {j + 1} "
                            f"({_band_text(self.bands[j])}); make one end exclusive"
                        )
        return self

    @property
    def max_points(self) -> int:
        return self.points if self.points is not None else max(b.points for b in self.bands)

    def score(self, answer: Any) -> int:
        if self.answer == "yes_no":
            return self.points if answer is True else 0
        for band in self.bands:
            if band.contains(float(answer)):
                return band.points
        return 0


def _band_text(b: Band) -> str:
    low = "[" if b.from_inclusive else "("
    high = "]" if b.to_inclusive else ")"
    return f"{low}{b.from_:g}, {'∞' if b.to is None else f'{b.to:g}'}{high}"


class ScoredRule(Provenance):
    """Selection criteria that give an indicative score; they never exclude on their own."""

    type: Literal["scored"]
    id: RuleId = "score"
    max_total: int = Field(ge=1)
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _total(self) -> ScoredRule:
        total = sum(c.max_points for c in self.criteria)
        if total != self.max_total:
            raise ValueError(f"criteria add up to {total} points, max_total says {self.max_total}")
        return self


class MatrixLevel(Frozen):
    id: RuleId
    label: LocalText


class MatrixGroup(Frozen):
    name: LocalText
    items: tuple[str, ...] = Field(min_length=1)


class KnowledgeMatrixRule(Provenance):
    """Technologies × knowledge level (plus years), filled in by the candidate; informative."""

    type: Literal["knowledge_matrix"]
    id: RuleId = "matrix"
    levels: tuple[MatrixLevel, ...] = Field(min_length=2)
    groups: tuple[MatrixGroup, ...] = Field(min_length=1)
    ask_years: bool = True
    free_text: bool = True


Requirement = Annotated[
    DiplomaRule
    | LanguageRule
    | CriminalRecordRule
    | ExperienceRule
    | YesNoRule
    | ScoredRule
    | KnowledgeMatrixRule,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------- documents


class When(Frozen):
    """A document is required only when an earlier answer has one of these values."""

    question: str
    equals: bool | str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one(self) -> When:
        if (self.equals is None) == (self.in_ is None):
            raise ValueError("give exactly one of 'equals' or 'in'")
        return self

    def holds(self, answers: dict[str, Any]) -> bool:
        if self.question not in answers:
            return False
        value = answers[self.question]
        if self.in_ is not None:
            return value in self.in_
        return value == self.equals


class Document(Provenance):
    id: RuleId
    label: LocalText
    required: Literal["always", "when"] = "always"
    when: When | None = None
    types: tuple[Literal["pdf", "jpg", "png", "docx", "doc", "odt"], ...] = ("pdf",)
    max_size_mb: float = Field(default=10, gt=0, le=20, description="Telegram lets bots fetch 20 MB")
    rules: tuple[LocalText, ...] = Field(default=(), description="e.g. 'at most 3 months old'")

    @model_validator(mode="after")
    def _condition(self) -> Document:
        if (self.required == "when") != (self.when is not None):
            raise ValueError("required: when goes with a 'when' condition, and only then")
        return self


# ---------------------------------------------------------------- the vacancy


class Vacancy(Frozen):
    id: str
    title: LocalText
    employer: LocalText = Field(description="the employer's name, as lists and recruiters read it")
    # How a sentence names the employer when the seed gives no name ("ask the school that
    # published the vacancy"): a candidate is never told to ask a placeholder.
    employer_in_text: LocalText | None = None
    # Whom a candidate asks about the procedure, where the seed names someone other than the
    # employer (Flextender for Hardenberg); "vraag het na bij …" names them.
    ask_at: Note | None = None
    country: Literal["BE", "NL"]
    seed: str = Field(description="file name of the source document in shared/seeds")
    contract: Note | None = None
    hours: Note | None = None
    salary_scale: Note | None = None
    contact: Note | None = None
    # Where the employer takes applications officially, when that is not this bot (a jobs
    # site, an e-mail address): at submission the candidate is told to apply there too.
    apply_via: Note | None = None
    # False: the seed is a job description, not a call for applications — it says neither
    # whether, nor how, nor until when one can apply; the candidate is told to ask.
    call_for_applications: bool = True
    deadline: Deadline
    # The seed's own deadline for questions (Hardenberg: "Vragen kunnen ingediend worden tot …").
    questions: QuestionWindow | None = None
    selection: tuple[SelectionStep, ...] = ()
    reserve: Reserve | None = None
    # Where the seed gives no reserve: how long a dossier is kept (the notice says whose period).
    retention: Retention | None = None
    requirements: tuple[Requirement, ...] = ()
    documents: tuple[Document, ...] = Field(min_length=1)
    notes: tuple[Note, ...] = Field(default=(), description="info shown with the verdict")
    silent_on: tuple[Note, ...] = Field(
        default=(), description="what the seed does not say; told to the candidate as unknown"
    )
    decisions: tuple[str, ...] = Field(default=(), description="interpretations we chose")

    @field_validator("id")
    @classmethod
    def _id_chars(cls, value: str) -> str:
        if not VACANCY_ID.match(value):
            raise ValueError(
                f"id {value!r} must be 1-64 characters of letters, digits, '_' or '-' "
                "(it is a Telegram deep-link payload)"
            )
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Vacancy:
        # Imported here: questions.py builds on this module.
        from flows.questions import question_ids_and_values

        doc_ids = [d.id for d in self.documents]
        errors: list[str] = []
        for dup in sorted({d for d in doc_ids if doc_ids.count(d) > 1}):
            errors.append(f"documents: id {dup!r} appears more than once")
        rule_ids = [r.id for r in self.requirements]
        for dup in sorted({r for r in rule_ids if rule_ids.count(r) > 1}):
            errors.append(f"requirements: id {dup!r} appears more than once")
        for i, rule in enumerate(self.requirements):
            where = f"requirements.{i}"
            if isinstance(rule, DiplomaRule):
                if rule.foreign and rule.foreign.document not in doc_ids:
                    errors.append(
                        f"{where}.foreign.document: no document with id {rule.foreign.document!r}"
                    )
            if (isinstance(rule, CriminalRecordRule) and rule.document
                    and rule.document not in doc_ids):
                errors.append(f"{where}.document: no document with id {rule.document!r}")
            if isinstance(rule, LanguageRule) and rule.certificate_document not in doc_ids:
                errors.append(
                    f"{where}.certificate_document: no document with id "
                    f"{rule.certificate_document!r}"
                )
        for where, rule in self._rules_with_provenance():
            # Whatever decides a verdict says which it is, and says it to the candidate.
            if rule.source and rule.assumption and rule.firmness is None:
                errors.append(
                    f"{where}: has a 'source' and an 'assumption'; say which decides with "
                    "'firmness: stated' (the quote states the rule; the assumption is a detail) "
                    "or 'firmness: assumed' (the seed is silent)")
            if rule.assumption and not (rule.assumption.nl and rule.assumption.en):
                errors.append(
                    f"{where}.assumption: a candidate reads this assumption; give one plain "
                    "sentence in 'nl' and 'en' (the maintainer note goes in 'why')")
        errors += self._retention_problems()
        peers = DIPLOMA_PEERS.get(self.country, {})
        scale = [level for level in DIPLOMA_SCALES[self.country] if level not in peers]
        for i, rule in enumerate(self.requirements):
            if isinstance(rule, DiplomaRule) and rule.min_level not in scale:
                errors.append(
                    f"requirements.{i}.min_level: diploma level {rule.min_level!r} is not on the "
                    f"{self.country} scale; allowed: {', '.join(scale)}"
                )
        known = question_ids_and_values(self)
        for i, doc in enumerate(self.documents):
            if doc.when is None:
                continue
            where = f"documents.{i}.when.question"
            if doc.when.question not in known:
                errors.append(
                    f"{where}: no question {doc.when.question!r} in this vacancy; "
                    f"questions are: {', '.join(sorted(known)) or '(none)'}"
                )
                continue
            allowed = known[doc.when.question]
            wanted = doc.when.in_ if doc.when.in_ is not None else (doc.when.equals,)
            if allowed is not None:
                for value in wanted:
                    if value not in allowed:
                        errors.append(
                            f"documents.{i}.when: {doc.when.question!r} never has the value "
                            f"{value!r}; allowed: {', '.join(map(repr, allowed))}"
                        )
        if errors:
            raise ValueError("\n".join(errors))
        return self

    def _retention_problems(self) -> list[str]:
        """The privacy notice says how long a dossier is kept: from the seed's reserve, or from
        a period of the vacancy file — exactly one of them."""
        if self.reserve is None and self.retention is None:
            return ["retention: say how long dossiers are kept: 'retention: {months: N, "
                    "assumption: ...}' (a period after the application, ours where the seed "
                    "names none) or, where the seed gives one, its 'reserve'"]
        if self.reserve is not None and self.retention is not None:
            return ["retention: give either the seed's 'reserve' or a 'retention' period, "
                    "not both"]
        if self.reserve is not None and self.procedure_end() is None:
            return ["reserve: the reserve runs from the end of the procedure, which this "
                    "vacancy does not date; give a selection step a 'day' or the deadline an "
                    "'until'"]
        return []

    def procedure_end(self) -> datetime | None:
        """When the procedure is over, where the vacancy dates it: the evening of its last
        dated selection step, else the deadline."""
        days = [step.day for step in self.selection if step.day is not None]
        if days:
            return datetime.combine(max(days), time(23, 59), tzinfo=self.zone)
        return self.closes_at()

    def _rules_with_provenance(self) -> list[tuple[str, Provenance]]:
        """Every requirement and each part of one that can decide a verdict on its own."""
        found: list[tuple[str, Provenance]] = []
        for i, rule in enumerate(self.requirements):
            found.append((f"requirements.{i}", rule))
            if isinstance(rule, DiplomaRule) and rule.foreign:
                found.append((f"requirements.{i}.foreign", rule.foreign))
        return found

    def closes_at(self) -> datetime | None:
        return self.deadline.closes_at()

    def is_open(self, now: datetime) -> bool:
        # Compare in UTC: Python compares two datetimes of the same ZoneInfo by wall clock,
        # which is wrong across a daylight-saving change.
        closes = self.closes_at()
        return closes is None or now.astimezone(UTC) < closes.astimezone(UTC)

    def questions_open(self, now: datetime) -> bool:
        """Whether candidates may still put questions (the seed's deadline for questions)."""
        closes = self.questions.closes_at() if self.questions else None
        return closes is None or now.astimezone(UTC) < closes.astimezone(UTC)

    @property
    def employer_ref(self) -> Text:
        """The employer as a sentence names it."""
        return self.employer_in_text or self.employer

    @property
    def ask_whom(self) -> Text:
        """Whom "vraag het na bij …" sends the candidate to."""
        return self.ask_at.text if self.ask_at else self.employer_ref

    def document(self, doc_id: str) -> Document:
        return next(d for d in self.documents if d.id == doc_id)

    @property
    def zone(self) -> ZoneInfo:
        default = "Europe/Brussels" if self.country == "BE" else "Europe/Amsterdam"
        return ZoneInfo(self.deadline.timezone or default)
