"""Encryption of personal data at rest, with a key per person ("crypto-shredding").

Every person the bot hears from (a Telegram user) gets a random 256-bit *subject key*. Their
personal fields (answers, verdict, file names, questions, queued messages, raw updates) and
their uploaded files are sealed with it (AES-256-GCM). The subject key is stored in the
`subject_key` table *wrapped* (itself AES-GCM-encrypted) by a *master key* that never enters
the database: it comes from the environment (`MASTER_KEY`). Erasing a person deletes their
subject key; every copy of their data that is left anywhere — PostgreSQL pages not yet
vacuumed, the SQLite WAL, a backup of the database or of the upload folder — is then
ciphertext that nobody can open.

The key table is found by `subject`, a hash of (channel, the person's id there). It is not
keyed on purpose: a master key rotation must not rename every key. It hides nothing the
candidate row does not show (that row holds the id, needed to answer them); once a person is
erased, neither row exists.

Master key rotation: `MASTER_KEY` may list several keys, comma-separated, newest first. The
first wraps new subject keys; every listed key unwraps (each wrapped key records which master
key wrapped it). `python main.py rotate-keys` re-wraps every subject key with the first;
afterwards the old master key can be destroyed, and with it every backup's copy of keys that
were erased since. Log pseudonyms are keyed by the current master key: they change with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
TEXT_PREFIX = "enc1:"  # a sealed text field: enc1:<base64 nonce+ciphertext>
FILE_MAGIC = b"INTAKE-ENC1\n"  # a sealed file starts with this, then nonce+ciphertext
_WRAP_AAD = b"intake subject key v1:"
_FIELD_AAD = b"intake field v1"
_FILE_AAD = b"intake file v1"


class KeyGone(Exception):
    """The subject key is not there (erased): the data sealed with it cannot be opened."""


class MasterKeyError(ValueError):
    """MASTER_KEY is missing or malformed."""


def new_master_key() -> str:
    """A fresh master key in the form MASTER_KEY takes (base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _decode_master(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (ValueError, TypeError) as exc:
        raise MasterKeyError("MASTER_KEY must be base64 of 32 bytes") from exc
    if len(raw) != KEY_BYTES:
        raise MasterKeyError("MASTER_KEY must be base64 of 32 bytes")
    return raw


def master_id(key: bytes) -> str:
    """Which master key wrapped a subject key: a short fingerprint, not the key."""
    return hashlib.sha256(b"intake master id:" + key).hexdigest()[:16]


class SubjectCipher:
    """Seals and opens one person's fields and files with their subject key. The associated
    data names the person, so a sealed value moved to another person's row does not open."""

    __slots__ = ("_aead", "_field_aad", "_file_aad")

    def __init__(self, key: bytes, subject: str) -> None:
        self._aead = AESGCM(key)
        self._field_aad = _FIELD_AAD + b":" + subject.encode()
        self._file_aad = _FILE_AAD + b":" + subject.encode()

    def seal_bytes(self, data: bytes, aad: bytes | None = None) -> bytes:
        # A fresh random 96-bit nonce per value: far below the 2^32 messages per key at which
        # random nonces for AES-GCM start to be a concern for one person's data.
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, aad or self._field_aad)

    def open_bytes(self, sealed: bytes, aad: bytes | None = None) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                      aad or self._field_aad)
        except InvalidTag as exc:
            raise KeyGone("sealed with another key, or for another person") from exc

    def seal_text(self, value: str) -> str:
        return TEXT_PREFIX + base64.b64encode(self.seal_bytes(value.encode())).decode()

    def open_text(self, value: str) -> str:
        if not value.startswith(TEXT_PREFIX):
            return value  # written before encryption: read as it is, sealed on its next write
        return self.open_bytes(base64.b64decode(value[len(TEXT_PREFIX):])).decode()

    def seal_json(self, value: Any) -> str:
        """A JSON value as one sealed string (what the JSON column then holds)."""
        return self.seal_text(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def open_json(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(TEXT_PREFIX):
            return json.loads(self.open_text(value))
        return value  # plain JSON written before encryption

    def seal_file(self, data: bytes) -> bytes:
        return FILE_MAGIC + self.seal_bytes(data, self._file_aad)

    def open_file(self, data: bytes) -> bytes:
        if not data.startswith(FILE_MAGIC):
            return data  # stored before encryption
        return self.open_bytes(data[len(FILE_MAGIC):], self._file_aad)


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TEXT_PREFIX)


class Keyring:
    """The master keys (from the environment) and what is derived from them."""

    def __init__(self, master_keys: Sequence[bytes]) -> None:
        if not master_keys:
            raise MasterKeyError("at least one master key is needed")
        self._masters = {master_id(key): AESGCM(key) for key in master_keys}
        self._current = master_id(master_keys[0])
        # A key of its own for log pseudonyms: one reveals nothing about the master key.
        self._pseudonym_key = hmac.new(master_keys[0], b"intake pseudonyms v1",
                                       hashlib.sha256).digest()
        self._unwrapped: dict[tuple[bytes, str], SubjectCipher] = {}

    @classmethod
    def from_text(cls, text: str) -> Keyring:
        return cls([_decode_master(part) for part in text.split(",") if part.strip()])

    @classmethod
    def from_settings(cls, configured: str | None, data_dir: Path) -> Keyring:
        """MASTER_KEY when set; else a key file beside the data (created once, 0600), with a
        warning: a backup holding both the data folder and that file is not protected."""
        if configured and configured.strip():
            return cls.from_text(configured)
        path = data_dir / "master.key"
        if not path.exists():
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(new_master_key() + "\n")
        log.warning("MASTER_KEY is not set: using the key file in the data folder; set "
                    "MASTER_KEY from a secret store and keep it out of the backups")
        return cls.from_text(path.read_text())

    @property
    def current_master(self) -> str:
        return self._current

    @staticmethod
    def subject(channel: str, external_id: str) -> str:
        """The key table's name for a person (see the module docstring)."""
        message = f"intake subject v1\x00{channel}\x00{external_id}".encode()
        return hashlib.sha256(message).hexdigest()[:40]

    def pseudonym(self, value: str) -> str:
        """A short stable stand-in for an id in log lines (keyed: not reversible by hashing
        every possible Telegram id)."""
        return hmac.new(self._pseudonym_key, b"log\x00" + value.encode(),
                        hashlib.sha256).hexdigest()[:12]

    def new_key(self, subject: str) -> tuple[bytes, str, SubjectCipher]:
        """A fresh subject key: (wrapped bytes, master id, its cipher)."""
        key = secrets.token_bytes(KEY_BYTES)
        wrapped = self.wrap(key, subject)
        cipher = SubjectCipher(key, subject)
        self._unwrapped[(wrapped, subject)] = cipher
        return wrapped, self._current, cipher

    def wrap(self, key: bytes, subject: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._masters[self._current].encrypt(
            nonce, key, _WRAP_AAD + subject.encode())

    def unwrap_key(self, wrapped: bytes, master: str, subject: str) -> bytes:
        aead = self._masters.get(master)
        if aead is None:
            raise MasterKeyError(f"master key {master} is not in MASTER_KEY (rotated away?)")
        try:
            return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                _WRAP_AAD + subject.encode())
        except InvalidTag as exc:
            raise MasterKeyError("a subject key does not open with its master key") from exc

    def cipher(self, wrapped: bytes, master: str, subject: str) -> SubjectCipher:
        """The cipher of a stored (wrapped) subject key; unwrapped once per process (per key
        and person: a wrapped key copied to another person's row is checked again, and fails)."""
        entry = (bytes(wrapped), subject)
        found = self._unwrapped.get(entry)
        if found is None:
            found = SubjectCipher(self.unwrap_key(entry[0], master, subject), subject)
            if len(self._unwrapped) > 50_000:
                self._unwrapped.clear()  # bound the cache; unwrapping again costs microseconds
            self._unwrapped[entry] = found
        return found

    def forget(self, wrapped: bytes, subject: str) -> None:
        """Drop an erased key from this process's cache."""
        self._unwrapped.pop((bytes(wrapped), subject), None)


def fixed_keyring() -> Keyring:
    """A fixed keyring for tests and simulations (never for real data)."""
    return Keyring([hashlib.sha256(b"intake test master key").digest()])


_process_keyring: Keyring | None = None


def use_keyring(keyring: Keyring) -> None:
    """Make `keyring` the one stores use when none is passed (main passes its keyring to the
    stores explicitly; this is for tools and tests)."""
    global _process_keyring
    _process_keyring = keyring


def process_keyring() -> Keyring:
    """The keyring set by `use_keyring`, else one from MASTER_KEY in the environment (stores
    built without a keyring: tests, tools)."""
    global _process_keyring
    if _process_keyring is None:
        configured = os.environ.get("MASTER_KEY", "")
        if not configured.strip():
            raise MasterKeyError("MASTER_KEY is not set: pass the stores a keyring "
                                 "(Settings.keyring()) or set MASTER_KEY")
        _process_keyring = Keyring.from_text(configured)
    return _process_keyring
