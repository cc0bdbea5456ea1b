"""Keep personal data out of log output: one filter every record passes before it is formatted.

Our own code logs ids and type names only, but the libraries do not: python-telegram-bot logs
the whole update (names, what was typed, file names, phone numbers, Telegram ids) when an update
is malformed, when a handler fails and no error handler is registered, and at DEBUG every Bot API
call with its parameters; httpx logs every URL, and Bot API URLs carry the bot token.

`install(pseudonymise)` puts a `PersonalDataFilter` on every handler of the root logger (and on
`logging.lastResort`), so records of every logger that propagates there (telegram, httpx,
apscheduler, asyncio, uvicorn, ours) pass it. A handler added later does not get it.

The filter formats `msg % args` once and rewrites the record:

- an update (an `Update(...)` repr, or a dict or JSON object that starts with "update_id")
  becomes `<update redacted: update_id=N; ids id#…>`;
- in any other `key='value'`, `'key': 'value'` or `"key": "value"`, a string value becomes
  `'<redacted>'` (a few keys such as `type` and `mime_type` excepted); coordinates too;
- Telegram user and chat ids (`id=`, `user_id`, `chat_id`, `'id': …`, `u:123`, `c:123`,
  `telegram:123`) become `id#<pseudonym>`, the keyed hash the caller gives, so an operator can
  still tell that two lines are about the same person;
- bot tokens (also inside `/bot<token>/` URLs) become `<token>`, e-mail addresses `<email>`,
  phone numbers `<phone>`, SQL parameters and PostgreSQL's "Key (…)=(…)" details `<redacted>`;
- the traceback keeps its code lines and exception types; each exception message is scrubbed as
  above and every quoted literal in it becomes `'<redacted>'`. The scrubbed text goes to
  `record.exc_text` and `exc_info` is cleared, so no handler renders the raw one.

What it cannot know: a personal value written bare (unquoted, outside a key) into a message or
an exception message. Our code never does that; library messages quote or key their values.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
import sys
import traceback
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings

REDACTED = "<redacted>"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# String values kept as they are: what kind of thing, never whose.
_SAFE_KEYS = frozenset({"type", "mime_type", "parse_mode", "language_code", "host", "method"})
# Numeric values that are a person's Telegram user or chat id.
_ID_KEYS = frozenset({"id", "user_id", "chat_id", "from_id", "sender_id", "sender_chat_id",
                      "chat", "user", "from_user", "telegram_id", "external_id"})
# Numeric values that are personal in themselves.
_PERSONAL_NUMBERS = frozenset({"latitude", "longitude", "phone_number"})

_QUOTED = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""
_NUMBER = r"-?\d+(?:\.\d+)?(?![\w.])"
_FIELD = re.compile(
    rf"""(?:\b(?P<kw>[A-Za-z_]\w*)=|(?P<q>['"])(?P<key>[A-Za-z_][\w.-]*)(?P=q)\s*:\s*)"""
    rf"(?P<value>{_QUOTED}|{_NUMBER})"
)
_TOKEN = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?:(?<![\w#+])\+|(?<![\w#+.:/-])00)[1-9]\d{0,2}(?:[ ./-]?\(0\))?(?:[ ./-]?\d){6,12}(?!\w)"
    r"|(?<![\w#+.:/-])0[1-9](?:[ ./-]?\d){7,8}(?![\w:])"
)
_PREFIXED_ID = re.compile(r"\b(?P<prefix>[uc]|telegram):(?P<id>-?\d+)\b")
# "chat 123456789", "user id -100123456": an id in prose, not in a structure.
_WORDED_ID = re.compile(r"\b(?:chat|user|id|candidate|from)\b[ :=#]{1,3}(?:id[ :=#]{1,3})?"
                        r"(?P<id>-?\d{5,})\b", re.IGNORECASE)
_SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_PG_KEY_DETAIL = re.compile(r"(Key \([^)\n]*\)=)\([^\n]*\)")
_UPDATE_START = re.compile(r"""\bUpdate\(|\{\s*(['"])update_id\1\s*:""")
_UPDATE_ID = re.compile(r"""update_id(?:=|['"]\s*:\s*)(\d+)""")
_PSEUDONYM = re.compile(r"id#\w+")
_QUOTED_LITERAL = re.compile(_QUOTED)
_WORTH_A_LOOK = re.compile(r"""[\d@'"]""")
_CLOSING = {"(": ")", "[": "]", "{": "}"}


class PersonalDataFilter(logging.Filter):
    """Rewrites every record it sees so that no personal value reaches a handler's output.

    `pseudonymise(id)` turns a Telegram id (as text) into a stable keyed hash; the filter writes
    it as `id#<hash>`. The filter never drops a record; if scrubbing fails, the record says so
    instead of carrying its original text.
    """

    def __init__(self, pseudonymise: Callable[[str], str]) -> None:
        super().__init__()
        self._pseudonym = functools.lru_cache(maxsize=4096)(pseudonymise)

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_personal_data_scrubbed", False):
            return True  # the same record on the next handler
        try:
            self._rewrite(record)
        except Exception as error:  # fail closed: nothing of the original goes out
            record.msg = f"<log record redacted: scrubbing failed ({type(error).__name__})>"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        record._personal_data_scrubbed = True
        return True

    def _rewrite(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: nothing says what they are
            message = f"{record.msg} <arguments redacted: they do not fit the format>"
        record.msg = self.scrub(message)
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub_exception(record.exc_info)
        elif record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)

    def scrub(self, text: str) -> str:
        """`text` with every personal value replaced (see the module's docstring)."""
        if not _WORTH_A_LOOK.search(text):
            return text
        text = _TOKEN.sub("<token>", text)
        text = _SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
        text = _PG_KEY_DETAIL.sub(rf"\1({REDACTED})", text)
        text = self._collapse_updates(text)
        text = _FIELD.sub(self._field, text)
        text = _PREFIXED_ID.sub(lambda m: self._id(m["id"]), text)
        text = _WORDED_ID.sub(lambda m: m[0][:m.start("id") - m.start()] + self._id(m["id"]), text)
        text = _EMAIL.sub("<email>", text)
        return _PHONE.sub("<phone>", text)

    def scrub_exception(
        self, exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        """The traceback of `exc_info` as `logging` prints it: code lines and exception types
        as they are, exception messages scrubbed and their quoted literals redacted."""
        exc_type, exc_value, exc_traceback = exc_info
        assert exc_value is not None
        formatted = traceback.TracebackException(
            type(exc_value) if exc_type is None else exc_type, exc_value, exc_traceback,
            compact=True)
        return "".join(self._traceback_lines(formatted, "")).rstrip("\n")

    def _traceback_lines(self, te: traceback.TracebackException, indent: str) -> Iterator[str]:
        if te.__cause__ is not None:
            yield from self._traceback_lines(te.__cause__, indent)
            yield indent + "\nThe above exception was the direct cause of the following exception:\n\n"
        elif te.__context__ is not None and not te.__suppress_context__:
            yield from self._traceback_lines(te.__context__, indent)
            yield indent + "\nDuring handling of the above exception, another exception occurred:\n\n"
        if te.stack:
            yield indent + "Traceback (most recent call last):\n"
            for frame in te.stack.format():
                yield "".join(indent + line + "\n" for line in frame.rstrip("\n").split("\n"))
        for line in te.format_exception_only():
            yield indent + self._exception_message(line)
        for index, member in enumerate(getattr(te, "exceptions", None) or (), 1):
            yield f"{indent}  +---------------- {index} ----------------\n"
            yield from self._traceback_lines(member, indent + "  | ")

    def _exception_message(self, line: str) -> str:
        # "module.Type: message" keeps its type; any other line (a long message, a note) is
        # message through and through.
        head, separator, message = line.partition(": ")
        if not separator or " " in head or "\n" in head:
            head, separator, message = "", "", line
        message = _QUOTED_LITERAL.sub(f"'{REDACTED}'", self.scrub(message))
        return head + separator + message

    def _collapse_updates(self, text: str) -> str:
        out, position = [], 0
        while (start := _UPDATE_START.search(text, position)) is not None:
            end = _structure_end(text, start.end() - 1 if start[0].endswith("(") else start.start())
            structure = text[start.start():end]
            update_id = _UPDATE_ID.search(structure)
            ids = list(dict.fromkeys(_PSEUDONYM.findall(_FIELD.sub(self._field, structure))))
            summary = f"update_id={update_id[1]}" if update_id else "update_id unknown"
            if ids:
                summary += "; ids " + ", ".join(ids)
            out += [text[position:start.start()], f"<update redacted: {summary}>"]
            position = end
        return "".join(out) + text[position:]

    def _field(self, match: re.Match[str]) -> str:
        key = match["kw"] or match["key"]
        value = match["value"]
        prefix = match[0][: match.start("value") - match.start()]
        quoted = value[0] in "'\""
        bare = value[1:-1] if quoted else value
        if key in _ID_KEYS and re.fullmatch(r"-?\d+", bare):
            return prefix + self._id(bare)
        if quoted:
            return match[0] if key in _SAFE_KEYS else f"{prefix}{value[0]}{REDACTED}{value[0]}"
        return prefix + REDACTED if key in _PERSONAL_NUMBERS else match[0]

    def _id(self, telegram_id: str) -> str:
        return "id#" + self._pseudonym(telegram_id)


def _structure_end(text: str, opening: int) -> int:
    """The index just past the bracket that closes the one at `opening` (quotes respected), or
    the end of the text when it never closes (a truncated dump is redacted to the end)."""
    stack: list[str] = []
    quote = ""
    index = opening
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in _CLOSING:
            stack.append(_CLOSING[char])
        elif stack and char == stack[-1]:
            stack.pop()
            if not stack:
                return index + 1
        index += 1
    return len(text)


def install(pseudonymise: Callable[[str], str]) -> PersonalDataFilter:
    """Put one `PersonalDataFilter` on every handler of the root logger and on
    `logging.lastResort` (replacing one installed before); return it."""
    privacy = PersonalDataFilter(pseudonymise)
    handlers = list(logging.getLogger().handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        for old in [f for f in handler.filters if isinstance(f, PersonalDataFilter)]:
            handler.removeFilter(old)
        handler.addFilter(privacy)
    return privacy


def configure_logging(settings: Settings,
                      pseudonymise: Callable[[str], str] | None = None) -> PersonalDataFilter:
    """The process's logging: one stderr handler at LOG_LEVEL, quiet libraries, and the filter
    (with `pseudonymise`, or by default `_pseudonymiser(settings)`)."""
    logging.basicConfig(level=settings.log_level, stream=sys.stderr, format=LOG_FORMAT)
    # Library chatter (state changes, migrations, HTTP calls) is not what an operator needs.
    for noisy in ("transitions", "alembic", "httpx", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # python-telegram-bot logs request parameters (messages, the token in URLs) at DEBUG:
    # never below INFO, whatever LOG_LEVEL says. The filter would scrub them; this is the
    # second lock on the same door.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().level))
    # A 429 is the outbox's to retry and record; the rate limiter would log it as a traceback.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    return install(pseudonymise or _pseudonymiser(settings))


def _pseudonymiser(settings: Settings) -> Callable[[str], str]:
    """The keyring's keyed pseudonym (HMAC-SHA256 under a key derived from the current master
    key): the same across restarts and processes. Without MASTER_KEY (a try-out), a random
    key per process: pseudonyms then change on restart."""
    from storage.crypto import Keyring

    master = settings.master_key.get_secret_value() if settings.master_key else None
    if master:
        return Keyring.from_text(master).pseudonym
    key = secrets.token_bytes(32)

    def pseudonym(value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:12]

    return pseudonym
