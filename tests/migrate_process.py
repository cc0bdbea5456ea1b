"""Helper process for tests/test_database_bounds.py: `migrate(make_engine(url))` on request.

Prints "ready" once imported, then for each database URL read from stdin migrates it and
prints "ok" or "error <type>: <first line>". It stays alive between rounds so two racing
processes pay for their imports once and can be released together (one stdin write each).
"""

from __future__ import annotations

import sys

from storage.database import make_engine, migrate


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        try:
            engine = make_engine(line.strip())
            try:
                migrate(engine)
            finally:
                engine.dispose()
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            print(f"error {type(error).__name__}: {first}", flush=True)
        else:
            print("ok", flush=True)


if __name__ == "__main__":
    main()
