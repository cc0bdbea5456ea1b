"""Read the deployment files as a container runtime would: the Dockerfile's command, its ENV,
a compose service's environment with `${VAR}` interpolated, and the Prometheus exposition.

No container daemon runs where the tests run, so the tests take the container's entry command
and environment from these files and run them here (paths inside the image mapped onto the
checkout and a temporary folder).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"


@dataclass(frozen=True)
class Image:
    command: list[str]  # ENTRYPOINT + CMD, exec form
    env: dict[str, str]
    workdir: str
    instructions: list[tuple[str, str]]

    def all(self, name: str) -> list[str]:
        return [args for instruction, args in self.instructions if instruction == name]


def dockerfile(path: Path = DOCKERFILE) -> Image:
    """The instructions (continuations joined, comments dropped), the command and the ENV."""
    logical, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not pending and line.strip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        if (pending + line).strip():
            logical.append(pending + line)
        pending = ""
    instructions = []
    for line in logical:
        instruction, _, args = line.strip().partition(" ")
        instructions.append((instruction.upper(), args.strip()))
    env: dict[str, str] = {}
    command: dict[str, list[str]] = {"ENTRYPOINT": [], "CMD": []}
    workdir = "/"
    for instruction, args in instructions:
        if instruction == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(args))  # type: ignore[misc]
        elif instruction in command:
            form = json.loads(args)  # exec form only: a shell form would not get SIGTERM
            assert isinstance(form, list), f"{instruction} must be in exec form"
            command[instruction] = form
        elif instruction == "WORKDIR":
            workdir = args
    return Image(command["ENTRYPOINT"] + command["CMD"], env, workdir, instructions)


def compose(path: Path = COMPOSE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workers(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile: the bot workers."""
    return {name: service for name, service in spec["services"].items() if "build" in service}


_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:\?|:-)(?P<arg>[^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`."""
    def one(match: re.Match[str]) -> str:
        given = variables.get(match["name"], "")
        if given:
            return given
        if match["op"] == ":?":
            raise KeyError(f"{match['name']}: {match['arg']}")
        return match["arg"] or ""

    return _VARIABLE.sub(one, value)


def service_env(service: dict[str, Any], variables: dict[str, str]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: interpolate(str(value), variables) for key, value in environment.items()}


# ---------------------------------------------------------------------------- /metrics

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
_SAMPLE = re.compile(rf"^(?P<name>{_NAME})(?:\{{(?P<labels>{_LABEL}(?:,{_LABEL})*)\}})? "
                     r"(?P<value>-?(?:\d+(?:\.\d*)?(?:e[+-]?\d+)?|\+Inf|NaN))$")


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples by (name, labels); AssertionError when a line is not in the text format or a
    sample has no # TYPE before it."""
    assert text.endswith("\n"), "the exposition ends with a line feed"
    typed: dict[str, str] = {}
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge"), line
            assert name not in typed, f"{name} typed twice"
            typed[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        match = _SAMPLE.match(line)
        assert match is not None, f"not a sample line: {line!r}"
        name = match["name"]
        assert name in typed, f"{name} has no # TYPE"
        assert typed[name] != "counter" or name.endswith("_total"), name
        labels = frozenset(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', match["labels"] or ""))
        key = (name, labels)
        assert key not in samples, f"{line!r} repeated"
        samples[key] = float(match["value"])
    return samples


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
           **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]
