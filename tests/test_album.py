"""The photos of one album (front and back of a diploma) belong to one document."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot import sample_files
from flows.engine import Engine
from flows.events import Inbound, Sender, Upload
from tests.conversation import shipped_vacancies
from tests.memory_store import MemoryFileStore, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)


def _at_the_documents(tmp_path: Path, foreign_diploma: bool) -> tuple[Engine, MemoryStore, Sender]:
    """A VERA candidate who answered everything and is asked for documents."""
    store = MemoryStore()
    engine = Engine(shipped_vacancies(), store, MemoryFileStore(tmp_path / "f"),
                    lambda: NOW)
    me = Sender("telegram", "5")
    privacy = engine.handle(me, Inbound.start("vera-projectcoordinator"))[-1]
    engine.handle(me, Inbound.press(privacy.choices[0].token))
    # A foreign diploma: "ja", and "ja" again — the equivalence statement is already there.
    foreign = ("ja", "ja") if foreign_diploma else ("nee",)
    for text in ("Lena Peeters", "lena@example.be", "Master", *foreign, "ja"):
        engine.handle(me, Inbound.say(text))
    return engine, store, me


def test_album_pages_go_to_one_document_and_a_later_photo_replaces_nothing_else(tmp_path):
    engine, store, me = _at_the_documents(tmp_path, foreign_diploma=True)
    jpg = tmp_path / "page.jpg"
    jpg.write_bytes(b"\xff\xd8\xff\xe0 jpeg")

    def photo(group: str | None) -> list:
        return engine.handle(me, Inbound.send_file(
            Upload("foto.jpg", "image/jpeg", 10, jpg, group=group)))

    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(sample_files.pdf())
    for _ in range(2):  # cv and motivation letter
        engine.handle(me, Inbound.send_file(Upload("x.pdf", "application/pdf", 9, pdf)))
    photo("album-1")  # the diploma, front
    replies = photo("album-1")  # the diploma, back: same album, same document
    kinds = sorted(d.kind for d in store.data.documents.values())
    assert kinds == ["cv", "diploma_copy", "diploma_copy", "motivation"]
    assert "gelijkwaardigheidsattest" in replies[-1].text()  # still asked for: not misfiled
    photo(None)  # then the equivalence statement, on its own
    kinds = sorted(d.kind for d in store.data.documents.values())
    assert kinds == ["cv", "diploma_copy", "diploma_copy", "equivalence_statement", "motivation"]
    assert next(iter(store.data.dossiers.values())).status == "submitted"


def test_an_album_that_completes_the_dossier_keeps_all_its_pages(tmp_path):
    engine, store, me = _at_the_documents(tmp_path, foreign_diploma=False)
    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(sample_files.pdf())
    for _ in range(2):
        engine.handle(me, Inbound.send_file(Upload("x.pdf", "application/pdf", 9, pdf)))
    jpg = tmp_path / "page.jpg"
    jpg.write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    page = Upload("foto.jpg", "image/jpeg", 10, jpg, group="album-9")
    first = engine.handle(me, Inbound.send_file(page))
    assert "doorgestuurd" in first[-1].text()
    assert engine.check_upload(me, page) == []  # the back page is still welcome...
    second = engine.handle(me, Inbound.send_file(page))
    assert "Ontvangen: kopie van je diploma" in second[-1].text()  # ...and kept with the front
    kinds = sorted(d.kind for d in store.data.documents.values())
    assert kinds == ["cv", "diploma_copy", "diploma_copy", "motivation"]
    [outbox] = store.data.outbox
    assert outbox["not_before"] > NOW  # waits for the album's other pages
    other = Upload("foto.jpg", "image/jpeg", 10, jpg, group="album-10")
    assert "al volledig en doorgestuurd" in engine.check_upload(me, other)[0].text()  # anything else is not
