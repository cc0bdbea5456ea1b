"""Configuration, read once from the environment and `.env` (see .env.example)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_file_base_url: str | None = None
    database_url: str = Field(default=f"sqlite:///{ROOT / 'data' / 'intake.sqlite3'}")
    vacancies_dir: Path = ROOT / "vacancies"
    upload_dir: Path = ROOT / "data" / "uploads"
    recruiter_chat_id: int | None = None
    recruiter_user_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = 8443
    reminder_days: tuple[int, ...] = (3, 1)
    log_level: str = "INFO"

    @field_validator("telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("recruiter_chat_id", mode="before")
    @classmethod
    def _blank_chat(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("recruiter_user_ids", "reminder_days", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        # "1,2,3" in a .env file reads more naturally than a JSON list.
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value
