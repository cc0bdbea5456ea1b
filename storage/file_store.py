"""Uploaded documents on the local disk, under generated names.

`LocalFileStore(root)` implements `flows.ports.FileStore`. A stored file lives at
`<root>/<yyyy>/<mm>/<uuid4 hex><ext>`: the sender's file name is never used (it is data, kept
in the document row), and the extension comes from a fixed allow-list, chosen by sniffing the
first bytes (and, for container formats, the declared suffix), `.bin` otherwise.

With a sealer (the candidate's cipher, storage/crypto.py) the bytes on disk are sealed with the
candidate's own key: a copy of the folder (a backup) cannot be read once their key is erased.
Size and digest are always those of the original bytes.

Writes are atomic and durable: the bytes go to a temporary file in the destination folder,
are fsynced, then renamed over the final name, and the folder is fsynced.

Only the service user can read them: every folder of the store is 0700 and every stored file
0600, whatever the umask; a store created on an older, more open tree narrows it first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath, PureWindowsPath

from flows.ports import FileCheck, Sealer, StoredFile
from storage.crypto import FILE_MAGIC, KeyGone
from storage.file_inspection import inspect_file

CHUNK_SIZE = 1024 * 1024
INCOMING = ".incoming"  # downloads in progress
DEFAULT_SUFFIX = ".bin"

# Leading bytes -> the suffix we store under.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"),
)
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_SUFFIXES = frozenset({".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_SUFFIXES = frozenset({".doc", ".xls", ".ppt"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"})
_SNIFF_BYTES = 16

# Every suffix `put` can produce.
ALLOWED_SUFFIXES = frozenset(
    {suffix for _, suffix in _SIGNATURES}
    | _ZIP_SUFFIXES
    | _OLE_SUFFIXES
    | {".zip", ".webp", ".heic", DEFAULT_SUFFIX}
)


def sniff_suffix(head: bytes, declared_suffix: str = "") -> str:
    """The allow-listed suffix for a file starting with `head` and named `*<declared_suffix>`.

    The content decides; the declared suffix only picks among formats that share a container
    (a .docx and an .odt are both zip files). Anything unrecognised is `.bin`.
    """
    declared = declared_suffix.lower()
    for magic, suffix in _SIGNATURES:
        if head.startswith(magic):
            return suffix
    if head.startswith(_ZIP_MAGIC):
        return declared if declared in _ZIP_SUFFIXES else ".zip"
    if head.startswith(_OLE_MAGIC):
        return declared if declared in _OLE_SUFFIXES else DEFAULT_SUFFIX
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return ".heic"
    return DEFAULT_SUFFIX


class UnsafePath(ValueError):
    """A stored path that is absolute, climbs with '..', or otherwise leaves the root."""


class LocalFileStore:
    def __init__(self, root: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self._root = Path(root)
        self._clock = clock or (lambda: datetime.now(UTC))
        _narrow_tree(self._root)

    @property
    def root(self) -> Path:
        return self._root

    @contextmanager
    def incoming(self) -> Iterator[Path]:
        """A path for a download in progress, inside the store (so `put` can move it in rather
        than copy it); removed when the block ends. A crash may leave it: it is then swept with
        the orphans (`stored_paths` lists it)."""
        folder = self._root / INCOMING
        _private_folder(folder)
        path = folder / f"{uuid.uuid4().hex}.part"
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def stored_paths(self, older_than: timedelta) -> Iterator[str]:
        """Every file under the root (downloads in progress included) last written more than
        `older_than` ago, as stored paths."""
        if not self._root.is_dir():
            return
        cutoff = time.time() - older_than.total_seconds()
        for path in self._root.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    yield path.relative_to(self._root).as_posix()
            except OSError:
                continue  # removed meanwhile

    def inspect(self, source: Path, declared_name: str, media_type: str | None) -> FileCheck:
        """What the file's bytes are, whatever its name and media type say."""
        return inspect_file(source, declared_name, media_type)

    def put(self, source: Path, sealer: Sealer | None = None) -> StoredFile:
        """Take `source` in under a generated name (moved when it is one of our own incoming
        downloads, copied otherwise; sealed when a sealer is given); return its relative path,
        and the size and sha256 of the original bytes."""
        now = self._clock().astimezone(UTC)
        relative_folder = PurePosixPath(f"{now:%Y}", f"{now:%m}")
        folder = self._root.joinpath(*relative_folder.parts)
        _private_folder(folder)
        if sealer is not None:
            return self._put_sealed(Path(source), sealer, folder, relative_folder)

        digest = hashlib.sha256()
        size = 0
        head = b""
        if Path(source).parent == self._root / INCOMING:
            return self._move_in(Path(source), folder, relative_folder)
        descriptor, temporary_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        temporary = Path(temporary_name)
        try:
            with os.fdopen(descriptor, "wb") as target, Path(source).open("rb") as origin:
                while chunk := origin.read(CHUNK_SIZE):
                    if len(head) < _SNIFF_BYTES:
                        head += chunk[: _SNIFF_BYTES - len(head)]
                    digest.update(chunk)
                    size += len(chunk)
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
            name = uuid.uuid4().hex + sniff_suffix(head, Path(source).suffix)
            os.replace(temporary, folder / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _fsync_directory(folder)
        return StoredFile(
            stored_path=str(relative_folder / name), size=size, sha256=digest.hexdigest()
        )

    def _move_in(self, source: Path, folder: Path, relative_folder: PurePosixPath) -> StoredFile:
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as origin:
            head = origin.read(_SNIFF_BYTES)
            origin.seek(0)
            while chunk := origin.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
            os.fchmod(origin.fileno(), 0o600)  # the download was written with the umask's mode
            os.fsync(origin.fileno())
        name = uuid.uuid4().hex + sniff_suffix(head)
        os.replace(source, folder / name)
        _fsync_directory(folder)
        return StoredFile(
            stored_path=str(relative_folder / name), size=size, sha256=digest.hexdigest()
        )

    def _put_sealed(self, source: Path, sealer: Sealer, folder: Path,
                    relative_folder: PurePosixPath) -> StoredFile:
        # Telegram hands bots files of at most 20 MB: sealing in memory is fine.
        data = source.read_bytes()
        name = uuid.uuid4().hex + sniff_suffix(data[:_SNIFF_BYTES], source.suffix)
        descriptor, temporary_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        temporary = Path(temporary_name)
        try:
            with os.fdopen(descriptor, "wb") as target:
                target.write(sealer.seal_file(data))
                target.flush()
                os.fsync(target.fileno())
            os.replace(temporary, folder / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        if source.parent == self._root / INCOMING:
            source.unlink(missing_ok=True)  # the plain download does not outlive the put
        _fsync_directory(folder)
        return StoredFile(stored_path=str(relative_folder / name), size=len(data),
                          sha256=hashlib.sha256(data).hexdigest())

    def read(self, stored_path: str, sealer: Sealer | None = None) -> bytes:
        """The original bytes of a stored file; a sealed one needs its candidate's sealer."""
        data = self.path(stored_path).read_bytes()
        if data.startswith(FILE_MAGIC):
            if sealer is None:
                raise KeyGone(f"{stored_path} is sealed and its key is gone")
            return sealer.open_file(data)
        return data

    def delete(self, stored_path: str) -> None:
        """Remove a stored file; one that is already gone is fine."""
        self.path(stored_path).unlink(missing_ok=True)

    def path(self, stored_path: str) -> Path:
        """Where a stored path lives under the root; refuses anything that would leave the root."""
        if not stored_path or "\x00" in stored_path or "\\" in stored_path:
            raise UnsafePath(f"not a stored path: {stored_path!r}")
        parts = stored_path.split("/")
        if PureWindowsPath(stored_path).drive or any(part in ("", ".", "..") for part in parts):
            raise UnsafePath(f"not a stored path: {stored_path!r}")
        candidate = self._root.joinpath(*parts)
        root = self._root.resolve()
        if not candidate.resolve().is_relative_to(root):
            raise UnsafePath(f"stored path leaves the upload folder: {stored_path!r}")
        return candidate


def _private_folder(folder: Path) -> None:
    """Create `folder` and every missing parent 0700 (mkdir's parents=True would give the
    parents the umask's default mode, 0755 under the usual umask)."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def _narrow_tree(root: Path) -> None:
    """Folders under `root` (itself included) more open than 0700 become 0700, files more open
    than 0600 become 0600: a tree written before the store kept to that, or under another umask."""
    if not root.is_dir():
        return
    for folder, _folders, files in os.walk(root):
        _narrow(Path(folder), 0o700)
        for name in files:
            _narrow(Path(folder, name), 0o600)


def _narrow(path: Path, allowed: int) -> None:
    with contextlib.suppress(OSError):  # removed meanwhile, or not ours
        status = path.lstat()
        mode = stat.S_IMODE(status.st_mode)
        if mode & ~allowed and not stat.S_ISLNK(status.st_mode):
            os.chmod(path, mode & allowed)


def _fsync_directory(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.fsync(descriptor)
    os.close(descriptor)
