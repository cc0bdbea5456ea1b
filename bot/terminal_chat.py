"""The terminal chat: the same engine and database as the bot, rendered as text.

Choices are numbered; a document is given as a file path. Works with piped input (one answer
per line), so scripts can drive it. Leaving (Ctrl-D, /quit) loses nothing: every answer was
committed before it was acknowledged.
"""

from __future__ import annotations

import mimetypes
import sys
from pathlib import Path
from typing import TextIO

from flows.engine import Engine
from flows.events import COMMAND_ALIASES, COMMANDS, QUESTION_COMMANDS, Inbound, Reply, Sender, Upload
from flows.messages import Msg, render

QUIT = ("/quit", "/exit", "/stop")


def render_reply(reply: Reply) -> str:
    lines = [reply.text()]
    for number, label in enumerate(reply.labels(), start=1):
        lines.append(f"  {number}) {label}")
    # A file the bot sends (/mydata): named, not printed.
    for attachment in map(reply.attachment, reply.attachments):
        name = attachment.get("file_name") or attachment.get("caption") or ""
        lines.append(render(Msg("chat.attachment", {"name": name}), reply.said_in))
    return "\n".join(lines)


def to_inbound(line: str, last: list[Reply]) -> Inbound:
    """What a typed line means, given the bot's last replies (numbers pick numbered choices)."""
    text = line.strip()
    if text.startswith("/"):
        name, _, arg = text[1:].partition(" ")
        if name == "start":
            return Inbound.start(arg.strip() or None)
        if name in COMMANDS or name in COMMAND_ALIASES:
            return Inbound.do(name)
        if name in QUESTION_COMMANDS:
            return Inbound.ask_recruiters(arg)
    choices = [c for r in last for c in r.choices]
    if text.isdigit() and choices and 1 <= int(text) <= len(choices):
        return Inbound.press(choices[int(text) - 1].token)
    if any(r.expects == "document" for r in last):
        path = Path(text).expanduser()
        if text and path.is_file():
            media_type = mimetypes.guess_type(path.name)[0]
            return Inbound.send_file(Upload(path.name, media_type, path.stat().st_size, path))
    return Inbound.say(line.rstrip("\n"))


def run_chat(engine: Engine, sender: Sender, vacancy_id: str | None,
             stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty()

    def show(replies: list[Reply]) -> list[Reply]:
        for reply in replies:
            print(render_reply(reply), file=stdout)
            print(file=stdout)
        return replies

    last = show(engine.handle(sender, Inbound.start(vacancy_id)))
    lang = last[0].lang if last else "nl"
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line or line.strip() in QUIT:
            print(render(Msg("chat.bye"), lang), file=stdout)
            return 0
        if not interactive:
            print(f"> {line.rstrip()}", file=stdout)
        replies = engine.handle(sender, to_inbound(line, last))
        if replies:
            lang = replies[-1].lang
            last = show(replies)
