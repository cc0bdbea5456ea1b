"""A Telegram Mini App's init data, checked as Telegram documents it ("Validating data received
via the Mini App", core.telegram.org/bots/webapps).

Telegram hands the Mini App a query string (`Telegram.WebApp.initData`) signed with a key
derived from the bot token: whoever holds it was sent by Telegram to this user, for this bot.
The page posts it to the server, which checks it here before opening a session:

- each key exactly once; `hash` is 64 hex digits and is taken out;
- data_check_string: the other fields as `key=value` (values URL-decoded), sorted by key,
  joined by newlines (`signature`, the third-party Ed25519 signature, stays in);
- secret = HMAC-SHA256(key=b"WebAppData", msg=bot token); the hash must equal
  hex(HMAC-SHA256(key=secret, msg=data_check_string)), compared in constant time;
- fresh: `auth_date` (Unix seconds) within `max_age` before now and at most a minute after
  (clocks differ a little);
- a `user` JSON object with an integer `id`.

Pure: no web framework, no settings; the caller passes the token, the time and the age limit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl, quote, urlencode

# Telegram's init data is a few hundred bytes (a kilobyte or two with a photo URL): anything
# much longer is not theirs, and is refused before any parsing or hashing.
MAX_LENGTH = 16 * 1024
FUTURE_SLACK = timedelta(seconds=60)

_HEX_HASH = re.compile(r"[0-9a-fA-F]{64}")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class Refusal(StrEnum):
    """Why init data was refused (for the log and the refusal page; never the data itself)."""

    MALFORMED = "malformed"  # not a query string, a key twice, no usable hash or auth_date
    FORGED = "forged"  # not signed with this bot's token, or altered since
    STALE = "stale"  # auth_date older than the limit, or in the future
    NO_USER = "no_user"  # signed and fresh, but no user with an integer id


@dataclass(frozen=True)
class WebAppUser:
    id: int
    first_name: str
    language_code: str | None


def verify_init_data(init_data: str, bot_token: str, now: datetime,
                     max_age: timedelta) -> WebAppUser | Refusal:
    """The Telegram user this init data vouches for, or why it does not."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    fields = _fields(init_data)
    if fields is None:
        return Refusal.MALFORMED
    given = fields.pop("hash", None)
    if given is None or not _HEX_HASH.fullmatch(given):
        return Refusal.MALFORMED
    if not hmac.compare_digest(given.lower(), _hash(fields, bot_token)):
        return Refusal.FORGED
    # Signed by Telegram from here on: what follows reads their data, not an attacker's.
    auth_date = fields.get("auth_date")
    if auth_date is None or not _UNIX_SECONDS.fullmatch(auth_date):
        return Refusal.MALFORMED
    # In seconds, not datetimes: a huge auth_date is then stale rather than an overflow.
    age = now.timestamp() - int(auth_date)
    if age > max_age.total_seconds() or age < -FUTURE_SLACK.total_seconds():
        return Refusal.STALE
    return _user(fields.get("user"))


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """`fields` (auth_date, user JSON, ...) as init data signed for `bot_token`, the way
    Telegram signs it: for tests and the bench, which play Telegram."""
    if "hash" in fields:
        raise ValueError("the fields must not hold a hash: it is computed here")
    return urlencode({**fields, "hash": _hash(fields, bot_token)}, quote_via=quote)


def _fields(init_data: str) -> dict[str, str] | None:
    if len(init_data) > MAX_LENGTH:
        return None
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True,
                          errors="strict", max_num_fields=64)
    except ValueError:  # a piece without "=", bytes that are not UTF-8, too many fields
        return None
    fields = dict(pairs)
    # A key twice: which one would the check use, and which one would the caller read?
    return fields if len(fields) == len(pairs) else None


def _hash(fields: dict[str, str], bot_token: str) -> str:
    data_check_string = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, data_check_string.encode(), hashlib.sha256).hexdigest()


def _user(raw: str | None) -> WebAppUser | Refusal:
    try:
        user = json.loads(raw) if raw is not None else None
    except ValueError:
        return Refusal.NO_USER
    if not isinstance(user, dict):
        return Refusal.NO_USER
    user_id = user.get("id")
    # bool is an int in Python, and JSON's true is no user id.
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return Refusal.NO_USER
    first_name = user.get("first_name")
    language_code = user.get("language_code")
    return WebAppUser(id=user_id,
                      first_name=first_name if isinstance(first_name, str) else "",
                      language_code=language_code if isinstance(language_code, str) else None)
