"""An estimator's parameters: its own settings and the `.net` program's `param`s, checked.

Parameters, in order of precedence: an estimator parameter (not None) > the `.net` file (its
`train` block and `param` defaults) > the built-in default. Every `param` of the file is an
estimator parameter under its own name (`get_params()` lists it with its current value), so
`GridSearchCV(est, {"filters": [8, 16]})` works with plain keys.

`read_program(net)` is how an estimator reads its `net`: a path or source text is read once and
parsed (the spec cached by its text, since `get_params` needs it often); a `Net` spec is used as it
is.
"""

from __future__ import annotations

import numpy as np

from netdsl.dsl import NetError, compat, dumps, loads, read_source, specs
from netdsl.dsl.errors import ParameterError, did_you_mean
from netdsl.dsl.train_specs import loss_name
from netdsl.dsl.values import Expr

__all__ = ["DEFAULT_EPOCHS", "ParamsMixin", "read_program", "parse_net", "optimizer_spec"]

DEFAULT_EPOCHS = 10  # without a `train` block

_SPEC_CACHE: dict[tuple[str, str], specs.Net] = {}
_SOURCED: dict[int, tuple[specs.Net, specs.Net]] = {}  # id of a spec without source text -> (it, with text)
_CACHE_SIZE = 64


def read_program(net) -> tuple[specs.Net, str | None]:
    """(validated spec, source text) of `net`: a path to a `.net` file (read once here), its source
    text, or a `Net` spec (source text None: `dumps` writes it when wanted). A spec is used as it
    is, located errors pointing into the text it was loaded from; one built in code, which has no
    text, is written out and read back once (so that its errors can show lines), as `<spec>`."""
    if isinstance(net, specs.Net):
        return _with_source(net)
    try:
        text, filename = read_source(net)
    except TypeError as error:  # `net` of another type: the estimator's parameter
        raise ParameterError(str(error)) from error
    key = (text, filename)
    if key not in _SPEC_CACHE:
        if len(_SPEC_CACHE) > _CACHE_SIZE:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = loads(text, filename=filename)
    return _SPEC_CACHE[key], text


def _with_source(net: specs.Net) -> tuple[specs.Net, None]:
    if net.source.text:
        return net, None
    if id(net) not in _SOURCED or _SOURCED[id(net)][0] is not net:
        if len(_SOURCED) > _CACHE_SIZE:
            _SOURCED.clear()
        _SOURCED[id(net)] = (net, loads(dumps(net), filename="<spec>"))
    return _SOURCED[id(net)][1], None


def parse_net(net) -> specs.Net:
    """The validated spec of `net` (a path, source text or a `Net` spec)."""
    return read_program(net)[0]


_OPTIMIZERS: dict[str, specs.Node] = {}
_LOSSES: dict[str, object] = {}  # `loss` call text -> its spec, read once


def optimizer_spec(value):
    """An estimator's `optimizer`: a name (`"sgd"`) or `.net` call text (`"sgd(momentum=0.9)"`)."""
    if isinstance(value, specs.Node):
        return value
    if not isinstance(value, str):
        raise ParameterError(f"`optimizer` must be a name such as 'adam' or a call such as 'sgd(momentum=0.9)'; got {value!r}")
    return _read_setting("optimizer", value, _OPTIMIZERS)


def loss_spec(value):
    """An estimator's `loss`: a name (`"mse"`, checked by `_settings`) or `.net` call text
    (`"sparse_categorical_crossentropy(from_logits=true)"`), read as the `train` block reads it."""
    if not isinstance(value, str) or "(" not in value:
        return value
    return _read_setting("loss", value, _LOSSES)


def _read_setting(key: str, value: str, cache: dict):
    """The `train` setting `key` written as `value` (`.net` text), read as the `train` block reads
    it (its mistakes a `ParameterError` with the language's words), and kept in `cache`."""
    if value not in cache:
        try:
            net = loads(f"train {{\n    {key} = {value}\n}}\n", filename=f"<{key}>")
        except NetError as error:
            first = error.diagnostics[0]
            raise ParameterError(f"Invalid {key} {value!r}: {first.title}; {first.help}") from None
        if len(cache) > _CACHE_SIZE:
            cache.clear()
        cache[value] = getattr(net.train, key)
    return cache[value]


def _is_count(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


_CHECKS = {  # setting -> (check, what it must be)
    "epochs": (_is_count, "an int in the range [1, inf)"),
    "batch_size": (_is_count, "an int in the range [1, inf)"),
    "validation_split": (lambda v: isinstance(v, (int, float)) and 0 <= v < 1, "a float in the range [0, 1)"),
}


class ParamsMixin:
    """`get_params` / `set_params` over the estimator's settings and the file's `param`s, and the
    training settings a fit takes from them."""

    def _own_names(self) -> set[str]:
        return set(compat.param_names(type(self)))

    def _file_params_set(self) -> dict:
        """File parameters given to this estimator (constructor or set_params)."""
        own = self._own_names()
        return {k: v for k, v in vars(self).items() if k not in own and not k.startswith("_") and not k.endswith("_")}

    def _file_params(self) -> dict | None:
        """The file's `param`s and their defaults; None while `net` cannot be read (its error is
        reported at fit)."""
        try:
            return parse_net(self.net).param_defaults if self.net is not None else {}
        except (NetError, TypeError, ValueError):
            return None

    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        values = dict(self._file_params() or {})
        values.update(self._file_params_set())
        params.update(values)
        return params

    def set_params(self, **params):
        if "net" in params:
            self.net = params.pop("net")
        own = self._own_names()
        file_params = self._file_params()
        for key, value in params.items():
            if key in own or file_params is None or key in file_params:
                # While `net` cannot be read, names are checked at fit, where its error is reported.
                setattr(self, key, value)
            else:
                names = sorted(file_params)
                hint = did_you_mean(key, list(file_params) + list(own))
                raise ParameterError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                    + (f"{hint[0].upper()}{hint[1:]} " if hint else "")
                    + f"The .net file's parameters are: {', '.join(names) if names else 'none'}; "
                    f"the estimator's settings are: {', '.join(sorted(own))}."
                )
        return self

    def _program(self) -> tuple[specs.Net, str | None]:
        """`read_program(net)`, once for a fit, with every file parameter given to the estimator
        checked against the file's `param`s."""
        if self.net is None:
            raise ParameterError(f"{type(self).__name__} needs a .net program: pass a path or the source text as `net`")
        spec, text = read_program(self.net)
        unknown = set(self._file_params_set()) - set(spec.param_defaults)
        if unknown:
            names = sorted(spec.param_defaults)
            key = sorted(unknown)[0]
            hint = did_you_mean(key, names)
            raise ParameterError(
                f"Unknown parameter {key!r} for the .net file {spec.name!r}. "
                + (f"{hint[0].upper()}{hint[1:]} " if hint else "")
                + f"Its parameters are: {', '.join(names) if names else 'none'}."
            )
        return spec, text

    def _param_values(self, spec: specs.Net) -> dict:
        """The file's `param`s as this estimator sets them (what `get_params` lists for them),
        taken from `spec` without reading `net` again."""
        given = self._file_params_set()
        return {name: given.get(name, default) for name, default in spec.param_defaults.items()}

    def _settings(self, spec: specs.Net) -> dict:
        """Training settings: estimator parameter > `train` block > default."""
        train = spec.train or specs.Train()
        epochs = self.epochs if self.epochs is not None else (train.epochs if spec.train else DEFAULT_EPOCHS)
        batch_size = self.batch_size if self.batch_size is not None else train.batch_size
        validation_split = self.validation_split if self.validation_split is not None else train.validation_split
        optimizer = train.optimizer
        if self.optimizer is not None:
            optimizer = optimizer_spec(self.optimizer)
        for name, value in (("epochs", epochs), ("batch_size", batch_size), ("validation_split", validation_split)):
            if isinstance(value, Expr):
                continue  # a param's name in the file: checked once resolved
            check, words = _CHECKS[name]
            if not check(value):
                raise ParameterError(f"The '{name}' parameter of {type(self).__name__} must be {words}. Got {value!r} instead.")
        if self.learning_rate is not None and not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ParameterError(
                f"The 'learning_rate' parameter of {type(self).__name__} must be a float in the range (0, inf). "
                f"Got {self.learning_rate!r} instead."
            )
        loss = loss_spec(self.loss) if self.loss is not None else train.loss
        if loss is not None and loss_name(loss) not in specs.LOSSES:  # a name, or the file's call (`from_logits`)
            hint = did_you_mean(str(loss), specs.LOSSES)
            raise ParameterError(f"Unknown loss {loss!r}. " + (hint or "Expected one of: " + ", ".join(specs.LOSSES)))
        return {
            "epochs": epochs if isinstance(epochs, Expr) else int(epochs),
            "batch_size": batch_size if isinstance(batch_size, Expr) else int(batch_size),
            "validation_split": validation_split if isinstance(validation_split, Expr) else float(validation_split),
            "optimizer": optimizer,
            "learning_rate": self.learning_rate,
            "loss": loss,
            "metrics": train.metrics,
            "callbacks": train.callbacks,
            "class_weight": train.class_weight,
            "shuffle": train.shuffle,
        }
