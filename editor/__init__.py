"""Editor support for `.net` files: a language server (`netdsl lsp`), a Pygments lexer and, in
`editor/vscode/`, a TextMate grammar and a VS Code extension.

Nothing here imports TensorFlow: the server answers from the same parser and analysis as
`netdsl check` and `netdsl show`.
"""
