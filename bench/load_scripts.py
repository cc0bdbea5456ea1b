"""The answer scripts of a load run: each vacancy's scripted full application
(`conversations/<vacancy>-happy-path.yaml`), as steps a simulated candidate replays, and the
frozen moment each vacancy is applied to (the script's `now`, while the vacancy is open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.simulation import _generated, load_script  # the script format and its sample files

ROOT = Path(__file__).resolve().parents[1]
CONVERSATIONS = ROOT / "conversations"
CONSENT = "Akkoord"


@dataclass(frozen=True)
class Step:
    kind: str  # start | consent | text | button | upload | command
    text: str | None = None  # typed text, or the label of the button to press
    file_name: str | None = None
    data: bytes = b""
    mime: str | None = None
    declared_size: int | None = None
    photo: bool = False


@dataclass(frozen=True)
class Application:
    vacancy: str
    now: datetime
    language: str
    steps: tuple[Step, ...]

    def answer_positions(self) -> list[int]:
        """The indexes of the question answers, in order: what is typed or pressed after the
        consent and before the first upload or command (the questions come first)."""
        consented = next(i for i, s in enumerate(self.steps) if s.kind == "consent")
        positions = []
        for i, step in enumerate(self.steps[consented + 1:], start=consented + 1):
            if step.kind not in ("text", "button"):
                break
            positions.append(i)
        return positions


def _step(raw: object, tmp: Path) -> Step:
    step = raw  # a bot.simulation.Step
    if step.send is not None:  # type: ignore[attr-defined]
        text = step.send  # type: ignore[attr-defined]
        if text.startswith("/start"):
            return Step("start", text)
        return Step("command" if text.startswith("/") else "text", text)
    if step.press is not None:  # type: ignore[attr-defined]
        label = step.press  # type: ignore[attr-defined]
        return Step("consent" if label == CONSENT else "button", label)
    spec = step.upload or step.photo  # type: ignore[attr-defined]
    name, data, mime, declared = _generated(spec, tmp)
    return Step("upload", file_name=name, data=data, mime=mime, declared_size=declared,
                photo=step.photo is not None)  # type: ignore[attr-defined]


def applications(folder: Path = CONVERSATIONS) -> list[Application]:
    """One full application per vacancy that has a happy-path script, sorted by vacancy."""
    found = []
    for path in sorted(folder.glob("*-happy-path.yaml")):
        script = load_script(path)
        actions = [s for s in script.steps if s.action is not None]
        if any(s.now is not None or s.action not in ("send", "press", "upload", "photo")
               for s in script.steps):
            raise ValueError(f"{path.name}: a load script only sends, presses and uploads")
        first = actions[0].send or ""
        vacancy = first.split()[1]
        actor = next(iter(script.actors.values()))
        found.append(Application(vacancy, script.now, actor.language,
                                 tuple(_step(s, path.parent) for s in actions)))
    return found
