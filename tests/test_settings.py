"""Configuration: the shipped .env.example works as it is, lists are comma lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import DEFAULTS, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_env_example_as_shipped_gives_the_defaults(monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = Settings(_env_file=ROOT / ".env.example")
    assert settings.telegram_bot_token is None
    assert settings.database_url == DEFAULTS["database_url"]
    assert settings.vacancies_dir == DEFAULTS["vacancies_dir"]
    assert settings.upload_dir == DEFAULTS["upload_dir"]
    assert settings.recruiter_user_ids == frozenset()
    assert settings.recruiter_chat_id is None
    assert settings.reminder_days == (3, 1)
    assert settings.webhook_url is None and settings.webhook_secret is None


def test_comma_lists_and_values_from_a_dotenv(tmp_path, monkeypatch):
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    env = tmp_path / ".env"
    env.write_text("RECRUITER_USER_IDS=111, 222\nREMINDER_DAYS=1,7,3\nRECRUITER_CHAT_ID=-100\n"
                   "TELEGRAM_BOT_TOKEN=1:abc\nUPLOAD_DIR=/srv/uploads\n", encoding="utf-8")
    settings = Settings(_env_file=env)
    assert settings.recruiter_user_ids == frozenset({111, 222})
    assert settings.reminder_days == (7, 3, 1)
    assert settings.recruiter_chat_id == -100
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "1:abc"
    assert settings.upload_dir == Path("/srv/uploads")
    assert "1:abc" not in repr(settings)  # the token never shows in a log or traceback


def test_a_zero_reminder_day_is_refused():
    with pytest.raises(ValidationError, match="1 or more"):
        Settings(_env_file=None, reminder_days="3,0")
