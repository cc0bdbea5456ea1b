"""Small but structurally valid files for simulated conversations and tests.

Uploads are judged by their bytes (`storage/file_inspection.py`), so a simulated candidate
must send real PDFs, images and Word files — tiny ones, made here without any dependency.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def pdf(note: str = "") -> bytes:
    """A one-page PDF with a correct cross-reference table; `note` makes files differ."""
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                 b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"], note)


def _pdf(objects: list[bytes], note: str = "") -> bytes:
    """`objects` (numbered from 1, the catalogue first) as a PDF file with its xref table."""
    out = bytearray(b"%PDF-1.4\n")
    if note:
        out += b"% " + note.encode("ascii", "replace") + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def text_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF showing `lines` (Latin-1) in Helvetica: a readable sample document."""
    def escaped(line: str) -> bytes:
        return line.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(") \
            .replace(b")", b"\\)")
    body = [b"BT /F1 22 Tf 60 770 Td 28 TL"]
    for i, line in enumerate(lines):
        if i == 1:
            body.append(b"/F1 12 Tf 18 TL")
        body.append(b"(" + escaped(line) + b") Tj T*")
    return page_pdf(b"\n".join([*body, b"ET"]), b"/Font << /F1 5 0 R >>",
                    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                    b"/Encoding /WinAnsiEncoding >>")


def page_pdf(content: bytes, resources: bytes, resource: bytes) -> bytes:
    """A one-page A4 PDF drawing `content` with one resource (object 5), which `resources`
    names ("/Font << /F1 5 0 R >>", "/XObject << /Im0 5 0 R >>")."""
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                 b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                 b"/Resources << " + resources + b" >> /Contents 4 0 R >>",
                 b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
                 resource])


def jpeg(note: str = "") -> bytes:
    """A JPEG's markers around arbitrary bytes: enough for a signature and structure check."""
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            + note.encode() + bytes(range(256)) + b"\xff\xd9")


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0,
                                                              0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def docx(text: str = "Motivatie") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"/>')
        archive.writestr("word/document.xml",
                         '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                         f'.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}'
                         '</w:t></w:r></w:p></w:body></w:document>')
    return buffer.getvalue()


def odt(text: str = "Motivatie") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", f"<office:document-content>{text}"
                                        "</office:document-content>")
    return buffer.getvalue()
