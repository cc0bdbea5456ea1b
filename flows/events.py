"""What goes into the engine (who and what happened) and what comes out (replies as data)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from flows.messages import render

COMMANDS = ("back", "restart", "status", "help", "language", "withdraw", "vacancies", "mydata",
            "delete")
# Dutch names of commands (both work in every language): the right of access and of erasure.
COMMAND_ALIASES = {"mijngegevens": "mydata", "wissen": "delete"}
# What a candidate can send that is not an answer, each with its own reply (`unusable.<what>`):
# a forwarded text, an edit of an earlier message, and content the bot cannot read. "media" is
# whatever else a chat may carry (an invoice, a checklist, paid media, a type Telegram adds).
UNUSABLE = ("forwarded", "edited", "sticker", "voice", "video", "location", "contact", "poll",
            "story", "game", "media")
# A question to the recruiters: /vraag, /question, with or without the question after it.
QUESTION_COMMANDS = ("vraag", "question")


@dataclass(frozen=True)
class Sender:
    channel: str  # "telegram", "terminal", "simulation"
    external_id: str
    chat_id: str | None = None
    language_code: str | None = None  # as the client reports it ("nl-BE", "en")


@dataclass(frozen=True)
class Upload:
    file_name: str  # as the sender named it: shown and stored as data only
    media_type: str | None
    size: int
    path: Path | None = None  # the received bytes; None when only checking before download
    group: str | None = None  # album id: files of one album are pages of one document


@dataclass(frozen=True)
class Inbound:
    # "unusable": something the bot cannot take as an answer (a forwarded message, a
    # sticker...), named in `text`; "failed": the adapter could not handle the update.
    kind: Literal["start", "text", "press", "upload", "command", "unusable", "failed"]
    text: str | None = None  # text, or the start payload
    token: str | None = None  # a pressed button's token
    command: str | None = None
    upload: Upload | None = None
    event_id: int | None = None  # the channel's id of the event (Telegram's update_id), if any
    sent_at: datetime | None = None  # when the candidate sent it (for the deadline), if known

    def numbered(self, event_id: int | None, sent_at: datetime | None = None) -> Inbound:
        return replace(self, event_id=event_id, sent_at=sent_at)

    @classmethod
    def start(cls, payload: str | None = None) -> Inbound:
        return cls("start", text=payload or None)

    @classmethod
    def say(cls, text: str) -> Inbound:
        return cls("text", text=text)

    @classmethod
    def press(cls, token: str) -> Inbound:
        return cls("press", token=token)

    @classmethod
    def do(cls, command: str) -> Inbound:
        return cls("command", command=command)

    @classmethod
    def ask_recruiters(cls, question: str | None = None) -> Inbound:
        """/vraag: the question typed after the command, or none yet."""
        return cls("command", command=QUESTION_COMMANDS[0], text=(question or "").strip() or None)

    @classmethod
    def send_file(cls, upload: Upload) -> Inbound:
        return cls("upload", upload=upload)

    @classmethod
    def unusable(cls, what: str) -> Inbound:
        if what not in UNUSABLE:
            raise ValueError(f"unknown kind of unusable message: {what!r}")
        return cls("unusable", text=what)

    @classmethod
    def failed(cls) -> Inbound:
        return cls("failed")


@dataclass(frozen=True)
class Choice:
    token: str  # at most 64 bytes: it travels as Telegram callback data
    label: Any  # Msg, vacancy Text or plain str


@dataclass(frozen=True)
class Reply:
    lang: str  # the candidate's language, "nl" or "en"
    parts: tuple[Any, ...]  # Msg / Text / str, one paragraph each
    choices: tuple[Choice, ...] = ()
    expects: Literal["text", "choice", "document", "nothing"] = "nothing"
    document: str | None = None  # the document id asked for
    progress: tuple[int, int] | None = None
    question_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # The locale it is said in ("nl_NL" about a vacancy in the Netherlands); None: the
    # language's default (see flows.messages).
    locale: str | None = None
    # Files sent after the text, each a message of its own: {"file_data": base64,
    # "file_name", "caption"} (made here) or {"document_id", "caption"} (a stored document).
    # A Msg or vacancy Text as file name or caption is rendered like the text.
    attachments: tuple[dict[str, Any], ...] = ()

    @property
    def said_in(self) -> str:
        return self.locale or self.lang

    def text(self) -> str:
        return "\n\n".join(p for p in (render(part, self.said_in) for part in self.parts) if p)

    def attachment(self, attachment: dict[str, Any]) -> dict[str, Any]:
        """An attachment with its file name and caption as text in the reply's locale."""
        return {key: render(value, self.said_in) if key in ("file_name", "caption") else value
                for key, value in attachment.items()}

    def labels(self) -> list[str]:
        """Button labels in sentence case: a label that starts with a vacancy's own word
        ("motivatiebrief opladen") still starts with a capital; the rest is left as it is."""
        return [sentence_case(render(c.label, self.said_in)) for c in self.choices]


def sentence_case(label: str) -> str:
    return label[:1].upper() + label[1:]


def outgoing(replies: list[Reply]) -> list[dict[str, Any]]:
    """Replies as channel-neutral messages (text and choices, rendered in the reply's language;
    then each attachment as a message of its own), the form in which they wait in the outbox."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        messages.append({"text": reply.text(),
                         "choices": [[c.token, label] for c, label
                                     in zip(reply.choices, reply.labels(), strict=True)]})
        messages += [reply.attachment(a) for a in reply.attachments]
    return messages
