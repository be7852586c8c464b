#!/usr/bin/env python
"""Write the generated pages of docs/: language.md (from the specs, netdsl.dsl.reference) and
diagnostics.md (from the catalogue of codes, netdsl.dsl.codes).

    python scripts/gen_docs.py            # regenerate both pages
    python scripts/gen_docs.py --check    # exit 1 if a page is not current
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netdsl.dsl.codes.doc import markdown
from netdsl.dsl.files import write_text
from netdsl.dsl.reference import render

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = {DOCS / "language.md": render, DOCS / "diagnostics.md": markdown}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the pages are current")
    args = parser.parse_args(argv)
    stale = 0
    for page, make in PAGES.items():
        text = make()
        current = page.read_text(encoding="utf-8") if page.exists() else None
        if args.check:
            if current != text:
                stale += 1
                what = "is missing" if current is None else "is out of date"
                print(f"{page} {what}; run `python scripts/gen_docs.py` to regenerate it.", file=sys.stderr)
            else:
                print(f"{page} is current.")
        elif current != text:
            page.parent.mkdir(parents=True, exist_ok=True)
            write_text(page, text)  # atomically: an interrupted run leaves the old page whole
            print(f"wrote {page}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
