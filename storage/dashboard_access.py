"""Who may see the recruiters' dashboard, and for how long: one-time sign-in links and sessions.

A recruiter reaches the dashboard two ways: as a Telegram Mini App (its signed init data, see
`bot/dashboard/init_data.py`, opens a session directly) or in a browser, through a one-time
link the bot sends them (`issue_link`, then `redeem_link`). Either way they hold a session
token in a cookie. Links and sessions are rows known by the sha256 of their token only, so a
copy of the database opens nothing. Tokens come from `secrets`; hashing them unsalted is
enough at 256 random bits.

Redeeming a link is one conditional UPDATE: of two workers redeeming the same link at once,
exactly one gets the grant (the other's UPDATE finds it used), on SQLite and PostgreSQL alike.
A session ends at its `expires_at`, or once unused for its idle limit, which travels with the
row. Whether the user may still see the dashboard (RECRUITER_USER_IDS) is the web app's
question, asked on every request; this store only says who the session belongs to.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, delete, or_, select, update

from flows.messages import normalise_language
from storage.dossier_repository import utc_now, write_transaction
from storage.tables import dashboard_link_table, dashboard_session_table

NAME_LENGTH = 64  # the name columns' width
# seen_at moves at most this often: one write a minute per recruiter, not one per page.
TOUCH_EVERY = timedelta(seconds=60)

_L = dashboard_link_table.c
_S = dashboard_session_table.c


@dataclass(frozen=True)
class Grant:
    """What a redeemed sign-in link vouches for: open a session for this recruiter."""

    user_id: int
    name: str
    language: str


@dataclass(frozen=True)
class Session:
    """A live dashboard session. `csrf` goes into every form; a POST without it is refused."""

    user_id: int
    name: str
    language: str
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class OpenedSession:
    """A new session and its token, for the cookie: the token is never seen again."""

    token: str
    session: Session


def token_hash(token: str) -> str:
    # surrogatepass: a token taken from a mangled URL must find nothing, not raise.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class SqlDashboardAccess:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._clock = clock

    def issue_link(self, user_id: int, name: str, language: str, ttl: timedelta) -> str:
        """A new one-time sign-in token for `user_id`, valid for `ttl`."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with write_transaction(self._engine) as connection:
            connection.execute(dashboard_link_table.insert().values(
                token_hash=token_hash(token), user_id=user_id, name=_name(name),
                language=normalise_language(language), created_at=now, expires_at=now + ttl))
        return token

    def redeem_link(self, token: str) -> Grant | None:
        """The link's grant, once: None when it is unknown, expired or already redeemed."""
        now = self._now()
        hashed = token_hash(token)
        with write_transaction(self._engine) as connection:
            # One statement decides: a second worker's UPDATE waits for (PostgreSQL) or comes
            # after (SQLite's write lock) this one, and then finds used_at set.
            marked = connection.execute(
                update(dashboard_link_table)
                .where(_L.token_hash == hashed, _L.used_at.is_(None), _L.expires_at > now)
                .values(used_at=now)).rowcount
            if marked != 1:
                return None
            row = connection.execute(select(_L.user_id, _L.name, _L.language)
                                     .where(_L.token_hash == hashed)).one()
        return Grant(user_id=int(row.user_id), name=row.name, language=row.language)

    def open_session(self, grant: Grant, lifetime: timedelta, idle: timedelta) -> OpenedSession:
        """A session for the granted recruiter: it ends after `lifetime`, or after `idle`
        without a request."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._now()
        session = Session(user_id=grant.user_id, name=_name(grant.name),
                          language=normalise_language(grant.language), csrf=csrf,
                          expires_at=now + lifetime)
        with write_transaction(self._engine) as connection:
            connection.execute(dashboard_session_table.insert().values(
                token_hash=token_hash(token), user_id=session.user_id, name=session.name,
                language=session.language, csrf=csrf, created_at=now, seen_at=now,
                expires_at=session.expires_at, idle_seconds=_seconds(idle)))
        return OpenedSession(token=token, session=session)

    def session(self, token: str) -> Session | None:
        """The live session of this token; None when unknown, ended or idle too long."""
        now = self._now()
        hashed = token_hash(token)
        with self._engine.connect() as connection:
            row = connection.execute(select(dashboard_session_table)
                                     .where(_S.token_hash == hashed)).first()
        if row is None:
            return None
        expires_at, seen_at = _loaded(row.expires_at), _loaded(row.seen_at)
        if now >= expires_at or now - seen_at > timedelta(seconds=row.idle_seconds):
            return None
        if now - seen_at > TOUCH_EVERY:
            with write_transaction(self._engine) as connection:
                # Never backwards: a slower request with an older clock reading changes nothing.
                connection.execute(update(dashboard_session_table)
                                   .where(_S.token_hash == hashed, _S.seen_at < now)
                                   .values(seen_at=now))
        return Session(user_id=int(row.user_id), name=row.name, language=row.language,
                       csrf=row.csrf, expires_at=expires_at)

    def set_language(self, token: str, language: str) -> None:
        """The session's pages in `language` from now on ("nl" or "en"; anything else: "nl")."""
        with write_transaction(self._engine) as connection:
            connection.execute(update(dashboard_session_table)
                               .where(_S.token_hash == token_hash(token))
                               .values(language=normalise_language(language)))

    def close_session(self, token: str) -> None:
        """Sign out: the token opens nothing any more. An unknown token is no error."""
        with write_transaction(self._engine) as connection:
            connection.execute(delete(dashboard_session_table)
                               .where(_S.token_hash == token_hash(token)))

    def prune(self) -> int:
        """Delete the links that were used or expired and the sessions that ended (past
        `expires_at`, or idle past their limit); returns how many rows went."""
        now = self._now()
        with write_transaction(self._engine) as connection:
            links = connection.execute(delete(dashboard_link_table).where(
                or_(_L.used_at.is_not(None), _L.expires_at <= now))).rowcount
            ended = connection.execute(delete(dashboard_session_table)
                                       .where(_S.expires_at <= now)).rowcount
            # The idle limit differs per row, and date arithmetic differs per database: the
            # few open sessions are read and the idle ones deleted by their exact seen_at,
            # so a session touched meanwhile stays.
            idle = [and_(_S.token_hash == row.token_hash, _S.seen_at == row.seen_at)
                    for row in connection.execute(
                        select(_S.token_hash, _S.seen_at, _S.idle_seconds))
                    if now - _loaded(row.seen_at) > timedelta(seconds=row.idle_seconds)]
            if idle:
                ended += connection.execute(delete(dashboard_session_table)
                                            .where(or_(*idle))).rowcount
        return links + ended

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the clock must give aware datetimes")
        return now.astimezone(UTC)


def _name(name: str) -> str:
    return name.strip()[:NAME_LENGTH]


def _seconds(duration: timedelta) -> int:
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        raise ValueError("a session's idle limit must be positive")
    return seconds


def _loaded(value: datetime) -> datetime:
    # SQLite gives naive UTC back, PostgreSQL the session's zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
