"""Shape rules of the recurrent layers (`simple_rnn`, `lstm`, `gru`) and of `bidirectional`."""

from __future__ import annotations

from ..context import Context, Out, Tensor
from ..symbolic import known
from .common import GATES, need_rank

def _rnn_weights(layer, features):
    """Keras's counts: gates * (in*units + units*units) weights, gates * units biases (doubled for
    a GRU with reset_after, which has separate input and recurrent biases)."""
    gates, units = GATES[layer.kind], layer.units
    bias = gates * units * (2 if layer.kind == "gru" and layer.reset_after else 1) if layer.use_bias else 0
    return gates * (features * units + units * units) + bias


def _recurrent(layer, x: Tensor, ctx: Context) -> Out:
    """SimpleRNN/LSTM/GRU read (steps, features); output (units), or (steps, units) with
    return_sequences."""
    need_rank(x, 2, ctx, "steps, features")
    steps, features = x.shape
    _check_unroll(layer, steps, ctx)
    shape = (steps, layer.units) if layer.return_sequences else (layer.units,)
    return Out(shape, _rnn_weights(layer, features), field=None)


def _check_unroll(layer, steps, ctx: Context, where: str | tuple = "unroll") -> None:
    """Keras unrolls a loop only over a known number of steps."""
    if layer.unroll is True and not known(steps):
        ctx.note("N308", "`unroll=true` needs a known number of steps", arg=where,
                 help="the sequence's length is known only at fit: fix it (`output_sequence_length=...` on "
                 "`text_vectorization`), or drop `unroll`")


def _bidirectional(layer, x: Tensor, ctx: Context) -> Out:
    """Two copies of the recurrent layer (twice the weights); `concat` joins their features, the
    other merge modes keep the size."""
    inner = layer.layer
    need_rank(x, 2, ctx, "steps, features")
    steps, features = x.shape
    _check_unroll(inner, steps, ctx, ("layer", inner.kind, "unroll"))
    if inner.go_backwards is True:
        ctx.note("N312", "`go_backwards=true` inside `bidirectional`", arg=("layer", inner.kind, "go_backwards"),
                 help="`bidirectional` runs the layer forwards and makes the backward copy itself: drop `go_backwards`")
    units = inner.units * 2 if layer.merge_mode == "concat" else inner.units
    shape = (steps, units) if inner.return_sequences else (units,)
    return Out(shape, 2 * _rnn_weights(inner, features), field=None)


RULES = {
    "simple_rnn": _recurrent,
    "lstm": _recurrent,
    "gru": _recurrent,
    "bidirectional": _bidirectional,
}
