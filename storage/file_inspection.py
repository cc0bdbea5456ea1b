"""What an uploaded file is, judged by its bytes, and whether its name agrees.

`inspect_file(path, declared_name, media_type)` returns a `flows.ports.FileCheck`. The name and
the media type come from the sender and prove nothing; they only have to agree with the
content. `puremagic` names the content from its signature; the checks here confirm the
structure, so a file that merely starts like a PDF is not taken for one. Only the head and the
tail are read (and a zip's central directory): uploads may be 20 MB.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import puremagic

from flows.ports import FileCheck
from flows.text_cleaning import clean_line

_HEAD = 4096
_TAIL = 2048

# Opened by a double click (or by a browser, with scripts): refused whatever the bytes are.
_EXECUTABLE_EXTENSIONS = frozenset({
    "exe", "dll", "com", "bat", "cmd", "scr", "msi", "js", "jse", "vbs", "vbe", "wsf", "ps1",
    "sh", "jar", "apk", "app", "html", "htm", "svg", "hta", "lnk",
})
# Members that make an archive a program carrier. Not svg or html: Office stores svg images.
_ARCHIVE_PROGRAM_EXTENSIONS = frozenset({
    "exe", "dll", "com", "bat", "cmd", "scr", "msi", "js", "jse", "vbs", "vbe", "wsf", "ps1",
    "sh", "jar", "hta", "lnk",
})
_KIND_BY_EXTENSION = {
    "pdf": "pdf", "png": "png", "jpg": "jpg", "jpeg": "jpg", "jpe": "jpg", "jfif": "jpg",
    "docx": "docx", "doc": "doc", "odt": "odt",
}
_KIND_BY_MEDIA_TYPE = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/png": "png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "application/vnd.oasis.opendocument.text": "odt",
}

# Program signatures checked here as well as by puremagic, so that a change in its data cannot
# let one through: PE, ELF, Mach-O (32/64 bit, both byte orders), fat Mach-O and Java class
# (both CAFEBABE), Dalvik, and any script with a shebang.
_PROGRAM_MAGIC = (
    b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\xbe\xba\xfe\xca", b"\xca\xfe\xba\xbf",
    b"\xbf\xba\xfe\xca", b"dex\n", b"#!",
)
# Not "application/java-archive": puremagic's jar signature matches any zip with a data
# descriptor, docx included. Jars and apks are recognised by their members instead.
_PROGRAM_MEDIA_TYPES = frozenset({
    "application/java", "application/x-sharedlib", "application/x-shellscript", "text/x-python",
    "application/x-awk", "application/x-msdownload", "application/x-dosexec",
})
_MARKUP_EXTENSIONS = frozenset({".html", ".htm", ".svg", ".xml"})
_MARKUP_START = ("<!doctype", "<html", "<script", "<svg", "<?xml", "<!--", "<head", "<body")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))

_ZIP_MAGIC = b"PK"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ODT_MEDIA_TYPE = b"application/vnd.oasis.opendocument.text"
# Root storage class ids of Windows Installer packages, patches and transforms: OLE files too.
_INSTALLER_CLASS_IDS = frozenset(
    bytes([low, 0x10, 0x0C, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46]) for low in (0x82, 0x84, 0x86)
)
# A document has tens of members; thousands are no document of ours.
_MAX_MEMBERS = 5000
_END_RECORD_SEARCH = 22 + 65535
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
               NotImplementedError, RuntimeError, zlib.error)


def inspect_file(path: Path, declared_name: str, media_type: str | None) -> FileCheck:
    """Judge the file at `path` by its content, against the name and media type it came with.

    `kind` is set only when the content is a sound document of one of our types; with problem
    "mismatch" it says what the content really is.
    """
    extension = _extension(declared_name)
    if extension in _EXECUTABLE_EXTENSIONS:
        return FileCheck(None, "executable")
    declared = {kind for kind in (_KIND_BY_EXTENSION.get(extension or ""),
                                  _KIND_BY_MEDIA_TYPE.get(_bare(media_type))) if kind}
    # "cv.zip" or "cv.txt" names a type we do not take; "Jan.Peeters v2.1" names none.
    foreign = bool(extension) and extension not in _KIND_BY_EXTENSION and _looks_like_type(extension)

    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size == 0:
            return FileCheck(None, "empty")
        content = _content(file, size)

    if content.problem:
        return content
    if content.kind is None:
        return FileCheck(None, "mismatch" if declared else "unknown")
    if foreign or declared - {content.kind}:
        return FileCheck(content.kind, "mismatch")
    return content


def _extension(declared_name: str) -> str | None:
    # The cleaned name: "cv<U+202E>fdp.exe" is "cvfdp.exe". Windows ignores trailing dots and
    # spaces, so "cv.exe." is an exe.
    name = clean_line(declared_name).replace("\\", "/").rsplit("/", 1)[-1].rstrip(". ")
    _, dot, extension = name.rpartition(".")
    return extension.lower() if dot else None


def _looks_like_type(extension: str) -> bool:
    return len(extension) <= 5 and extension.isascii() and extension.isalnum() and not extension.isdigit()


def _bare(media_type: str | None) -> str:
    return (media_type or "").split(";", 1)[0].strip().lower()


def _content(file: BinaryIO, size: int) -> FileCheck:
    head = file.read(_HEAD)
    file.seek(max(size - _TAIL, 0))
    tail = file.read(_TAIL)
    file.seek(0)
    families = _signature_families(file)

    if "program" in families or head.startswith(_PROGRAM_MAGIC):
        return FileCheck(None, "executable")
    if "zip" not in families and _zip_carries_program(file, size):
        # A file can be a PDF to a PDF reader and an archive to an unzipper.
        return FileCheck(None, "executable")
    if "markup" in families or _is_markup(head):
        return FileCheck(None)
    if "zip" in families:
        return _zip_check(file, size)
    if "ole" in families:
        return _ole_check(file, head, size)
    if "png" in families:
        return _sound("png", head.startswith(_PNG_MAGIC) and head[8:16] == b"\x00\x00\x00\x0dIHDR")
    if "jpg" in families:
        return _sound("jpg", _jpeg_starts_well(head))
    # puremagic sees "%PDF" only at offset 0; readers accept it within the first 1024 bytes.
    if "pdf" in families or b"%PDF-" in head[:1024]:
        return _sound("pdf", _pdf_is_whole(head, tail))
    return FileCheck(None)


def _signature_families(file: BinaryIO) -> set[str]:
    """puremagic's names for the content, grouped into what we act on."""
    try:
        matches = puremagic.magic_stream(file)
    except puremagic.PureError:
        return set()
    families = set()
    for match in matches:
        label = f"{match.name} {match.mime_type}".lower()
        if "executable" in label or "mach-o" in label or match.mime_type in _PROGRAM_MEDIA_TYPES:
            families.add("program")
        elif match.byte_match.startswith(_ZIP_MAGIC):
            families.add("zip")  # every zip format: the members decide which
        elif match.byte_match.startswith(_OLE_MAGIC[:4]):
            families.add("ole")
        elif match.extension in _MARKUP_EXTENSIONS:
            families.add("markup")
        elif match.extension in (".pdf", ".png", ".jpg"):
            families.add(match.extension[1:])
    return families


def _sound(kind: str, whole: bool) -> FileCheck:
    return FileCheck(kind) if whole else FileCheck(None, "unreadable")


def _is_markup(head: bytes) -> bool:
    # Browsers sniff HTML after a byte order mark and white space, in any letter case.
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            text = head[len(bom):].decode(encoding, "ignore")
            break
    else:
        text = head.decode("latin-1")
    return text.lstrip().lower().startswith(_MARKUP_START)


def _pdf_is_whole(head: bytes, tail: bytes) -> bool:
    # A download cut short loses the end: the trailer, with "startxref" (contains "xref") or a
    # cross-reference stream, then "%%EOF".
    return (b"%PDF-" in head[:1024] and b"%%EOF" in tail
            and (b"xref" in tail or b"/XRef" in tail))


def _jpeg_starts_well(head: bytes) -> bool:
    # Start of image, then a segment marker with a length. The end is not checked: cameras and
    # phones append data after the image.
    if len(head) < 6 or not head.startswith(b"\xff\xd8\xff"):
        return False
    marker = head[3]
    return 0xC0 <= marker <= 0xFE and not 0xD0 <= marker <= 0xD9 and int.from_bytes(head[4:6], "big") >= 2


def _zip_check(file: BinaryIO, size: int) -> FileCheck:
    try:
        count = _member_count(file, size)
        if count is None or count > _MAX_MEMBERS:
            return FileCheck(None, "unreadable")
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            names = {_member_name(member) for member in members}
            if _carries_program(names):
                return FileCheck(None, "executable")
            # Part names in Office files compare without letter case.
            if {"[content_types].xml", "word/document.xml"} <= names:
                return FileCheck("docx")
            first = members[0] if members else None
            if (first and first.filename == "mimetype" and first.file_size <= 100
                    and archive.read(first).strip() == _ODT_MEDIA_TYPE):
                return FileCheck("odt")
            return FileCheck(None)
    except _ZIP_ERRORS:
        return FileCheck(None, "unreadable")


def _zip_carries_program(file: BinaryIO, size: int) -> bool:
    count = _member_count(file, size)
    if count is None or count > _MAX_MEMBERS:
        return False  # no archive, or none that any document hides
    try:
        with zipfile.ZipFile(file) as archive:
            return _carries_program({_member_name(member) for member in archive.infolist()})
    except _ZIP_ERRORS:
        return False  # not really an archive: nothing to unpack


def _member_count(file: BinaryIO, size: int) -> int | None:
    # The members the end record announces, read before zipfile builds an object for each:
    # 200,000 empty members fit in 17 MB and would cost seconds and hundreds of MB.
    # None when the file does not end as a zip (the record, then a comment of up to 64 KiB).
    file.seek(max(size - _END_RECORD_SEARCH, 0))
    end = file.read(_END_RECORD_SEARCH)
    at = end.rfind(b"PK\x05\x06")
    if at < 0 or len(end) - at < 22:
        return None
    return int.from_bytes(end[at + 10:at + 12], "little")


def _member_name(member: zipfile.ZipInfo) -> str:
    return clean_line(member.filename).lower().rstrip(". ")


def _carries_program(names: set[str]) -> bool:
    if "androidmanifest.xml" in names:  # an Android app
        return True
    if "meta-inf/manifest.mf" in names and any(name.endswith(".class") for name in names):
        return True  # a Java archive
    for name in names:
        base = name.rsplit("/", 1)[-1]
        # Word refuses a .docx with macros; one that has them is disguised.
        if base == "vbaproject.bin" or base.rpartition(".")[2] in _ARCHIVE_PROGRAM_EXTENSIONS:
            return True
    return False


def _ole_check(file: BinaryIO, head: bytes, size: int) -> FileCheck:
    # A compound file: little-endian mark, 512- or 4096-byte sectors, and a root storage entry
    # first in the directory. Windows Installer packages are compound files too.
    if len(head) < 512 or head[28:30] != b"\xfe\xff":
        return FileCheck(None, "unreadable")
    sector_shift = int.from_bytes(head[30:32], "little")
    if sector_shift not in (9, 12):
        return FileCheck(None, "unreadable")
    directory = (int.from_bytes(head[48:52], "little") + 1) << sector_shift
    if directory + 128 > size:
        return FileCheck(None, "unreadable")
    file.seek(directory)
    root = file.read(128)
    if root[66] != 5:
        return FileCheck(None, "unreadable")
    if root[80:96] in _INSTALLER_CLASS_IDS:
        return FileCheck(None, "executable")
    return FileCheck("doc")
