#!/usr/bin/env python
"""Write docs/language.md from the specs (netdsl.dsl.reference.render).

    python scripts/gen_language_doc.py            # regenerate docs/language.md
    python scripts/gen_language_doc.py --check    # exit 1 if docs/language.md is not current
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netdsl.dsl.files import write_text
from netdsl.dsl.reference import render

DOC = Path(__file__).resolve().parent.parent / "docs" / "language.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/language.md is current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else None
        if current != text:
            what = "is missing" if current is None else "is out of date"
            print(f"{DOC} {what}; run `python scripts/gen_language_doc.py` to regenerate it.", file=sys.stderr)
            return 1
        print(f"{DOC} is current.")
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    write_text(DOC, text)  # atomically: an interrupted run leaves the old page whole
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
