"""The base of every spec (`Node`) and the union of specs told apart by `kind` (`ByKind`).

`dsl/layer_specs.py`, `dsl/train_specs.py` and `dsl/specs.py` define the specs on these; this
module holds what they share.
"""

import threading
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo
from pydantic_core import core_schema


class Node(BaseModel):
    """Base of every spec: frozen, no unknown fields, equality ignores source positions.

    Validators are built on first use (`defer_build`), so a program builds only the specs of the
    kinds it uses (see `ByKind`), not all of them at import."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.model_dump() == other.model_dump()

    def __hash__(self) -> int:
        return hash(repr(self.model_dump()))

    def __setstate__(self, state) -> None:
        # Unpickled in another process (the workers of a parallel search), a spec's class may not be
        # built yet: build it first, as validation would (its serializer is needed by `model_dump`).
        cls = type(self)
        if not cls.__pydantic_complete__:
            with _BUILDING:
                cls.model_rebuild()
        super().__setstate__(state)


class ByKind:
    """Annotated marker for a union of specs told apart by `kind`: pydantic's discriminated union
    (the same errors and `loc`s, the tag included), but each member is validated by calling its own
    `model_validate`, so a kind's validator is built the first time that kind is met. (A JSON
    schema of such a union lists no members: pydantic cannot describe a validator function.)"""

    def __get_pydantic_core_schema__(self, source, handler):
        choices = {
            cls.model_fields["kind"].default: core_schema.no_info_plain_validator_function(_validate_with(cls))
            for cls in typing.get_args(source)
        }
        return core_schema.tagged_union_schema(choices, discriminator="kind", strict=False, from_attributes=True)


_BUILDING = threading.RLock()


def _validate_with(cls):
    """`cls.model_validate`, its validator built first under a lock: pydantic's deferred build is not
    thread-safe, and programs may be loaded from several threads at once."""

    def validate(value):
        if not cls.__pydantic_complete__:
            with _BUILDING:
                cls.model_rebuild()  # does nothing if another thread built it meanwhile
        return cls.model_validate(value)

    validate.__name__ = validate.__qualname__ = cls.__name__
    return validate


def described(text: str, default: Any = ..., **kwargs):
    """A field with its documentation (`docs/language.md` shows it) and its default (none: required).

    `FieldInfo.from_field` makes what `Field(...)` makes, without the thirty-odd unset arguments
    `Field` passes on and `FieldInfo` then sorts out again: the specs make ~150 of these at import,
    so this is part of every start-up (benchmarks/README.md)."""
    return FieldInfo.from_field(default, description=text, **kwargs)


def call_or_bare(value):
    """A bare name where a call is expected means the call with no arguments (`adam` = `adam()`)."""
    return {"kind": value} if isinstance(value, str) else value
