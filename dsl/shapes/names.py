"""Layer names: the automatic ones (as Keras would give them, but decided by the file alone) and
the checks on every name (unique, not the input's, characters TensorFlow takes)."""

from __future__ import annotations

import json

from ..errors import Diagnostic

__all__ = ["Names", "check_names"]


class Names:
    """Keras's automatic layer names: the snake-case class name, then `_1`, `_2`, ... per name."""

    def __init__(self, taken=()):
        self.counts: dict[str, int] = {}
        self.taken = set(taken)  # names of layers taken from a base: automatic names skip them

    def _auto(self, kind: str) -> str:
        while True:
            n = self.counts.get(kind, 0)
            self.counts[kind] = n + 1
            name = kind if n == 0 else f"{kind}_{n}"
            if name not in self.taken:
                return name

    def take(self, layer) -> str:
        self._wrapped(layer)
        return layer.name if layer.name is not None else self._auto(layer.kind)

    def _wrapped(self, layer) -> None:
        """Keras names a wrapped layer (`bidirectional`'s, `time_distributed`'s) before its wrapper,
        the innermost first, using up their automatic names."""
        inner = getattr(layer, "layer", None)
        if inner is not None:
            self._wrapped(inner)
            if inner.name is None:
                self._auto(inner.kind)


# What TensorFlow accepts in a layer's name (its name scopes: `[A-Za-z0-9_.\\/>-]`), less what
# Keras refuses (`/`) and what fails when the graph is built (`\\`).
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.->")


def check_names(rows: list, inputs: tuple, span_of, problems: list) -> None:
    """Layer names are how layers are referred to (`freeze`, `unfreeze`, Keras): one layer each, none
    an input's (`input`, `text`, or the names of several `inputs`), and only characters TensorFlow takes, so that the built model
    has exactly the names `show` gives."""
    for row in rows:
        if row.base is not None:
            continue  # named by Keras when the base was saved
        where = span_of(row.path + ("name",))
        bad = [c for c in row.name if c not in _NAME_CHARACTERS]
        if not row.name:
            problems.append(Diagnostic("empty layer name", where,
                                       help="give a name such as `\"hidden\"`, or leave `name` out for an automatic one", code="N216"))
        elif bad:
            shown = json.dumps(bad[0], ensure_ascii=False)[1:-1]
            problems.append(Diagnostic(
                f"layer name {json.dumps(row.name, ensure_ascii=False)} holds `{shown}`, which TensorFlow refuses in names",
                where, help="a layer name may hold ASCII letters, digits, `_`, `.`, `-` and `>`, e.g. `\"conv_1\"`", code="N216",
            ))
        elif row.name in inputs:
            input_name = row.name
            problems.append(Diagnostic(
                f"a layer named `{input_name}`, the name of the net's input", where,
                help=f"the input layer is named `{input_name}`: choose another name", code="N216",
            ))
    first: dict = {}
    for row in rows:
        if row.name not in first:
            first[row.name] = row
            continue
        where = row.span if row.base is not None else span_of(row.path + ("name",))
        earlier = first[row.name]
        origin = f" (from `{earlier.base}`)" if earlier.base else ""
        line = f" on line {earlier.span.line}{origin}" if earlier.span is not None else origin
        problems.append(Diagnostic(
            f"a second layer named `{row.name}`", where,
            help=f"the first is{line}; layer names must be unique in a file: rename one", code="N217",
        ))
