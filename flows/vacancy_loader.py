"""Load a folder of vacancy YAML files, or report every mistake precisely.

A message names the file, the field path, what is wrong and what is allowed, so whoever writes
a vacancy can fix it without reading our code.

Parsing and validating a file costs tens of milliseconds; at start-up (`cache` given) each valid
file's model is kept as a pickle named by the hash of the file's bytes and of the code that
validates it, so a restart validates only what changed. A changed file has another hash: the
cache never serves a stale vacancy. `main.py validate` uses no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel, ValidationError

from flows import vacancy as vacancy_module
from flows.vacancy import Vacancy

CACHE_FORMAT = 1


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class CatalogueError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes (or plain types) an annotation may hold, looking through containers."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return [t for arg in args for t in _unwrap(arg)]
    return [annotation]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class a pydantic error location points into (for 'allowed keys')."""
    current: list[Any] = [Vacancy]
    for part in loc:
        if isinstance(part, int):
            continue
        models = [m for m in current if isinstance(m, type) and issubclass(m, BaseModel)]
        # A discriminated union puts the tag value in the location: pick that member.
        tagged = [m for m in models if _type_tag(m) == part]
        if tagged:
            current = tagged
            continue
        nxt: list[Any] = []
        for m in models:
            for name, f in m.model_fields.items():
                if part in (name, f.alias):
                    nxt += _unwrap(f.annotation)
        if not nxt:
            return None
        current = nxt
    models = [m for m in current if isinstance(m, type) and issubclass(m, BaseModel)]
    return models[0] if len(models) == 1 else None


def _type_tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("type")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _path(loc: tuple[Any, ...]) -> str:
    # Drop discriminator tags (e.g. 'diploma') that pydantic inserts after a list index.
    parts: list[str] = []
    for i, part in enumerate(loc):
        if i > 0 and isinstance(loc[i - 1], int) and isinstance(part, str):
            if any(_type_tag(m) == part for m in _all_rule_models()):
                continue
        parts.append(str(part))
    return ".".join(parts)


def _all_rule_models() -> list[type[BaseModel]]:
    field = Vacancy.model_fields["requirements"]
    return [m for m in _unwrap(field.annotation) if isinstance(m, type)]


def _explain(err: dict[str, Any]) -> list[Problem]:
    loc = tuple(err["loc"])
    kind = err["type"]
    msg = err["msg"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return [Problem("", _path(loc), f"unknown key {loc[-1]!r}{hint}")]
    if kind == "missing":
        return [Problem("", _path(loc), "required key is missing")]
    if kind == "union_tag_invalid":
        tags = sorted(filter(None, (_type_tag(m) for m in _all_rule_models())))
        given = err.get("input", {}).get("type") if isinstance(err.get("input"), dict) else None
        return [Problem("", _path(loc), f"unknown rule type {given!r}; allowed: {', '.join(tags)}")]
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        # Cross-field checks report several problems, each starting with its own path.
        problems = []
        for part in text.split("\n"):
            head, sep, rest = part.partition(": ")
            if sep and " " not in head and head[:1].isalpha():
                sub = f"{_path(loc)}.{head}" if loc else head
                problems.append(Problem("", sub, rest))
            else:
                problems.append(Problem("", _path(loc), part))
        return problems
    given = err.get("input")
    shown = f" (got {given!r})" if given is not None and not isinstance(given, dict | list) else ""
    return [Problem("", _path(loc), f"{msg}{shown}")]


def load_file(path: Path) -> Vacancy:
    """One vacancy file, or CatalogueError with every problem in it."""
    return _compile(path, path.read_bytes())


def _compile(path: Path, content: bytes) -> Vacancy:
    import yaml  # a cached catalogue needs no YAML parser

    name = str(path)
    try:
        data = yaml.safe_load(content.decode("utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogueError([Problem(name, where, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise CatalogueError([Problem(name, "", "a vacancy file must be a YAML mapping")])
    try:
        country = data.get("country")
        return Vacancy.model_validate(data, context={"country": country})
    except ValidationError as exc:
        problems = [
            Problem(name, p.path, p.message) for err in exc.errors() for p in _explain(err)
        ]
        raise CatalogueError(problems) from None


def _code_hash() -> bytes:
    """What a cached model depends on besides the file: the code that parsed and validated
    it (this module, flows/vacancy.py, pydantic and PyYAML, Python)."""
    import yaml

    code = Path(vacancy_module.__file__ or "").read_bytes() + Path(__file__).read_bytes()
    return hashlib.sha256(b"%d|%s|%s|%s|" % (CACHE_FORMAT, pydantic.VERSION.encode(),
                                              yaml.__version__.encode(),
                                              sys.version.encode()) + code).digest()


def _cache_key(content: bytes, code: bytes) -> str:
    return hashlib.sha256(code + content).hexdigest()


def _cached(path: Path, content: bytes, cache: Path, code: bytes) -> Vacancy:
    """The file's model from the cache, else compiled and stored there (only when valid)."""
    entry = cache / f"{_cache_key(content, code)}.pickle"
    try:
        found = pickle.loads(entry.read_bytes())
    except Exception:  # none yet, or a torn or foreign file: compile again
        found = None
    if isinstance(found, Vacancy):
        return found
    vacancy = _compile(path, content)
    with contextlib.suppress(OSError):
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written aside (a name of its own: containers sharing the folder all run as pid 1)
        # and renamed, so a reader never sees half a pickle.
        handle, partial = tempfile.mkstemp(dir=cache, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(pickle.dumps(vacancy, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(partial, entry)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
    return vacancy


def load_catalogue(folder: Path, cache: Path | None = None) -> dict[str, Vacancy]:
    """Every `*.yaml`/`*.yml` in `folder`, keyed by id; all problems of all files at once.

    `cache`: a folder where validated models are kept between runs (see the module's doc)."""
    if not folder.is_dir():
        raise CatalogueError([Problem(str(folder), "", "no such folder of vacancy files")])
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        raise CatalogueError([Problem(str(folder), "", "no vacancy files (*.yaml) in this folder")])
    problems: list[Problem] = []
    vacancies: dict[str, Vacancy] = {}
    first_file: dict[str, Path] = {}
    code = _code_hash() if cache is not None else b""
    for path in files:
        try:
            content = path.read_bytes()
            vacancy = (_cached(path, content, cache, code) if cache is not None
                       else _compile(path, content))
        except CatalogueError as exc:
            problems += exc.problems
            continue
        if vacancy.id in vacancies:
            problems.append(Problem(str(path), "id",
                                    f"duplicate id {vacancy.id!r}: already used by "
                                    f"{first_file[vacancy.id]}"))
            continue
        vacancies[vacancy.id] = vacancy
        first_file[vacancy.id] = path
    if problems:
        raise CatalogueError(problems)
    if cache is not None:
        _forget_others(cache, {_cache_key(p.read_bytes(), code) for p in first_file.values()})
    return vacancies


def _forget_others(cache: Path, used: set[str]) -> None:
    """Drop entries of files that changed or went: the cache holds the catalogue, no history."""
    for entry in cache.glob("*.pickle"):
        if entry.stem not in used:
            with contextlib.suppress(OSError):
                entry.unlink()
