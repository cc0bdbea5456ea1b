"""A tiny script-like driver for engine conversations in tests.

    clock = Clock(datetime(2026, 7, 1, 12, tzinfo=AMSTERDAM))
    engine = make_engine(tmp_path, clock)
    chat = Chat(engine, "alice")
    chat.start("hardenberg-medewerker-intern-service-punt").expect("Privacy")
    chat.press("Akkoord").say("Alice Peeters").say("alice@example.org")
    chat.press("hbo").expect("Vraag 4 van")

Every step sends one event, keeps the replies and returns the chat, so steps chain. Failures
name what the bot said and which buttons it offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import sample_files
from flows.engine import Engine
from flows.events import Inbound, Reply, Sender, Upload
from flows.messages import LANGUAGES, render, variant_locales
from flows.ports import DocumentRecord, DossierRecord
from flows.vacancy_loader import load_catalogue
from tests.memory_store import MemoryFileStore, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
VACANCY_DIR = ROOT / "vacancies"
BRUSSELS = ZoneInfo("Europe/Brussels")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# The real "today" of this project: Nieuwpoort and Hardenberg are closed by then.
TODAY = datetime(2026, 11, 22, 10, 0, tzinfo=BRUSSELS)
PDF = sample_files.pdf()

_CATALOGUE = None


def shipped_vacancies() -> dict[str, Any]:
    """The shipped vacancies, loaded once per test session (they are frozen)."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = load_catalogue(VACANCY_DIR)
    return _CATALOGUE


class Clock:
    """A frozen clock the test moves by hand."""

    def __init__(self, now: datetime = TODAY) -> None:
        self.now = now

    def set(self, *args: int, tz: ZoneInfo = BRUSSELS) -> Clock:
        """`set(datetime)` or `set(2025, 7, 1, 12, 0, tz=...)`."""
        if len(args) == 1 and isinstance(args[0], datetime):
            self.now = args[0]
        else:
            self.now = datetime(*args, tzinfo=tz)  # type: ignore[misc]
        return self

    def advance(self, **delta: float) -> Clock:
        self.now = self.now + timedelta(**delta)
        return self

    def __call__(self) -> datetime:
        return self.now


def make_engine(tmp_path: Path, clock: Clock) -> Engine:
    return Engine(shipped_vacancies(), MemoryStore(), MemoryFileStore(tmp_path / "files"),
                  lambda: clock.now)


class ChatError(AssertionError):
    pass


class Chat:
    """One user talking to the engine."""

    def __init__(self, engine: Engine, user_id: str, lang: str = "nl",
                 channel: str = "test", script_lang: str | None = None) -> None:
        """`script_lang`: also find buttons by their label in this language, so a script
        written with Dutch labels can drive an English conversation."""
        self.engine = engine
        self.sender = Sender(channel, user_id, chat_id=user_id, language_code=lang)
        self.script_lang = script_lang
        self.last: list[Reply] = []
        self.history: list[tuple[Inbound, list[Reply]]] = []
        self.tmp = Path(engine.files.root).parent / "outgoing"  # type: ignore[attr-defined]
        self._n = 0

    # ------------------------------------------------------------------ sending

    def send(self, inbound: Inbound) -> Chat:
        self.last = self.engine.handle(self.sender, inbound)
        self.history.append((inbound, self.last))
        for reply in self.last:
            check_reply(reply)
        return self

    def start(self, payload: str | None = None) -> Chat:
        return self.send(Inbound.start(payload))

    def say(self, text: str) -> Chat:
        return self.send(Inbound.say(text))

    def do(self, command: str) -> Chat:
        return self.send(Inbound.do(command))

    def press_token(self, token: str) -> Chat:
        return self.send(Inbound.press(token))

    def press(self, label: str) -> Chat:
        """Press the button of the last replies whose label is `label` (or, if none, contains it)."""
        return self.press_token(self.token(label))

    def answer(self, value: str) -> Chat:
        """Press the button `value` if the question offers buttons, otherwise type it."""
        reply = self.question()
        if reply is not None and reply.expects == "choice":
            return self.press(value)
        return self.say(value)

    def upload(self, name: str, data: bytes = PDF, media_type: str | None = None,
               size: int | None = None) -> Chat:
        """Send a file as the sender named it; the received bytes sit in a temporary file
        that carries the sender's name too (so a store that reused it would show)."""
        self._n += 1
        folder = self.tmp / str(self._n)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (Path(name).name or "upload")
        path.write_bytes(data)
        upload = Upload(name, media_type, len(data) if size is None else size, path)
        return self.send(Inbound.send_file(upload))

    # ------------------------------------------------------------------ reading

    @property
    def text(self) -> str:
        return "\n\n".join(r.text() for r in self.last)

    @property
    def labels(self) -> list[str]:
        return [label for r in self.last for label in r.labels()]

    @property
    def tokens(self) -> list[str]:
        return [c.token for r in self.last for c in r.choices]

    def token(self, label: str) -> str:
        offered = [(lab, c.token) for r in self.last for lab, c in zip(r.labels(), r.choices,
                                                                       strict=True)]
        if self.script_lang and not any(label.lower() in lab.lower() for lab, _ in offered):
            offered = [(render(c.label, self.script_lang), c.token)
                       for r in self.last for c in r.choices]
        exact = [tok for lab, tok in offered if lab == label]
        if exact:
            return exact[0]
        wanted = label.lower()
        for match in (str.startswith, str.__contains__):
            near = [tok for lab, tok in offered if match(lab.lower(), wanted)]
            if len(near) == 1:
                return near[0]
            if near:
                break
        why = "several buttons match" if near else "no button matches"
        raise ChatError(f"{why} {label!r}; buttons offered: {[lab for lab, _ in offered]}\n"
                        f"--- bot said:\n{self.text}")

    def question(self) -> Reply | None:
        """The last reply that asks a question, if any."""
        asked = [r for r in self.last if r.question_id is not None]
        return asked[-1] if asked else None

    @property
    def question_id(self) -> str | None:
        q = self.question()
        return q.question_id if q else None

    @property
    def progress(self) -> tuple[int, int] | None:
        q = self.question()
        return q.progress if q else None

    def expect(self, *fragments: str) -> Chat:
        for fragment in fragments:
            if fragment not in self.text:
                raise ChatError(f"expected {fragment!r} in the replies; bot said:\n{self.text}\n"
                                f"--- buttons: {self.labels}")
        return self

    def expect_not(self, *fragments: str) -> Chat:
        for fragment in fragments:
            if fragment in self.text:
                raise ChatError(f"did not expect {fragment!r}; bot said:\n{self.text}")
        return self

    def expect_question(self, question_id: str) -> Chat:
        if self.question_id != question_id:
            raise ChatError(f"expected question {question_id!r}, got {self.question_id!r};"
                            f" bot said:\n{self.text}")
        return self

    # ------------------------------------------------------------------ stored rows

    @property
    def data(self) -> Any:
        return self.engine.store.data  # type: ignore[attr-defined]

    def candidate(self) -> Any:
        found = [c for c in self.data.candidates.values()
                 if (c.channel, c.external_id) == (self.sender.channel, self.sender.external_id)]
        return found[0] if found else None

    def dossier(self) -> DossierRecord:
        """The stored row of this user's active dossier (or their only one)."""
        me = self.candidate()
        if me is None:
            raise ChatError("no candidate row for this user")
        if me.active_dossier_id is not None:
            return self.data.dossiers[me.active_dossier_id]
        mine = [d for d in self.data.dossiers.values() if d.candidate_id == me.id]
        if len(mine) != 1:
            raise ChatError(f"no active dossier and {len(mine)} dossiers")
        return mine[0]

    def documents(self) -> list[DocumentRecord]:
        d = self.dossier()
        return [x for x in self.data.documents.values() if x.dossier_id == d.id]

    def stored_file(self, doc: DocumentRecord) -> Path:
        return self.engine.files.path(doc.stored_path)

    def files_on_disk(self) -> set[str]:
        root = Path(self.engine.files.root)  # type: ignore[attr-defined]
        return {p.name for p in root.iterdir()} if root.exists() else set()

    def asked(self) -> list[tuple[str, tuple[int, int] | None]]:
        """Every question the bot asked so far, in order, with its progress (n, total)."""
        return [(r.question_id, r.progress) for _, replies in self.history for r in replies
                if r.question_id is not None]

    # ------------------------------------------------------------------ scripts

    def answer_all(self, answers: dict[str, str], stop_at: Iterable[str] = ()) -> Chat:
        """Answer questions from `answers` (question id -> label or typed text) until none is
        asked, or the question is one of `stop_at`. Fails on a question the script lacks."""
        stops = set(stop_at)
        for _ in range(200):
            qid = self.question_id
            if qid is None or qid in stops:
                return self
            if qid not in answers:
                raise ChatError(f"script has no answer for {qid!r}; bot said:\n{self.text}")
            self.answer(answers[qid])
        raise ChatError("answer_all: more than 200 questions")


def check_reply(reply: Reply) -> None:
    """What every reply must satisfy: it renders in every language and variant (every key
    exists, every placeholder is supplied; its files' names and captions too) and its buttons
    fit Telegram's 64-byte callback data."""
    for lang in (*LANGUAGES, *variant_locales()):
        for part in reply.parts:
            render(part, lang)
        for choice in reply.choices:
            render(choice.label, lang)
        for attachment in reply.attachments:
            for key in ("file_name", "caption"):
                if key in attachment:
                    render(attachment[key], lang)
    for choice in reply.choices:
        assert len(choice.token.encode()) <= 64, choice.token
