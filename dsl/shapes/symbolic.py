"""A tiny symbolic integer: dimensions and weight counts that depend on data-bound names not yet
bound (`n_features`, `n_classes`, ...) are `Sym` polynomials, plain ints once they are known."""

from __future__ import annotations

__all__ = ["Sym", "UNKNOWN", "known", "prod", "as_json"]


class Sym:
    """An integer polynomial over names (`64*n_features + 64`), for dimensions and weight counts
    that depend on data-bound names not yet bound.

    `+`, `-` and `*` are exact. Division by an integer is exact where every coefficient divides;
    otherwise (and for anything else, such as dividing by a symbol) the result is an opaque symbol
    named by its expression, e.g. `(n_features - 3) // 2`. Results that are constant are plain ints.
    """

    __slots__ = ("terms",)

    def __init__(self, name: str | None = None, *, terms: dict | None = None):
        # monomial (sorted tuple of names, repeated for powers) -> non-zero integer coefficient
        self.terms: dict[tuple[str, ...], int] = {(name,): 1} if terms is None else terms

    # -- construction ---------------------------------------------------------------------

    @staticmethod
    def _make(terms: dict):
        terms = {m: c for m, c in terms.items() if c != 0}
        if not terms:
            return 0
        if set(terms) == {()}:
            return terms[()]
        return Sym(terms=terms)

    @staticmethod
    def _terms(value) -> dict | None:
        if isinstance(value, _Unknown):
            return None
        if isinstance(value, Sym):
            return value.terms
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return {(): value} if value else {}
        return None  # not an integer: the result becomes opaque

    @staticmethod
    def _opaque(left, op: str, right) -> "Sym":
        if isinstance(left, _Unknown) or isinstance(right, _Unknown):
            return UNKNOWN
        return Sym(f"{_paren(left)} {op} {_paren(right)}")

    # -- arithmetic -----------------------------------------------------------------------

    def __add__(self, other):
        terms = Sym._terms(other)
        if terms is None:
            return Sym._opaque(self, "+", other)
        out = dict(self.terms)
        for m, c in terms.items():
            out[m] = out.get(m, 0) + c
        return Sym._make(out)

    __radd__ = __add__

    def __neg__(self):
        return Sym._make({m: -c for m, c in self.terms.items()})

    def __sub__(self, other):
        if Sym._terms(other) is None:
            return Sym._opaque(self, "-", other)
        return self + (-other)

    def __rsub__(self, other):
        if Sym._terms(other) is None:
            return Sym._opaque(other, "-", self)
        return (-self) + other

    def __mul__(self, other):
        terms = Sym._terms(other)
        if terms is None:
            return Sym._opaque(self, "*", other)
        out: dict = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in terms.items():
                m = tuple(sorted(m1 + m2))
                out[m] = out.get(m, 0) + c1 * c2
        return Sym._make(out)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and other != 0:
            if all(c % other == 0 for c in self.terms.values()):
                return Sym._make({m: c // other for m, c in self.terms.items()})
        return Sym._opaque(self, "/", other)

    def __rtruediv__(self, other):
        return Sym._opaque(other, "/", self)

    def __floordiv__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and other != 0:
            # (P + c) // d == P/d + c // d whenever d divides every coefficient of P.
            if all(c % other == 0 for m, c in self.terms.items() if m):
                out = {m: c // other for m, c in self.terms.items() if m}
                out[()] = self.terms.get((), 0) // other
                return Sym._make(out)
        return Sym._opaque(self, "//", other)

    def __rfloordiv__(self, other):
        return Sym._opaque(other, "//", self)

    # -- comparison and text --------------------------------------------------------------

    def __eq__(self, other):
        return isinstance(other, Sym) and self.terms == other.terms

    def __hash__(self):
        return hash(frozenset(self.terms.items()))

    def __str__(self) -> str:
        order = sorted(self.terms, key=lambda m: (-len(m), m))
        text = ""
        for i, m in enumerate(order):
            c = self.terms[m]
            factors = [f"({a})" if " " in a and (len(m) > 1 or abs(c) != 1) else a for a in m]
            body = "*".join(factors) if m else str(abs(c))
            if m and abs(c) != 1:
                body = f"{abs(c)}*{body}"
            if i == 0:
                text = ("-" if c < 0 else "") + body
            else:
                text += (" - " if c < 0 else " + ") + body
        return text

    def __repr__(self) -> str:
        return f"Sym({str(self)!r})"

    def subs(self, values: dict):
        """The polynomial with some names given values (an int once all are). Opaque symbols are
        substituted only as a whole (`subs({"n_features // 2": 32})`)."""
        out = 0
        for monomial, coefficient in self.terms.items():
            term = coefficient
            for name in monomial:
                term = term * values.get(name, Sym(name))
            out = out + term
        return out


class _Unknown(Sym):
    """A size known only when the data comes, batch by batch (`none` in `input (none, 7)`: sequences
    of any length): whatever is computed from it is unknown too, and it is written `none`."""

    def __init__(self):
        super().__init__(terms={("none",): 1})

    def _same(self, *_):
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __neg__ = _same

    def __eq__(self, other):
        return isinstance(other, _Unknown)

    def __hash__(self):
        return hash("none")

    def __str__(self) -> str:
        return "none"

    def subs(self, values: dict):
        return self


UNKNOWN = _Unknown()


def _paren(value) -> str:
    text = str(value)
    return f"({text})" if " " in text or text.startswith("-") else text


def known(*values) -> bool:
    """Whether all values are plain integers (so they can be compared)."""
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def prod(values):
    """The product of `values` (ints or `Sym`), 1 for none."""
    out = 1
    for v in values:
        out = out * v
    return out


def as_json(value):
    """A dimension, count or shape as plain JSON data: `Sym` as its text, tuples as lists."""
    if isinstance(value, Sym):
        return str(value)
    if isinstance(value, tuple):
        return [as_json(v) for v in value]
    return value
