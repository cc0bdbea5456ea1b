"""Configuration, read once from the environment and `.env` (see .env.example)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
DEFAULTS: dict[str, Any] = {
    "database_url": f"sqlite:///{ROOT / 'data' / 'intake.sqlite3'}",
    "vacancies_dir": ROOT / "vacancies",
    "upload_dir": ROOT / "data" / "uploads",
    "port": 8443,
    "reminder_days": (3, 1),
    "log_level": "INFO",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_file_base_url: str | None = None
    database_url: str = Field(default=DEFAULTS["database_url"])
    vacancies_dir: Path = DEFAULTS["vacancies_dir"]
    upload_dir: Path = DEFAULTS["upload_dir"]
    recruiter_chat_id: int | None = None
    # NoDecode: "111,222" in .env is a comma list, not JSON.
    recruiter_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = DEFAULTS["port"]
    reminder_days: Annotated[tuple[int, ...], NoDecode] = DEFAULTS["reminder_days"]
    log_level: str = DEFAULTS["log_level"]

    @model_validator(mode="before")
    @classmethod
    def _blank_means_default(cls, data: Any) -> Any:
        # `.env.example` lists every variable with an empty value: empty means "the default".
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    @field_validator("recruiter_user_ids", "reminder_days", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("reminder_days")
    @classmethod
    def _positive_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 1 for day in value):
            raise ValueError("reminder days are whole days before the deadline, 1 or more")
        return tuple(sorted(set(value), reverse=True))
