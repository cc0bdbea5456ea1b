"""storage/file_inspection.py: files are judged by their content, not by their name.

Every file is made here, small and valid, so the hostile cases of the issue can be rebuilt from
genuine documents: an exe, a zip or HTML named .pdf, a real PDF named invoice.exe, a name
turned around by a right-to-left override, an empty or a truncated file.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from flows.ports import FileCheck
from storage.file_inspection import inspect_file

WORD_CLASS_ID = bytes.fromhex("0609020000000000c000000000000046")  # {00020906-...}: Word
INSTALLER_CLASS_ID = bytes.fromhex("84100c0000000000c000000000000046")  # {000C1084-...}: MSI


def pdf_bytes(padding: int = 0) -> bytes:
    """A one-page PDF with a correct cross-reference table, trailer, startxref and %%EOF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Length %d >>\nstream\n" % padding + b"0" * padding + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    quantisation = b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65))
    return b"\xff\xd8" + app0 + quantisation + b"\xff\xd9"


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            compression = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return buffer.getvalue()


def docx_bytes(*extra: tuple[str, bytes]) -> bytes:
    return zip_bytes([
        ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
        ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
        ("word/document.xml", b'<?xml version="1.0"?><w:document/>'),
        *extra,
    ])


def odt_bytes() -> bytes:
    return zip_bytes([
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b'<?xml version="1.0"?><office:document-content/>'),
        ("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest/>'),
    ])


def ole_bytes(class_id: bytes = WORD_CLASS_ID) -> bytes:
    """A compound file header and its first directory sector, holding the root entry."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)  # versions, order, sectors
    struct.pack_into("<I", header, 48, 0)  # the directory starts in sector 0
    root = bytearray(128)
    name = "Root Entry".encode("utf-16-le") + b"\x00\x00"
    root[0:len(name)] = name
    struct.pack_into("<HBB", root, 64, len(name), 5, 1)  # name length, root storage, black
    root[80:96] = class_id
    return bytes(header) + bytes(root) + bytes(384)


EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(52) + b"\x80\x00\x00\x00" + bytes(64) + b"PE\x00\x00" + bytes(64)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"

GENUINE = {
    "pdf": pdf_bytes,
    "png": png_bytes,
    "jpg": jpeg_bytes,
    "docx": docx_bytes,
    "odt": odt_bytes,
    "doc": ole_bytes,
}
MEDIA_TYPE = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "doc": "application/msword",
}


@pytest.fixture
def check(tmp_path: Path):
    def inspect(content: bytes, name: str, media_type: str | None = None) -> FileCheck:
        path = tmp_path / "upload.bin"
        path.write_bytes(content)
        return inspect_file(path, name, media_type)

    return inspect


# The genuine documents are taken.

@pytest.mark.parametrize("kind", sorted(GENUINE))
def test_a_genuine_document_with_its_own_name_and_media_type_is_taken(check, kind):
    assert check(GENUINE[kind](), f"Mijn CV.{kind}", MEDIA_TYPE[kind]) == FileCheck(kind)


@pytest.mark.parametrize("kind", sorted(GENUINE))
def test_a_genuine_document_without_extension_is_judged_by_its_content(check, kind):
    assert check(GENUINE[kind](), "scan", None) == FileCheck(kind)
    assert check(GENUINE[kind](), "", "application/octet-stream") == FileCheck(kind)


@pytest.mark.parametrize("name", ["CV.PDF", "cv.final.pdf", "map/cv.pdf", "C:\\scan\\cv.pdf"])
def test_the_extension_is_read_from_the_cleaned_base_name_in_any_case(check, name):
    assert check(pdf_bytes(), name, "application/pdf; charset=binary") == FileCheck("pdf")


@pytest.mark.parametrize("name", ["foto.jpg", "foto.JPEG", "foto.jfif"])
def test_jpeg_goes_by_several_extensions(check, name):
    assert check(jpeg_bytes(), name, "image/jpeg") == FileCheck("jpg")


def test_a_large_pdf_is_judged_by_its_head_and_tail(check):
    assert check(pdf_bytes(padding=3_000_000), "cv.pdf", "application/pdf") == FileCheck("pdf")


def test_a_20_mb_file_is_judged_without_reading_it_all(tmp_path):
    path = tmp_path / "big.bin"
    document = pdf_bytes()
    with path.open("wb") as file:  # sparse: a head, a hole, a tail
        file.write(document[:200])
        file.seek(20 * 1024 * 1024)
        file.write(document[200:])
    assert inspect_file(path, "cv.pdf", "application/pdf") == FileCheck("pdf")


def test_a_pdf_after_a_little_leading_junk_is_a_pdf_but_not_after_1024_bytes(check):
    assert check(b"\x00" * 100 + pdf_bytes(), "cv.pdf") == FileCheck("pdf")
    assert check(b"\x00" * 2000 + pdf_bytes(), "cv.pdf") == FileCheck(None, "mismatch")


def test_a_jpeg_with_data_after_the_image_is_taken(check):
    assert check(jpeg_bytes() + b"\x00" * 16 + b"motion photo" * 100, "foto.jpg") == FileCheck("jpg")


# Programs and scripts are refused, whatever they are called.

def test_an_exe_named_pdf_is_refused(check):
    assert check(EXE, "cv.pdf", "application/pdf") == FileCheck(None, "executable")


@pytest.mark.parametrize("magic", [
    b"\x7fELF\x02\x01\x01",  # ELF
    b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe\x00\x00\x00\x02",  # fat Mach-O
    b"\xca\xfe\xba\xbe\x00\x00\x00\x34",  # Java class
    b"#!/bin/sh\n", b"#!/usr/bin/env python3\n",
])
def test_programs_and_scripts_are_refused_by_content(check, magic):
    assert check(magic + bytes(200), "cv.pdf") == FileCheck(None, "executable")
    assert check(magic + bytes(200), "scan") == FileCheck(None, "executable")


def test_a_real_pdf_named_invoice_exe_is_refused(check):
    assert check(pdf_bytes(), "invoice.exe", "application/pdf") == FileCheck(None, "executable")


def test_a_right_to_left_override_does_not_hide_an_exe(check):
    # Shown as "cvexe.pdf"; it is "cvfdp.exe".
    assert check(EXE, "cv\u202efdp.exe", "application/pdf") == FileCheck(None, "executable")
    assert check(pdf_bytes(), "cv\u202efdp.exe", "application/pdf") == FileCheck(None, "executable")


@pytest.mark.parametrize("name", [
    "cv.pdf.exe", "CV.EXE", "cv.exe.", "cv.exe ", "cv.js", "cv.html", "cv.svg", "cv.lnk", "cv.ps1",
    "cv.e\u200bxe",
])
def test_program_extensions_are_refused_whatever_the_content(check, name):
    assert check(pdf_bytes(), name) == FileCheck(None, "executable")


@pytest.mark.parametrize("members", [
    [("setup.exe", EXE)],
    [("docs/readme.txt", b"x"), ("docs/run.BAT", b"@echo off")],
    [("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"), ("nl/x/Main.class", b"\xca\xfe\xba\xbe")],
    [("AndroidManifest.xml", b"\x03\x00"), ("classes.dex", b"dex\n035\x00")],
    [("cv\u202efdp.js", b"alert(1)")],
])
def test_an_archive_carrying_a_program_is_refused(check, members):
    assert check(zip_bytes(members), "cv.pdf") == FileCheck(None, "executable")
    assert check(zip_bytes(members), "cv.zip") == FileCheck(None, "executable")


def test_a_docx_carrying_a_program_or_macros_is_refused(check):
    assert check(docx_bytes(("word/embed.exe", EXE)), "cv.docx") == FileCheck(None, "executable")
    assert check(docx_bytes(("word/vbaProject.bin", b"x")), "cv.docx") == FileCheck(None, "executable")


def test_a_pdf_that_is_also_an_archive_with_a_program_is_refused(check):
    assert check(pdf_bytes() + zip_bytes([("run.exe", EXE)]), "cv.pdf") == FileCheck(None, "executable")


def test_an_installer_dressed_as_a_word_document_is_refused(check):
    assert check(ole_bytes(INSTALLER_CLASS_ID), "cv.doc", "application/msword") == FileCheck(
        None, "executable")


# Content that is not one of our types.

def test_a_zip_named_pdf_is_a_mismatch(check):
    assert check(zip_bytes([("cv.pdf", pdf_bytes())]), "cv.pdf") == FileCheck(None, "mismatch")


MARKUP = [
    HTML,
    b"\xef\xbb\xbf  \r\n<!doctype HTML><p>cv</p>",
    "<HTML><body>cv</body></HTML>".encode("utf-16"),
    b"\n\t<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b"<?xml version='1.0'?><x/>",
    b"<Script>alert(1)</script>",
]


@pytest.mark.parametrize("markup", MARKUP)
def test_html_named_pdf_is_a_mismatch(check, markup):
    assert check(markup, "cv.pdf", "application/pdf") == FileCheck(None, "mismatch")


@pytest.mark.parametrize("markup", MARKUP)
def test_markup_carrying_a_pdf_is_still_markup(check, markup):
    # A polyglot: a PDF reader finds "%PDF-" in the first 1024 bytes, a browser runs the script.
    polyglot = markup + b"<!--\n" + pdf_bytes() + b"\n-->"
    assert check(polyglot, "cv.pdf") == FileCheck(None, "mismatch")


def test_content_of_no_type_of_ours_named_as_nothing_of_ours_is_unknown(check):
    assert check(HTML, "page", None) == FileCheck(None, "unknown")
    assert check(b"hello", "notes.txt", "text/plain") == FileCheck(None, "unknown")
    assert check(zip_bytes([("a.txt", b"x")]), "archief.zip", "application/zip") == FileCheck(
        None, "unknown")
    assert check(b"GIF89a" + bytes(50), "foto.gif") == FileCheck(None, "unknown")


def test_the_empty_file_is_refused(check):
    assert check(b"", "cv.pdf", "application/pdf") == FileCheck(None, "empty")
    assert check(b"", "scan") == FileCheck(None, "empty")


# Broken files.

def test_a_truncated_pdf_is_unreadable(check):
    document = pdf_bytes()
    assert check(document[: len(document) // 2], "cv.pdf") == FileCheck(None, "unreadable")
    assert check(document.replace(b"%%EOF", b""), "cv.pdf") == FileCheck(None, "unreadable")


def test_a_pdf_without_its_cross_reference_is_unreadable(check):
    document = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    assert check(document, "cv.pdf") == FileCheck(None, "unreadable")


def test_a_corrupt_zip_is_unreadable(check):
    assert check(b"PK\x03\x04" + b"\x00garbage" * 50, "cv.docx") == FileCheck(None, "unreadable")
    cut = docx_bytes()[:-40]  # the central directory's end is gone
    assert check(cut, "cv.docx") == FileCheck(None, "unreadable")


def test_a_png_without_its_header_chunk_is_unreadable(check):
    assert check(b"\x89PNG\r\n\x1a\n" + bytes(40), "foto.png") == FileCheck(None, "unreadable")


def test_a_jpeg_start_without_a_segment_is_unreadable(check):
    assert check(b"\xff\xd8\xff\xd9" + bytes(40), "foto.jpg") == FileCheck(None, "unreadable")


def test_a_compound_file_without_its_directory_is_unreadable(check):
    assert check(ole_bytes()[:520], "cv.doc") == FileCheck(None, "unreadable")


# The name or the media type says another of our types.

def test_a_jpeg_named_png_is_a_mismatch(check):
    assert check(jpeg_bytes(), "foto.png", "image/png") == FileCheck("jpg", "mismatch")


def test_a_pdf_sent_as_image_jpeg_is_a_mismatch(check):
    assert check(pdf_bytes(), "cv.pdf", "image/jpeg") == FileCheck("pdf", "mismatch")
    assert check(pdf_bytes(), "scan", "image/jpeg") == FileCheck("pdf", "mismatch")


def test_a_docx_named_odt_is_a_mismatch(check):
    assert check(docx_bytes(), "cv.odt") == FileCheck("docx", "mismatch")
    assert check(odt_bytes(), "cv.docx") == FileCheck("odt", "mismatch")


def test_a_document_named_as_a_type_we_do_not_take_is_a_mismatch(check):
    assert check(pdf_bytes(), "cv.txt") == FileCheck("pdf", "mismatch")
    assert check(docx_bytes(), "cv.zip", "application/zip") == FileCheck("docx", "mismatch")


def test_a_name_whose_last_dot_is_no_extension_leaves_the_content_to_decide(check):
    assert check(pdf_bytes(), "CV Jan Peeters v2.1") == FileCheck("pdf")
    assert check(pdf_bytes(), "Dr.Peeterssen") == FileCheck("pdf")


def test_neutral_media_types_leave_the_name_and_content_to_decide(check):
    assert check(docx_bytes(), "cv.docx", "application/zip") == FileCheck("docx")
    assert check(odt_bytes(), "cv.odt", "application/octet-stream") == FileCheck("odt")


def test_an_archive_of_thousands_of_members_is_not_unpacked(check):
    many = zip_bytes([(f"{number}.xml", b"") for number in range(6000)])
    assert check(many, "cv.docx") == FileCheck(None, "unreadable")
