"""Simulated conversations: scripted candidates and recruiters against the real bot.

A script (YAML) is run through the real python-telegram-bot `Application`, the real engine and
a fresh temporary database, with the fake Bot API instead of Telegram and a frozen clock the
script moves. It prints a transcript with ✓/✗ per expectation; the exit code says whether all
held. Whoever adds a vacancy or changes a flow tests it this way before a candidate sees it.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot import sample_files
from bot.fake_bot_api import CONTENT, FakeBotApi, FakeTelegram, Sent

RECRUITER_CHAT = -100100
GROUP_CHAT = -100200  # a group of job seekers the bot is in (`in_group:`)
CHANNEL = -100300  # a channel the bot posts in (`channel_post:`)
ACTION_KEYS = ("send", "press", "upload", "photo", "media", "forward", "edit", "in_group",
               "channel_post", "wait_until", "reply")
ACTORLESS = ("wait_until", "channel_post")
MediaKind = Literal[tuple(CONTENT)]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _aware(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("a moment needs an offset, e.g. 2026-07-01T10:00+02:00")
    return value


class Actor(Strict):
    user_id: int
    name: str = "Kandidaat"
    language: str = "nl"
    recruiter: bool = False


class UploadSpec(Strict):
    name: str = "document.pdf"
    path: str | None = None
    generate: Literal["pdf", "jpg", "png", "docx", "oversized", "wrong_type"] | None = None
    mime_type: str | None = None
    size_mb: float | None = Field(default=None, description="declared size (oversized)")

    @model_validator(mode="after")
    def _source(self) -> UploadSpec:
        if (self.path is None) == (self.generate is None):
            raise ValueError("give either 'path' or 'generate' (pdf, jpg, png, docx, oversized, wrong_type)")
        return self


class DossierExpect(Strict):
    actor: str | None = None
    state: str | None = None
    status: str | None = None
    verdict: str | None = None
    answers: dict[str, Any] = Field(default_factory=dict)


class DocumentsExpect(Strict):
    actor: str | None = None
    count: int | None = None
    kinds: list[str] | None = None


class NotificationExpect(Strict):
    says: list[str] = Field(default_factory=list)
    not_says: list[str] = Field(default_factory=list)
    documents: int | None = None

    @field_validator("says", "not_says", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class MessageToExpect(Strict):
    """What another actor was sent in this step (a candidate, when a recruiter replied)."""

    actor: str
    says: str


class Expect(Strict):
    says: str | None = None
    not_says: str | None = None
    matches: str | None = None
    buttons: list[str] | None = None
    link: str | None = None
    nothing_sent: Literal[True] | None = None
    dossier: DossierExpect | None = None
    documents: DocumentsExpect | None = None
    recruiter_notification: NotificationExpect | None = None
    no_recruiter_notification: Literal[True] | None = None
    message_to: MessageToExpect | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Expect:
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            raise ValueError(f"an expectation has exactly one key; got {given or 'none'}")
        return self

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class Step(Strict):
    as_: str | None = Field(default=None, alias="as")
    send: str | None = None
    press: str | None = None
    upload: UploadSpec | None = None
    photo: UploadSpec | None = None
    media: MediaKind | None = None
    forward: str | None = None
    edit: str | None = None
    in_group: str | None = None
    channel_post: str | None = None
    wait_until: datetime | None = None
    # In the recruiters' chat: a reply with this text to the newest candidate's question there.
    reply: str | None = None
    now: datetime | None = None
    expect: list[Expect] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("wait_until", "now", mode="before")
    @classmethod
    def _times(cls, value: Any) -> Any:
        return _aware(value)

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [k for k in ACTION_KEYS if getattr(self, k) is not None]
        if len(actions) > 1:
            raise ValueError(f"one action per step; got {', '.join(actions)}")
        if actions and actions[0] not in ACTORLESS and self.as_ is None:
            raise ValueError(f"'{actions[0]}' needs 'as: <actor>'")
        if not actions and not self.expect:
            raise ValueError(f"a step needs an action ({', '.join(ACTION_KEYS)}) or 'expect'")
        return self

    @property
    def action(self) -> str | None:
        return next((k for k in ACTION_KEYS if getattr(self, k) is not None), None)


class Script(Strict):
    name: str
    description: str | None = None
    now: datetime
    vacancies: str | None = Field(default=None, description="folder; default: VACANCIES_DIR")
    reminder_days: list[int] = Field(default_factory=lambda: [3, 1])
    actors: dict[str, Actor] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)

    @field_validator("now", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return _aware(value)

    @model_validator(mode="after")
    def _actors_known(self) -> Script:
        for i, step in enumerate(self.steps):
            names = [step.as_] if step.as_ else []
            for e in step.expect:
                for sub in (e.dossier, e.documents, e.message_to):
                    if sub is not None and sub.actor:
                        names.append(sub.actor)
            for name in names:
                if name not in self.actors:
                    raise ValueError(f"steps.{i}: unknown actor {name!r}; actors are: "
                                     f"{', '.join(self.actors)}")
        return self


class ScriptError(Exception):
    pass


def load_script(path: Path) -> Script:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScriptError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ScriptError(f"{path}: a script is a YAML mapping with name, now, actors, steps")
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"{path}: {where or '(top)'}: {err['msg'].removeprefix('Value error, ')}")
        raise ScriptError("\n".join(lines)) from None


def script_paths(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        else:
            found.append(p)
    return found


# ---------------------------------------------------------------------------- running


@dataclass
class Check:
    ok: bool
    what: str
    detail: str = ""


@dataclass
class Result:
    path: Path
    name: str
    checks: list[Check] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    # What the bot sent to candidates (not to the recruiters), for `simulate --stats`.
    candidate_texts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _generated(spec: UploadSpec, folder: Path) -> tuple[str, bytes, str | None, int | None]:
    if spec.path is not None:
        path = Path(spec.path)
        return spec.name if spec.name != "document.pdf" else path.name, path.read_bytes(), \
            spec.mime_type, None
    kind = spec.generate
    if kind == "jpg":
        return spec.name, sample_files.jpeg(), spec.mime_type or "image/jpeg", None
    if kind == "png":
        return spec.name, sample_files.png(), spec.mime_type or "image/png", None
    if kind == "docx":
        return spec.name, sample_files.docx(spec.name), spec.mime_type or sample_files.DOCX_MIME, None
    if kind == "wrong_type":
        name = spec.name if spec.name != "document.pdf" else "programma.exe"
        return name, b"MZ\x90\x00" + b"\x00" * 64, spec.mime_type or "application/x-msdownload", None
    # Real content of the type the name says: uploads are judged by their bytes.
    suffix = Path(spec.name).suffix.lower()
    data, mime = {".docx": (sample_files.docx(spec.name), sample_files.DOCX_MIME),
                  ".odt": (sample_files.odt(spec.name), "application/vnd.oasis.opendocument.text"),
                  ".png": (sample_files.png(), "image/png"),
                  ".jpg": (sample_files.jpeg(spec.name), "image/jpeg"),
                  }.get(suffix, (sample_files.pdf(spec.name), "application/pdf"))
    declared = int((spec.size_mb or 25) * 1024 * 1024) if kind == "oversized" else None
    return spec.name, data, spec.mime_type or mime, declared


async def run_script(script: Script, path: Path, vacancies_dir: Path) -> Result:
    """Run one script against a fresh bot; never raises for a failing expectation."""
    from bot.telegram_app import build_application
    from flows.vacancy_loader import load_catalogue
    from main import build_engine
    from settings import Settings

    result = Result(path, script.name)
    started = time.perf_counter()
    folder = Path(script.vacancies) if script.vacancies else vacancies_dir
    if not folder.is_absolute() and not folder.exists():
        folder = path.parent / folder
    with tempfile.TemporaryDirectory(prefix="intake-sim-") as tmp:
        clock = Clock(script.now)
        tg = FakeTelegram(clock=lambda: clock.now.timestamp())
        tg.add_group(RECRUITER_CHAT, "Recruiters")
        tg.add_group(GROUP_CHAT, "Vacatures", kind="supergroup")
        tg.add_channel(CHANNEL, "Vacaturekanaal")
        for actor in script.actors.values():
            tg.add_user(actor.user_id, actor.name, actor.language)
        recruiters = ",".join(str(a.user_id) for a in script.actors.values() if a.recruiter)
        settings = Settings(_env_file=None, telegram_bot_token=tg.token,
                            database_url=f"sqlite:///{tmp}/sim.sqlite3",
                            upload_dir=Path(tmp) / "uploads", vacancies_dir=folder,
                            recruiter_chat_id=RECRUITER_CHAT, recruiter_user_ids=recruiters,
                            reminder_days=tuple(script.reminder_days))
        vacancies = load_catalogue(folder)
        engine = build_engine(settings, vacancies, clock)
        parts = build_application(settings, engine, engine.store, engine.files,  # type: ignore[arg-type]
                                  vacancies, clock, request=FakeBotApi(tg), rate_limit=False)
        runner = _Runner(script, result, tg, parts, engine, clock, Path(tmp))
        async with parts.app:
            for index, step in enumerate(script.steps):
                try:
                    await runner.step(index, step)
                except Exception as exc:  # a crash of the bot is a failure, reported
                    result.error = f"steps.{index}: {type(exc).__name__}: {exc}"
                    result.transcript.append(f"  ✗ crashed: {result.error}")
                    break
        result.candidate_texts = [m.text for actor in script.actors.values() if not actor.recruiter
                                  for m in tg.messages_to(actor.user_id) if m.text]
        engine.store._engine.dispose()  # type: ignore[attr-defined]
    result.seconds = time.perf_counter() - started
    return result


class _Runner:
    def __init__(self, script: Script, result: Result, tg: FakeTelegram, parts: Any,
                 engine: Any, clock: Clock, tmp: Path) -> None:
        self.script = script
        self.result = result
        self.tg = tg
        self.parts = parts
        self.engine = engine
        self.clock = clock
        self.tmp = tmp
        self.last_actor: str | None = None
        self.last_chat: int | None = None  # where the last action happened: its answers count
        self.last_text: dict[str, dict[str, Any]] = {}  # per actor: their last text message

    def say(self, line: str) -> None:
        self.result.transcript.append(line)

    async def step(self, index: int, step: Step) -> None:
        if step.now is not None:
            self.clock.now = step.now
            self.say(f"  ⏱  now {step.now.isoformat()}")
        if step.as_:
            self.last_actor = step.as_
        mark = len(self.tg.sent)
        runtime = self.parts.runtime
        actor = self.script.actors[step.as_] if step.as_ else None
        action = step.action
        if action is not None or step.as_:  # the actor's private chat, unless the action says
            self.last_chat = None
        if action == "wait_until":
            assert step.wait_until is not None
            self.clock.now = step.wait_until
            self.say(f"  ⏱  wait until {step.wait_until.isoformat()}")
            await self.parts.reminders.sweep()
        elif action == "channel_post":
            assert step.channel_post is not None
            self.last_chat = CHANNEL
            self.say(f"channel ▸ {step.channel_post}")
            await runtime.receive([self.tg.channel_post_update(CHANNEL, step.channel_post)])
        elif actor is not None and action is not None:
            payload = self.payload(step, actor)
            if payload is None:
                return
            await runtime.receive([payload])
        await runtime.drain()  # the real path: inbox, handlers, outbox, sender
        new = self.tg.sent[mark:]
        for message in new:
            self.show(message)
        for expectation in step.expect:
            check = self.check(expectation, new)
            self.result.checks.append(check)
            self.say(f"    {'✓' if check.ok else '✗'} {check.what}"
                     + (f"\n        {check.detail}" if check.detail and not check.ok else ""))

    def payload(self, step: Step, actor: Actor) -> dict[str, Any] | None:
        name = step.as_
        assert name is not None
        if step.send is not None:
            self.say(f"{name} ▸ {step.send}")
            return self.remember(name, self.tg.text_update(actor.user_id, step.send))
        if step.reply is not None:
            return self.reply_payload(name or "", actor, step.reply)
        if step.media is not None:
            self.say(f"{name} ▸ [{step.media}]")
            return self.tg.content_update(actor.user_id, step.media)
        if step.forward is not None:
            self.say(f"{name} ▸ ↪ forwarded: {step.forward}")
            return self.tg.forwarded_update(actor.user_id, step.forward)
        if step.in_group is not None:
            self.last_chat = GROUP_CHAT
            self.say(f"{name} ▸ (in group) {step.in_group}")
            return self.remember(name, self.tg.message_update(actor.user_id, GROUP_CHAT,
                                                              text=step.in_group))
        if step.edit is not None:
            earlier = self.last_text.get(name)
            if earlier is None:
                check = Check(False, f"edit to “{step.edit}”", f"{name} sent no text to edit")
                self.result.checks.append(check)
                self.say(f"    ✗ {check.what}\n        {check.detail}")
                return None
            self.last_chat = earlier["message"]["chat"]["id"]
            self.say(f"{name} ▸ ✎ edits “{earlier['message']['text']}” to “{step.edit}”")
            return self.tg.edit_update(earlier, step.edit)
        if step.press is not None:
            self.say(f"{name} ▸ [{step.press}]")
            found = self.button(actor.user_id, step.press)
            if found is None and actor.recruiter:
                # A recruiter's decision buttons are in the recruiters' chat.
                found = self.button(RECRUITER_CHAT, step.press)
                if found is not None:
                    self.last_chat = RECRUITER_CHAT
            if found is None:
                offered = [lbl for m in self.tg.messages_to(actor.user_id)[-3:] for lbl in m.labels()]
                check = Check(False, f"press [{step.press}]",
                              f"no such button; offered: {offered or 'none'}")
                self.result.checks.append(check)
                self.say(f"    ✗ {check.what}\n        {check.detail}")
                return None
            message, data = found
            return self.tg.press_update(actor.user_id, message, data)
        spec = step.upload or step.photo
        assert spec is not None
        file_name, data, mime, declared = _generated(spec, self.tmp)
        if step.photo is not None:
            self.say(f"{name} ▸ 📷 photo ({len(data)} bytes)")
            return self.tg.photo_update(actor.user_id, data)
        size = declared if declared is not None else len(data)
        self.say(f"{name} ▸ 📎 {file_name} ({size / 1024:.0f} kB)")
        return self.tg.document_update(actor.user_id, file_name, data, mime, declared)

    def remember(self, name: str, update: dict[str, Any]) -> dict[str, Any]:
        self.last_text[name] = update
        return update

    def reply_payload(self, name: str, actor: Actor, text: str) -> dict[str, Any] | None:
        """`actor` replies in the recruiters' chat to the newest message there that carries a
        candidate's question (as the outbox sender recorded it)."""
        store = self.engine.store
        question = next((m for m in reversed(self.tg.messages_to(RECRUITER_CHAT))
                         if store.question_for_message(RECRUITER_CHAT, m.message_id) is not None),
                        None)
        self.say(f"{name} → recruiters ▸ ↩️ {text}")
        if question is None:
            check = Check(False, "reply to a question", "no candidate's question in the"
                          " recruiters' chat to reply to")
            self.result.checks.append(check)
            self.say(f"    ✗ {check.what}\n        {check.detail}")
            return None
        return self.tg.group_update(actor.user_id, RECRUITER_CHAT, text, reply_to=question)

    def button(self, user_id: int, label: str) -> tuple[Sent, str] | None:
        """The newest message offering `label`: the exact label, else the only one containing
        it (two candidates on one message is an ambiguous script, reported as not found)."""
        want = label.lower()
        for message in reversed(self.tg.messages_to(user_id)):
            buttons = [b for row in message.buttons for b in row]
            for matches in ([b for b in buttons if b["text"] == label],
                            [b for b in buttons if b["text"].lower().startswith(want)],
                            [b for b in buttons if want in b["text"].lower()]):
                if len(matches) == 1:
                    return message, matches[0]["callback_data"]
                if len(matches) > 1:
                    return None
        return None

    def show(self, message: Sent) -> None:
        who = {RECRUITER_CHAT: "bot → recruiters", GROUP_CHAT: "bot → group",
               CHANNEL: "bot → channel"}.get(message.chat_id, "bot")
        if message.document is not None:
            self.say(f"  {who} ▸ 📎 {message.document['file_name']}")
            return
        text = (message.text or "").strip().replace("\n", "\n      ")
        self.say(f"  {who} ▸ {text}")
        if message.buttons:
            self.say("      " + " ".join(f"[{b['text']} → {b['url']}]" if "url" in b
                                         else f"[{b['text']}]"
                                         for row in message.buttons for b in row))

    def actor_dossier(self, name: str | None) -> Any:
        actor = self.script.actors[name or self.last_actor or next(iter(self.script.actors))]
        with self.engine.store.unit_of_work("telegram", str(actor.user_id)) as uow:
            candidate = uow.candidate()
            if candidate is None:
                return None, []
            dossiers = uow.dossiers()
            active = next((d for d in dossiers if d.id == candidate.active_dossier_id), None)
            dossier = active or (dossiers[-1] if dossiers else None)
            documents = uow.documents(dossier.id) if dossier else []
            return dossier, documents

    def check(self, e: Expect, new: list[Sent]) -> Check:
        """`says`, `buttons`, `link`...: about what the bot said where the step acted (the
        actor's private chat, or the group they wrote in)."""
        actor = self.script.actors.get(self.last_actor or "") if self.last_actor else None
        chat = self.last_chat if self.last_chat is not None else (
            actor.user_id if actor is not None else None)
        to_actor = [m for m in new if chat is None or m.chat_id == chat]
        text = "\n".join(_visible(m) for m in to_actor)
        if e.says is not None:
            return Check(e.says in text, f"says “{e.says}”", f"bot said: {_short(text)}")
        if e.not_says is not None:
            return Check(e.not_says not in text, f"does not say “{e.not_says}”",
                         f"bot said: {_short(text)}")
        if e.matches is not None:
            return Check(re.search(e.matches, text) is not None, f"matches /{e.matches}/",
                         f"bot said: {_short(text)}")
        if e.buttons is not None:
            labels = to_actor[-1].labels() if to_actor else []
            missing = [b for b in e.buttons if not any(b == lbl or b in lbl for lbl in labels)]
            return Check(not missing, f"buttons {e.buttons}",
                         f"missing {missing}; offered {labels}")
        if e.link is not None:
            links = [url for m in to_actor for url in m.links()]
            return Check(e.link in links, f"link {e.link}", f"links offered: {links or 'none'}")
        if e.nothing_sent is not None:
            return Check(not new, "nothing sent", f"sent: {_short(' | '.join(m.text or '📎' for m in new))}")
        if e.dossier is not None:
            return self.check_dossier(e.dossier)
        if e.documents is not None:
            _dossier, documents = self.actor_dossier(e.documents.actor)
            kinds = sorted(d.kind for d in documents)
            ok = ((e.documents.count is None or len(documents) == e.documents.count)
                  and (e.documents.kinds is None or kinds == sorted(e.documents.kinds)))
            return Check(ok, f"documents {e.documents.model_dump(exclude_none=True)}",
                         f"stored: {kinds}")
        if e.message_to is not None:
            target = self.script.actors[e.message_to.actor]
            told = "\n".join(_visible(m) for m in new if m.chat_id == target.user_id)
            return Check(e.message_to.says in told,
                         f"{e.message_to.actor} is told “{e.message_to.says}”",
                         f"bot said to {e.message_to.actor}: {_short(told)}")
        rec = [m for m in new if m.chat_id == RECRUITER_CHAT]
        if e.no_recruiter_notification is not None:
            return Check(not rec, "no recruiter notification", f"{len(rec)} messages sent")
        assert e.recruiter_notification is not None
        rtext = "\n".join(m.text or "" for m in rec)
        docs = [m for m in rec if m.document is not None]
        missing = [s for s in e.recruiter_notification.says if s not in rtext]
        missing += [f"not {s}" for s in e.recruiter_notification.not_says if s in rtext]
        ok = bool(rec) and not missing and (e.recruiter_notification.documents is None
                                            or len(docs) == e.recruiter_notification.documents)
        wanted = e.recruiter_notification.model_dump(exclude_defaults=True)
        return Check(ok, f"recruiter notification {wanted}",
                     f"{len(rec)} messages, {len(docs)} documents; missing {missing}; "
                     f"text: {_short(rtext)}")

    def check_dossier(self, want: DossierExpect) -> Check:
        dossier, _docs = self.actor_dossier(want.actor)
        if dossier is None:
            return Check(False, f"dossier {want.model_dump(exclude_none=True)}", "no dossier stored")
        got = {"state": dossier.state, "status": dossier.status,
               "verdict": (dossier.verdict or {}).get("status")}
        problems = [f"{k}: expected {getattr(want, k)!r}, got {got[k]!r}"
                    for k in ("state", "status", "verdict")
                    if getattr(want, k) is not None and getattr(want, k) != got[k]]
        for qid, value in want.answers.items():
            if dossier.answers.get(qid) != value:
                problems.append(f"answer {qid}: expected {value!r}, got {dossier.answers.get(qid)!r}")
        return Check(not problems, f"dossier {want.model_dump(exclude_none=True, exclude_defaults=True)}",
                     "; ".join(problems))


def _visible(message: Sent) -> str:
    """What a person sees of a message: its text, or a document's name and caption."""
    if message.document is not None:
        return f"📎 {message.document['file_name']} {message.document.get('caption') or ''}"
    return message.text or ""


def _short(text: str, limit: int = 300) -> str:
    flat = " ⏎ ".join(line for line in text.splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def junit_xml(results: list[Result]) -> str:
    failures = sum(1 for r in results if not r.ok)
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="simulate" '
           f'tests="{len(results)}" failures="{failures}" '
           f'time="{sum(r.seconds for r in results):.3f}">']
    for r in results:
        out.append(f'  <testcase classname="{escape(r.path.stem)}" name="{escape(r.name)}" '
                   f'time="{r.seconds:.3f}">')
        if not r.ok:
            failed = [c for c in r.checks if not c.ok]
            message = r.error or "; ".join(c.what for c in failed)
            body = "\n".join(f"{c.what}: {c.detail}" for c in failed)
            out.append(f'    <failure message="{escape(message, {chr(34): "&quot;"})}">'
                       f"{escape(body)}</failure>")
        out.append(f"    <system-out>{escape(chr(10).join(r.transcript))}</system-out>")
        out.append("  </testcase>")
    out.append("</testsuite>\n")
    return "\n".join(out)
