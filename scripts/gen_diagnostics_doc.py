#!/usr/bin/env python
"""Write docs/diagnostics.md from the catalogue of diagnostic codes (netdsl.dsl.codes).

    python scripts/gen_diagnostics_doc.py            # regenerate docs/diagnostics.md
    python scripts/gen_diagnostics_doc.py --check    # exit 1 if docs/diagnostics.md is not current
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netdsl.dsl.codes.doc import markdown
from netdsl.dsl.files import write_text

DOC = Path(__file__).resolve().parent.parent / "docs" / "diagnostics.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/diagnostics.md is current")
    args = parser.parse_args(argv)
    text = markdown()
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else None
        if current != text:
            what = "is missing" if current is None else "is out of date"
            print(f"{DOC} {what}; run `python scripts/gen_diagnostics_doc.py` to regenerate it.", file=sys.stderr)
            return 1
        print(f"{DOC} is current.")
        return 0
    write_text(DOC, text)  # atomically: an interrupted run leaves the old page whole
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
