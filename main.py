"""The command line: run | chat | validate (simulate, export and purge come with later work)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flows.vacancy_loader import CatalogueError, load_catalogue
from settings import Settings


def cmd_validate(settings: Settings, args: argparse.Namespace) -> int:
    folder = Path(args.folder) if args.folder else settings.vacancies_dir
    try:
        vacancies = load_catalogue(folder)
    except CatalogueError as exc:
        print(f"The vacancy catalogue in {folder} is not valid:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{len(vacancies)} vacancies valid in {folder}:")
    for vacancy in vacancies.values():
        closes = vacancy.closes_at()
        when = closes.isoformat() if closes else "open until filled"
        print(f"  {vacancy.id:48} {vacancy.country}  closes {when}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="check a folder of vacancy files")
    validate.add_argument("folder", nargs="?", help="default: VACANCIES_DIR")
    sub.add_parser("run", help="run the bot (terminal chat when no Telegram token is set)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    if args.command == "validate":
        return cmd_validate(settings, args)
    if args.command == "run":
        return cmd_validate(settings, argparse.Namespace(folder=None))
    return 2


if __name__ == "__main__":
    sys.exit(main())
