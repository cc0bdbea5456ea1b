"""Who gets into the recruiters' dashboard: Telegram's Mini App init data
(bot/dashboard/init_data.py) and the sign-in links and sessions (storage/dashboard_access.py),
on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, select

from bot.dashboard.init_data import Refusal, WebAppUser, sign_init_data, verify_init_data
from storage.dashboard_access import Grant, SqlDashboardAccess
from storage.database import make_engine
from storage.tables import dashboard_link_table, dashboard_session_table

BOT_TOKEN = "123456:AAE-tests-only-token"
OTHER_TOKEN = "654321:AAE-another-bots-token"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MAX_AGE = timedelta(minutes=10)
USER = json.dumps({"id": 777000111, "first_name": "Anouk", "language_code": "en"},
                  separators=(",", ":"))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def fields(auth_date: datetime = T0, **extra: str) -> dict[str, str]:
    return {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": USER,
            "auth_date": str(int(auth_date.timestamp())), **extra}


def verify(init_data: str, now: datetime = T0, token: str = BOT_TOKEN) -> WebAppUser | Refusal:
    return verify_init_data(init_data, token, now, MAX_AGE)


def signed(**extra: str) -> str:
    return sign_init_data(fields(**extra), BOT_TOKEN)


# --------------------------------------------------------------------------- init data


def test_valid_init_data_names_the_user():
    assert verify(signed()) == WebAppUser(id=777000111, first_name="Anouk", language_code="en")


def test_the_hash_is_telegrams_documented_one():
    """Computed here by hand from Telegram's description, not by the code under test."""
    data = fields(signature="c2lnbmVkIGJ5IFRlbGVncmFt")
    check = "\n".join(f"{key}={data[key]}" for key in sorted(data))
    secret = hmac.new(b"WebAppData", BOT_TOKEN.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    init_data = "&".join(f"{key}={quote(value, safe='')}" for key, value in data.items())
    assert verify(f"{init_data}&hash={expected}") == verify(signed())
    assert sign_init_data(data, BOT_TOKEN).endswith(f"&hash={expected}")
    # An uppercase hash is the same hex number.
    assert isinstance(verify(f"{init_data}&hash={expected.upper()}"), WebAppUser)


def test_a_tampered_user_is_forged():
    tampered = signed().replace(quote("777000111"), quote("777000112"))
    assert tampered != signed()
    assert verify(tampered) is Refusal.FORGED


def test_a_hash_made_with_another_bots_token_is_forged():
    assert verify(sign_init_data(fields(), OTHER_TOKEN)) is Refusal.FORGED
    assert isinstance(verify(sign_init_data(fields(), OTHER_TOKEN), token=OTHER_TOKEN), WebAppUser)


def test_the_signature_field_is_part_of_the_check():
    with_signature = signed(signature="c2lnbmVkIGJ5IFRlbGVncmFt")
    assert isinstance(verify(with_signature), WebAppUser)
    assert verify(with_signature.replace("c2lnbmVk", "c2lnbmVl")) is Refusal.FORGED
    dropped = "&".join(part for part in with_signature.split("&")
                       if not part.startswith("signature="))
    assert verify(dropped) is Refusal.FORGED
    # A hash made without the field does not pass with the field added.
    assert verify(signed() + "&signature=abc") is Refusal.FORGED


def test_a_key_given_twice_is_malformed():
    data = signed()
    assert verify(data + "&auth_date=" + str(int(T0.timestamp()))) is Refusal.MALFORMED
    assert verify(f"user={quote(USER)}&" + data) is Refusal.MALFORMED  # the same value, even
    assert verify(data + "&hash=" + "0" * 64) is Refusal.MALFORMED


@pytest.mark.parametrize("init_data", [
    "", "hash", "not a query string", "a=1&&b=2", "user=%ff&hash=" + "0" * 64,
    "auth_date=1", "auth_date=1&hash=", "auth_date=1&hash=" + "g" * 64,
    "auth_date=1&hash=" + "0" * 63, "auth_date=1&hash=" + "0" * 65, "x" * 20000,
])
def test_unreadable_init_data_or_hash_is_malformed(init_data: str):
    assert verify(init_data) is Refusal.MALFORMED


@pytest.mark.parametrize("auth_date", [None, "", "soon", "-5", "1.5", "１２３", "1e9"])
def test_a_signed_auth_date_that_is_not_unix_seconds_is_malformed(auth_date: str | None):
    data = fields()
    if auth_date is None:
        del data["auth_date"]
    else:
        data["auth_date"] = auth_date
    assert verify(sign_init_data(data, BOT_TOKEN)) is Refusal.MALFORMED


def test_freshness_is_max_age_back_and_a_minute_forward():
    data = signed()
    assert isinstance(verify(data, now=T0 + MAX_AGE), WebAppUser)
    assert verify(data, now=T0 + MAX_AGE + timedelta(seconds=1)) is Refusal.STALE
    assert isinstance(verify(data, now=T0 - timedelta(seconds=60)), WebAppUser)
    assert verify(data, now=T0 - timedelta(seconds=61)) is Refusal.STALE
    far_future = sign_init_data({**fields(), "auth_date": "9" * 12}, BOT_TOKEN)
    assert verify(far_future) is Refusal.STALE


@pytest.mark.parametrize("user", [
    None, "", "not json", "[1]", '{"first_name":"Anouk"}', '{"id":"777000111"}',
    '{"id":true}', '{"id":7.5}', '{"id":null}',
])
def test_no_user_with_an_integer_id_is_refused(user: str | None):
    data = fields()
    if user is None:
        del data["user"]
    else:
        data["user"] = user
    assert verify(sign_init_data(data, BOT_TOKEN)) is Refusal.NO_USER


def test_a_user_without_name_or_language_still_passes():
    data = {**fields(), "user": '{"id":5,"first_name":42}'}
    assert verify(sign_init_data(data, BOT_TOKEN)) == WebAppUser(5, "", None)


def test_refusals_read_as_their_names():
    assert [str(r) for r in Refusal] == ["malformed", "forged", "stale", "no_user"]


def test_sign_refuses_a_hash_field_and_verify_a_naive_time():
    with pytest.raises(ValueError):
        sign_init_data({**fields(), "hash": "0" * 64}, BOT_TOKEN)
    with pytest.raises(ValueError):
        verify_init_data(signed(), BOT_TOKEN, datetime(2026, 12, 1, 9, 0), MAX_AGE)


# --------------------------------------------------------------------------- links and sessions


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def access(engine: Engine, clock: Clock) -> SqlDashboardAccess:
    return SqlDashboardAccess(engine, clock=clock)


def _rows(engine: Engine, table) -> list:
    with engine.connect() as connection:
        return list(connection.execute(select(table)).all())


def test_a_link_grants_once_and_only_its_hash_is_stored(access: SqlDashboardAccess,
                                                        engine: Engine):
    token = access.issue_link(42, "Anouk", "en", timedelta(minutes=10))
    (row,) = _rows(engine, dashboard_link_table)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(tuple(row)) and len(token) >= 43
    assert access.redeem_link(token) == Grant(user_id=42, name="Anouk", language="en")
    assert access.redeem_link(token) is None
    assert access.redeem_link("an-unknown-token") is None
    assert access.issue_link(42, "Anouk", "en", timedelta(minutes=10)) != token


def test_an_expired_link_grants_nothing(access: SqlDashboardAccess, clock: Clock):
    token = access.issue_link(42, "Anouk", "nl", timedelta(minutes=10))
    late = access.issue_link(42, "Anouk", "nl", timedelta(minutes=10))
    clock.advance(minutes=10, seconds=-1)
    assert access.redeem_link(token) is not None
    clock.advance(seconds=1)
    assert access.redeem_link(late) is None


def test_names_are_cut_and_languages_normalised(access: SqlDashboardAccess):
    long_name = "Marie-" + "x" * 100
    cases = {"en": "en", "en-GB": "en", "EN": "en", "nl": "nl", "nl-BE": "nl", "fr": "nl",
             "": "nl"}
    for given, expected in cases.items():
        grant = access.redeem_link(access.issue_link(7, long_name, given, timedelta(minutes=1)))
        assert grant == Grant(7, long_name[:64], expected)
        opened = access.open_session(Grant(7, long_name, given), timedelta(hours=8),
                                     timedelta(minutes=30))
        assert (opened.session.name, opened.session.language) == (long_name[:64], expected)
        assert access.session(opened.token) == opened.session


def test_two_workers_redeeming_one_link_at_once_one_wins(access: SqlDashboardAccess,
                                                         migrated_database_url: str,
                                                         clock: Clock):
    # Two engines: two workers' pools (and, on SQLite, two writer locks: they meet in SQLite).
    engines = [make_engine(migrated_database_url) for _ in range(2)]
    try:
        workers = [SqlDashboardAccess(engine, clock=clock) for engine in engines]
        for _ in range(10):
            token = access.issue_link(42, "Anouk", "nl", timedelta(minutes=10))
            start = threading.Barrier(2)
            results: list[Grant | None] = []

            def redeem(worker: SqlDashboardAccess, token: str = token,
                       start: threading.Barrier = start,
                       results: list[Grant | None] = results) -> None:
                start.wait(timeout=10)
                results.append(worker.redeem_link(token))

            threads = [threading.Thread(target=redeem, args=(worker,)) for worker in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert sorted(results, key=lambda r: r is None) == [Grant(42, "Anouk", "nl"), None]
    finally:
        for engine in engines:
            engine.dispose()


def test_a_session_ends_at_its_lifetime(access: SqlDashboardAccess, clock: Clock):
    opened = access.open_session(Grant(42, "Anouk", "en"), timedelta(hours=8), timedelta(hours=9))
    session = access.session(opened.token)
    assert session is not None and session == opened.session
    assert session.expires_at == T0 + timedelta(hours=8) and len(session.csrf) >= 43
    assert session.csrf != opened.token
    clock.advance(hours=8, seconds=-1)
    assert access.session(opened.token) == session
    clock.advance(seconds=1)
    assert access.session(opened.token) is None
    assert access.session("an-unknown-token") is None


def test_a_session_ends_when_idle_and_each_keeps_its_own_limit(access: SqlDashboardAccess,
                                                                clock: Clock):
    grant = Grant(42, "Anouk", "nl")
    short = access.open_session(grant, timedelta(hours=8), timedelta(minutes=30))
    long = access.open_session(grant, timedelta(hours=8), timedelta(minutes=60))
    clock.advance(minutes=29)
    assert access.session(short.token) is not None  # used: idle counts from here
    clock.advance(minutes=29)
    assert access.session(short.token) is not None
    clock.advance(minutes=30, seconds=1)
    assert access.session(short.token) is None
    assert access.session(short.token) is None  # stays ended: a refusal touches nothing
    clock.now = T0 + timedelta(minutes=60)
    assert access.session(long.token) is not None
    clock.now = T0 + timedelta(minutes=120, seconds=1)
    assert access.session(long.token) is None


def test_seen_at_moves_at_most_once_a_minute(access: SqlDashboardAccess, clock: Clock,
                                             engine: Engine):
    opened = access.open_session(Grant(42, "Anouk", "nl"), timedelta(hours=8),
                                 timedelta(minutes=30))

    def seen_at() -> datetime:
        (row,) = _rows(engine, dashboard_session_table)
        value = row.seen_at
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    clock.advance(seconds=59)
    assert access.session(opened.token) is not None
    assert seen_at() == T0
    clock.advance(seconds=2)
    assert access.session(opened.token) is not None
    assert seen_at() == T0 + timedelta(seconds=61)


def test_closing_a_session_and_setting_its_language(access: SqlDashboardAccess):
    grant = Grant(42, "Anouk", "nl")
    opened = access.open_session(grant, timedelta(hours=8), timedelta(minutes=30))
    other = access.open_session(grant, timedelta(hours=8), timedelta(minutes=30))
    access.set_language(opened.token, "en")
    session = access.session(opened.token)
    assert session is not None and session.language == "en"
    access.set_language(opened.token, "de")
    session = access.session(opened.token)
    assert session is not None and session.language == "nl"
    access.close_session(opened.token)
    assert access.session(opened.token) is None
    access.close_session(opened.token)  # twice, or unknown: no error
    assert access.session(other.token) is not None  # the same recruiter's other session stays


def test_prune_deletes_what_can_open_nothing_and_counts_it(access: SqlDashboardAccess,
                                                           clock: Clock, engine: Engine):
    grant = Grant(42, "Anouk", "nl")
    used = access.issue_link(42, "Anouk", "nl", timedelta(minutes=10))
    assert access.redeem_link(used) is not None
    access.issue_link(42, "Anouk", "nl", timedelta(minutes=5))  # will have expired
    live_link = access.issue_link(42, "Anouk", "nl", timedelta(minutes=60))
    access.open_session(grant, timedelta(minutes=20), timedelta(minutes=60))  # will have ended
    access.open_session(grant, timedelta(hours=8), timedelta(minutes=10))  # will be idle
    live = access.open_session(grant, timedelta(hours=8), timedelta(minutes=30))
    clock.advance(minutes=20)
    # The used and the expired link; the session past its lifetime and the idle one.
    assert access.prune() == 4
    assert [row.token_hash for row in _rows(engine, dashboard_link_table)] == [
        hashlib.sha256(live_link.encode()).hexdigest()]
    assert [row.token_hash for row in _rows(engine, dashboard_session_table)] == [
        hashlib.sha256(live.token.encode()).hexdigest()]
    assert access.prune() == 0
    assert access.session(live.token) is not None
    assert access.redeem_link(live_link) == grant
    assert access.prune() == 1  # now used
