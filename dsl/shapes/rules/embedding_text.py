"""Shape rules of the text layers: `text_vectorization` (raw strings to tokens or one vector per
text) and `embedding` (integer ids to vectors, possibly pretrained ones read from a file)."""

from __future__ import annotations

from ..context import Context, Out, Problem, Tensor
from ..symbolic import Sym, known
from ..text import shape_text
from .common import array_shape

def _embedding(layer, x: Tensor, ctx: Context) -> Out:
    """A lookup table of input_dim vectors: adds an axis of output_dim. It needs integer ids: the
    raw input or text_vectorization's tokens (flatten/reshape keep them); floats are an error."""
    if x.dtype == "float":
        ctx.note(
            "N310", f"`embedding` needs integer tokens, but {x.made_by} outputs floats",
            help="put `embedding` right after `text_vectorization(...)` (with output_mode=int), "
            "or first, on an input of integer ids",
        )
    if x.dtype == "tokens" and x.vocabulary is None:
        ctx.note(
            "N311", f"`embedding` reads tokens from a vocabulary of any size, but looks up only {layer.input_dim} of them",
            help=f"`text_vectorization` learns its vocabulary at fit, as large as the texts make it: give it "
            f"`max_tokens={layer.input_dim}` (or less)", arg="input_dim",
        )
    elif x.dtype == "tokens" and known(x.vocabulary, layer.input_dim) and x.vocabulary > layer.input_dim:
        ctx.note(
            "N311", f"`embedding` looks up {layer.input_dim} tokens, but `text_vectorization` makes up to {x.vocabulary} "
            f"(`max_tokens={x.vocabulary}`)",
            help=f"give `input_dim` at least {x.vocabulary}, or `max_tokens={layer.input_dim}`", arg="input_dim",
        )
    literal = array_shape(layer.embeddings_initializer)
    expected = (layer.input_dim, layer.output_dim)
    if literal is not None and literal != expected and known(*expected):
        ctx.note(
            "N306", f"the literal `embeddings_initializer` has shape {shape_text(literal) if literal != 'ragged' else '(ragged)'}, "
            f"but `embedding` has {shape_text(expected)} vectors",
            help=f"give {layer.input_dim} rows (one per token) of {layer.output_dim} numbers", arg="embeddings_initializer",
        )
    if layer.embeddings is not None:
        _check_vectors(layer, x, ctx)
    return Out(x.shape + (layer.output_dim,), layer.input_dim * layer.output_dim, field=None)


def _check_vectors(layer, x: Tensor, ctx: Context) -> None:
    """`embeddings=`: the vectors are matched to text_vectorization's vocabulary, so the ids must be
    its tokens; the file must exist and hold vectors of output_dim numbers (read from its first lines)."""
    from ...vectors import static_problem

    if x.dtype == "raw":
        ctx.note(
            "N612", "`embeddings=` needs a `text_vectorization` before this embedding",
            help="pretrained vectors are matched to the words of the vocabulary `text_vectorization` learns at fit; "
            "on other integer ids they would mean nothing: read `input text` with `text_vectorization(...)` first, "
            "or drop `embeddings=`",
            arg="embeddings",
        )
    if isinstance(layer.embeddings_initializer, list):
        ctx.note(
            "N612", "`embeddings=` and a literal `embeddings_initializer` both give the vectors",
            help="keep one of the two",
            arg="embeddings",
        )
    if isinstance(layer.embeddings, str):
        problem = static_problem(layer.embeddings, ctx.filename, layer.output_dim if known(layer.output_dim) else None)
        if problem is not None:
            title, help, code = problem
            ctx.note(code, title, help, arg="embeddings")


def _text_vectorization(layer, x: Tensor, ctx: Context) -> Out:
    """Raw strings -> `int`: a token sequence of output_sequence_length (symbolic `steps` when not
    fixed); the other modes: one vector per text, as long as the vocabulary learned by `adapt`
    (symbolic `vocabulary_size`: Keras pads it to max_tokens only with pad_to_max_tokens, which
    the language does not have). No weights: the vocabulary is a lookup table, not trained."""
    if x.dtype != "string":
        if not ctx.text_input:
            problem = Problem(
                "N307", "`text_vectorization` needs `input text`",
                help="it turns raw strings into tokens: declare `input text` (one string per sample), "
                "or drop it for numeric inputs",
            )
            problem.about_input = True
            raise problem
        raise Problem(
            "N307", "`text_vectorization` must be the first layer",
            help=f"it reads raw strings, but its input comes from {ctx.source}; keep one `text_vectorization`, first",
        )
    if layer.split is None:
        ctx.note("N312", "`split=none` is not supported", arg="split",
                 help="netdsl reads one string per sample and splits it into tokens: use `whitespace` (the default) or `character`")
    smallest = 3 if layer.output_mode == "int" else 2  # room for a word beside the padding and out-of-vocabulary tokens
    if known(layer.max_tokens) and layer.max_tokens < smallest:
        ctx.note("N312", f"`max_tokens={layer.max_tokens}` leaves no room for a word", arg="max_tokens",
                 help=f"the vocabulary holds {'the padding token, ' if smallest == 3 else ''}the out-of-vocabulary token "
                 f"and then words: give at least {smallest}, or leave it out for no limit")
    if layer.output_mode != "int" and layer.output_sequence_length is not None:
        ctx.note("N312", "`output_sequence_length` needs `output_mode=int`", arg="output_sequence_length",
                 help=f"with `output_mode={layer.output_mode}` each text is one vector, not a sequence: drop it")
    if layer.output_mode == "int":
        length = layer.output_sequence_length if layer.output_sequence_length is not None else Sym("steps")
        return Out((length,), field=None, dtype="tokens")
    return Out((Sym("vocabulary_size"),), field=None)


RULES = {
    "embedding": _embedding,
    "text_vectorization": _text_vectorization,
}
