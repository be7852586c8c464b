"""`netdsl lsp`: the language server for editors (LSP over stdin and stdout; `editor/server.py`)."""

from __future__ import annotations


def register(commands) -> None:
    lsp = commands.add_parser(
        "lsp", help="language server for editors (LSP over stdio): diagnostics, hover, shapes, completion",
        description="Speak the Language Server Protocol over stdin and stdout, for an editor to start "
        "(README: 'In your editor'). It reads .net files as `check` and `show` do; it never imports TensorFlow.",
    )
    # Many clients add `--stdio` to the command they are given; stdio is the only transport here.
    lsp.add_argument("--stdio", action="store_true", help="talk over stdin and stdout (the default; accepted for clients that add it)")
    lsp.set_defaults(run=run)


def run(args) -> int:
    from netdsl.editor.server import serve

    serve()
    return 0
